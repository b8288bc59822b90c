#pragma once
// ServerApi over HTTP: one keep-alive connection (the shared client), the protocol's paths and
// codec, and the agent's retry policy: transport errors and 5xx are retried with backoff and
// jitter until they succeed or the agent is stopped (the server may be restarting); 4xx
// answers come back at once as typed errors.

#include <atomic>
#include <functional>
#include <mutex>
#include <string>

#include "revive/agent/server_api.hpp"
#include "revive/http_client.hpp"
#include "revive/http_retry.hpp"

namespace revive::agent {

struct HttpServerApiOptions {
  std::string server;  ///< http://host:port
  /// Gets one line per retry ("server unreachable (...); retrying in 4 s").
  std::function<void(const std::string&)> log;
  /// Told false when a call is retried (the server is away or failing) and true when a call
  /// got an answer: the laptop's screen shows "looking for the server..." meanwhile.
  std::function<void(bool reachable)> reachability;
  const std::atomic<bool>* stop = nullptr;
  http::BackoffOptions backoff;
};

/// Thread-safe: calls are serialised on the one connection (deploy reports progress and
/// checkpoints from its own thread), except relay reports, which have their own connection so
/// that a long-poll for the next step does not hold them up.
class HttpServerApi : public ServerApi {
 public:
  explicit HttpServerApi(HttpServerApiOptions o);

  Result<protocol::EnrolResponse> enrol(const protocol::EnrolRequest& r) override;
  Result<NextAnswer> next(std::chrono::seconds wait, const std::string& nonce) override;
  Result<protocol::ProgressAck> progress(const protocol::ProgressReport& r) override;
  Result<protocol::RelayAck> relay(const protocol::RelayReport& r) override;
  Result<void> checkpoint(std::int64_t step, const protocol::CheckpointReport& r) override;
  Result<protocol::ResultAck> result(std::int64_t step,
                                     const protocol::StepResultReport& r) override;
  Result<void> events(const protocol::EventsReport& r) override;
  Result<std::vector<protocol::CertificateSummary>> certificates() override;
  Result<std::string> manifest_text(const std::string& image) override;
  std::vector<std::string> credentials() const override;

 private:
  /// The answer to one call, retried while worth it; a non-2xx answer as a typed error.
  /// `last_try`, when given, gets the time the answered attempt was sent.
  Result<http::Response> call(const std::string& method, const std::string& path,
                              const std::string& body, std::chrono::seconds timeout,
                              std::chrono::steady_clock::time_point* last_try = nullptr);
  Result<http::Response> post(const std::string& path, const protocol::Json& body,
                              std::chrono::seconds timeout = std::chrono::seconds(30));
  Result<std::int64_t> device() const;

  HttpServerApiOptions opts_;
  std::mutex mu_;
  http::Connection conn_;
  std::int64_t device_id_ = 0;
  std::string token_;
  std::mutex session_mu_;  // device_id_ and token_ for relay(), which does not take mu_
  std::mutex relay_mu_;
  http::Connection relay_conn_;
};

/// The error for a non-2xx answer: the kind from the status (401 unauthorized, 404 not_found,
/// 409 conflict, 400/413 invalid_input, else internal), the message
/// "server answered 409: <the server's error>".
Error status_error(const http::Response& r);

}  // namespace revive::agent
