#pragma once
// The CSRF token of a browser session (the operator pages): derived from the session token, so
// the server stores nothing more and checks it without a lookup. The session token is 256
// random bits in an HttpOnly cookie a page's script never reads; a site that makes the browser
// send the cookie cannot read it, nor this token, which the page fetches from /ui/session
// (same-origin only: no CORS headers) and sends back in a header on every state change.

#include <string>
#include <string_view>

namespace revive::server {

/// The CSRF token of `session_token` (hex SHA-256 over a domain-separated input).
std::string csrf_token(std::string_view session_token);
/// Whether `presented` is the CSRF token of `session_token` (constant time; false when either
/// is empty).
bool csrf_matches(std::string_view session_token, std::string_view presented);

}  // namespace revive::server
