#pragma once
// The agent's view of its server (docs/agent-protocol.md), as typed messages. The runner talks
// only to this interface: HttpServerApi (http_server_api.hpp) on a laptop, a fake in tests.
//
// A session: enrol() gives the device id and token that every later call uses. Errors carry
// the kind the runner acts on: unauthorized (401: the token is no longer valid, enrol again),
// cancelled (the agent is stopping), conflict (409: the step is no longer running),
// not_found, invalid_input (400/413, or an answer that does not decode), internal (any other
// status). Transport errors and 5xx are the implementation's to retry, not the caller's.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "revive/error.hpp"
#include "revive/protocol.hpp"

namespace revive::agent {

/// A step the server handed out whose kind this agent does not know (a newer server). The
/// runner reports it failed, naming the kind, and never runs or acknowledges it as done.
struct UnknownStep {
  std::int64_t id = 0;
  std::int64_t attempt = 0;
  std::string kind;
};

/// The answer to next as the agent sees it: the protocol's answer, or, when the step's kind is
/// unknown, `unknown_step` (then `next.state` is step and `next.step` is empty).
struct NextAnswer {
  protocol::NextResponse next;
  std::optional<UnknownStep> unknown_step;
};

class ServerApi {
 public:
  virtual ~ServerApi() = default;

  /// Enrols this laptop and starts the session (device id + token for every later call);
  /// unauthorized when the server refuses the boot token, cancelled when stopping.
  virtual Result<protocol::EnrolResponse> enrol(const protocol::EnrolRequest& r) = 0;
  /// The next thing to do, waiting up to `wait` for it (long-poll); unauthorized when the
  /// session's token is no longer valid.
  virtual Result<NextAnswer> next(std::chrono::seconds wait) = 0;
  /// Reports progress of the running step (also proves the agent alive); errors as above.
  virtual Result<void> progress(const protocol::ProgressReport& r) = 0;
  /// Records where a running step has got to; conflict unless `step`'s attempt is running.
  virtual Result<void> checkpoint(std::int64_t step, const protocol::CheckpointReport& r) = 0;
  /// Posts a step's result; the ack says recorded or duplicate (sent before). conflict when
  /// the step is no longer running or the attempt is old.
  virtual Result<protocol::ResultAck> result(std::int64_t step,
                                             const protocol::StepResultReport& r) = 0;
  /// Appends events to the device's event log; invalid_input past protocol::kMaxEvents.
  virtual Result<void> events(const protocol::EventsReport& r) = 0;
  /// This device's certificates, newest first; errors as above.
  virtual Result<std::vector<protocol::CertificateSummary>> certificates() = 0;
  /// The signed manifest file of `image` exactly as served (its signature is checked on these
  /// bytes); not_found for an unknown image.
  virtual Result<std::string> manifest_text(const std::string& image) = 0;
};

}  // namespace revive::agent
