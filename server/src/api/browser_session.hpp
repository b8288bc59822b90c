#pragma once
// The operator pages' browser session on the HTTP side: the session cookie (HttpOnly,
// SameSite=Strict, Secure over TLS), and the checks a cookie-borne request passes before it
// may change anything: its Origin (or Sec-Fetch-Site) must be this server, and it must carry
// the session's CSRF token (domain/csrf.hpp) in X-CSRF-Token. Bearer tokens (revivectl,
// scripts) are not sent by a browser on its own, so they need neither.

#include <string>
#include <string_view>

#include "domain/operators.hpp"
#include "http/http_types.hpp"

namespace revive::server {

inline constexpr std::string_view kSessionCookie = "revive_session";
inline constexpr std::string_view kCsrfHeader = "x-csrf-token";

/// The value of cookie `name` in the request's Cookie header, or "".
std::string cookie_value(const Request& req, std::string_view name);
/// Whether the request comes from a page of this server: its Origin is this server's scheme
/// and Host; without an Origin, its Sec-Fetch-Site (when sent) is same-origin or none. A
/// request with neither is not from a browser's page (curl, revivectl) and passes.
bool same_origin(const Request& req);
/// Whether the method changes state (anything but GET, HEAD and OPTIONS).
bool state_changing(std::string_view method);
/// The Set-Cookie value that gives the browser its session for `max_age_s` seconds.
std::string session_cookie(std::string_view token, Seconds max_age_s, bool secure);
/// The Set-Cookie value that removes it.
std::string cleared_session_cookie(bool secure);
/// The operator of the request's session cookie: unauthorized without a valid browser
/// session; forbidden for a state-changing request from another site or without the session's
/// CSRF token.
Result<std::string> browser_operator(Operators& operators, const Request& req);

}  // namespace revive::server
