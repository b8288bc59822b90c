#pragma once
// The HTTP API's front door: finds the route in the table (route_table.hpp), checks who may
// call it, and hands the call to the area's handler. Knows nothing of Beast or Asio.

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "api/handler.hpp"

namespace revive::server {

class Api {
 public:
  Api(Services& services, ImageStore& store, Metrics& metrics,
      std::function<void(const std::string& key)> notify, ApiOptions opts = {});

  /// Answers one request; sets `label` to its metrics label (the route's pattern, or
  /// "unauthorized", "unknown", "login_throttled", "other").
  Response handle(Request& req, std::string& label);

  /// Which requests are uploads (their bodies are spooled to a file, not memory).
  static bool is_upload(const Request& req);
  /// Refuses an upload from its header alone (no operator token, bad name) before any byte
  /// of the body is spooled to disk.
  std::optional<Response> upload_precheck(const Request& req);

 private:
  Result<std::int64_t> agent_of(const Request& req, const std::string& id_text);
  bool any_token(const Request& req);
  Result<std::string> operator_of(const Request& req);

  ApiContext ctx_;
  HandlerTable handlers_;
};

}  // namespace revive::server
