#include "api/browser_session.hpp"

#include "domain/csrf.hpp"

namespace revive::server {

namespace {
std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}
}  // namespace

std::string cookie_value(const Request& req, std::string_view name) {
  const std::string header = req.header("cookie");
  std::string_view rest = header;
  // A header of a hundred cookies is already odd; the bound keeps a hostile one cheap.
  for (int i = 0; i < 100 && !rest.empty(); ++i) {
    const auto semi = rest.find(';');
    const std::string_view pair = trim(rest.substr(0, semi));
    rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
    const auto eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name)
      return std::string(pair.substr(eq + 1));
  }
  return {};
}

bool same_origin(const Request& req) {
  const std::string origin = req.header("origin");
  if (!origin.empty()) {
    const std::string host = req.header("host");
    return !host.empty() && origin == (req.tls ? "https://" : "http://") + host;
  }
  const std::string site = req.header("sec-fetch-site");
  return site.empty() || site == "same-origin" || site == "none";
}

bool state_changing(std::string_view method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

std::string session_cookie(std::string_view token, Seconds max_age_s, bool secure) {
  // SameSite=Strict: no other site's page makes the browser send it; HttpOnly: no script of
  // ours reads it; Path=/: the pages and the API they call.
  return std::string(kSessionCookie) + "=" + std::string(token) +
         "; Path=/; Max-Age=" + std::to_string(max_age_s) + "; HttpOnly; SameSite=Strict" +
         (secure ? "; Secure" : "");
}

std::string cleared_session_cookie(bool secure) { return session_cookie("", 0, secure); }

Result<std::string> browser_operator(Operators& operators, const Request& req) {
  const std::string token = cookie_value(req, kSessionCookie);
  if (token.empty())
    return make_error(Errc::unauthorized,
                      "operator token required (Authorization: Bearer ...; see `revivectl "
                      "login`), or log in on the operator pages (/ui)");
  REVIVE_ASSIGN(name, operators.authenticate_browser(token));
  if (state_changing(req.method)) {
    if (!same_origin(req))
      return make_error(Errc::forbidden, "cross-site request refused (Origin " +
                                             req.header("origin").substr(0, 100) + ")");
    if (!csrf_matches(token, req.header(std::string(kCsrfHeader))))
      return make_error(Errc::forbidden,
                        "missing or wrong CSRF token (X-CSRF-Token): reload the page");
  }
  return name;
}

}  // namespace revive::server
