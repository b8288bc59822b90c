#pragma once
// The HTTP API's front door: finds the route in the table (route_table.hpp), decides from the
// header alone whether the request may go on (admit: transport, caller, rate limits, body
// limit; docs/SECURITY.md), checks the caller again for the handler and hands the call to the
// area's handler. Knows nothing of Beast or Asio.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "api/handler.hpp"
#include "api/rate_limiter.hpp"

namespace revive::server {

class Api {
 public:
  Api(Services& services, ImageStore& store, Metrics& metrics,
      std::function<void(const std::string& key)> notify, ApiOptions opts = {});

  /// Decides a request from its header, before any of its body is read: operator routes
  /// answer only over HTTPS or to this machine (403), callers without the route's credentials
  /// get 401, public routes that cost a transaction or a password hash are rate limited per
  /// address and overall (429 with Retry-After), and the admission says how large a body the
  /// route takes (uploads: streamed to their handler, after their name is checked).
  HeaderVerdict admit(const Request& req);

  /// Answers one request (admitted by admit()); sets `label` to its metrics label (the route's
  /// pattern, or "unauthorized", "unknown", "https_required", "login_throttled",
  /// "csrf_refused" (a cookie-borne change from another site or without its CSRF token),
  /// "other").
  Response handle(Request& req, std::string& label);

  /// Where the listeners were bound (known only after the Api is made), for the answer that
  /// sends operators to HTTPS and the kiosk link a TV opens over plain HTTP.
  void set_ports(std::uint16_t plain, std::uint16_t tls) {
    ctx_.opts.plain_port = plain;
    ctx_.opts.tls_port = tls;
  }
  /// How a revocation reaches the open event streams (the HTTP server, made after the Api).
  void set_recheck_streams(std::function<void()> f) { ctx_.recheck_streams = std::move(f); }

 private:
  struct Caller {
    std::int64_t device = 0;    ///< Access::agent: the calling device
    std::string operator_name;  ///< Access::operator_: the calling operator
  };
  /// Who calls `m` (or an unmatched path when `m` is null), or the answer that refuses the
  /// request (setting `label`); without a refusal `m` is a route.
  std::optional<Response> check_caller(const Request& req, const RouteMatch* m, Caller& caller,
                                       std::string& label);
  /// 429 when the request's rate group is out of tokens for its address or overall.
  std::optional<Response> rate_limit(const Request& req, RouteId id);
  /// 403 naming the HTTPS URL; for the operator pages (`page`), a 303 redirect there.
  Response https_required(const Request& req, bool page = false) const;
  Result<std::int64_t> agent_of(const Request& req, const std::string& id_text);
  Result<std::string> operator_of(const Request& req);

  ApiContext ctx_;
  HandlerTable handlers_;
  std::map<int, RateLimiter> limiters_;  // by RateGroup
};

}  // namespace revive::server
