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

/// The answer to next as the agent sees it. A step comes only as `next.job`, the signed job
/// text; the runner checks it (signed_job.hpp) before it acts on anything in it.
struct NextAnswer {
  protocol::NextResponse next;
  /// How long the answer took since the request left (the agent's monotonic clock): a job
  /// answering the request was signed no earlier than that, so its age is at most this.
  std::chrono::seconds age{0};
};

class ServerApi {
 public:
  virtual ~ServerApi() = default;

  /// Enrols this laptop and starts the session (device id + token for every later call);
  /// unauthorized when the server refuses the boot token, cancelled when stopping.
  virtual Result<protocol::EnrolResponse> enrol(const protocol::EnrolRequest& r) = 0;
  /// The next thing to do, waiting up to `wait` for it (long-poll); `nonce` goes with the
  /// request and a job answering it must carry it. unauthorized when the session's token is
  /// no longer valid.
  virtual Result<NextAnswer> next(std::chrono::seconds wait, const std::string& nonce) = 0;
  /// Reports progress of the running step (also proves the agent alive); the answer carries a
  /// deploy step's chunk source when the server plans it. Errors as above.
  virtual Result<protocol::ProgressAck> progress(const protocol::ProgressReport& r) = 0;
  /// Reports that this laptop still relays an image's chunks after its deploy step (about once
  /// a second, from the relay's own thread while other calls may be waiting); the answer says
  /// whether it may stop. One attempt, no retries: io when the server did not answer (the next
  /// report tries again), not_found from a server without relays.
  virtual Result<protocol::RelayAck> relay(const protocol::RelayReport& r) = 0;
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
  /// The headers that authenticate this agent's session, for requests made outside this
  /// interface (the image's chunk stream); empty before enrolment or without credentials.
  virtual std::vector<std::string> credentials() const { return {}; }
};

}  // namespace revive::agent
