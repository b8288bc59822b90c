#pragma once
// The agent's side of the agent protocol (docs/agent-protocol.md) over libcurl, one keep-alive
// connection. Transport errors and 5xx answers are retried with exponential backoff and
// jitter (the server may be restarting); 4xx answers are returned as errors at once.

#include <nlohmann/json.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "revive/error.hpp"

namespace revive::agent {

using Json = nlohmann::json;

struct HttpAnswer {
  long status = 0;
  Json body;
  std::string raw;  ///< the body as received (signed documents are checked on these bytes)
};

class AgentClient {
 public:
  /// `log` gets one line per retry ("server unreachable, retrying in 4 s").
  AgentClient(std::string server, std::function<void(const std::string&)> log,
              const std::atomic<bool>* stop);
  ~AgentClient();
  AgentClient(const AgentClient&) = delete;
  AgentClient& operator=(const AgentClient&) = delete;

  /// POSTs JSON; retries transport errors and 5xx until `stop`; returns the answer (any
  /// status < 500) or cancelled. `timeout_s` bounds one attempt (long-polls need more).
  Result<HttpAnswer> post(const std::string& path, const Json& body, long timeout_s = 30);
  /// GET with the same retry rules.
  Result<HttpAnswer> get(const std::string& path, long timeout_s = 60);

  void set_token(std::string token) { token_ = std::move(token); }
  const std::string& server() const { return server_; }

 private:
  std::string server_;
  std::string token_;
  std::function<void(const std::string&)> log_;
  const std::atomic<bool>* stop_;
  Result<HttpAnswer> request(bool post, const std::string& path, const std::string& payload,
                             long timeout_s);
  void* curl_;
};

}  // namespace revive::agent
