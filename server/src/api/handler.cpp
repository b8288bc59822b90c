#include "api/handler.hpp"

#include <algorithm>
#include <charconv>

#include "revive/protocol.hpp"

namespace revive::server {

const std::string& Call::param(const std::string& name) const {
  static const std::string empty;
  auto it = params.find(name);
  return it == params.end() ? empty : it->second;
}

std::string Call::query(const std::string& name, const std::string& fallback) const {
  auto it = req.query.find(name);
  return it == req.query.end() ? fallback : it->second;
}

Response json_response(const Json& j, int status) {
  Response r;
  r.status = status;
  // Strings from a path or query are any bytes a client sent: invalid UTF-8 becomes U+FFFD
  // rather than an exception (a 500 for what is the client's mistake).
  r.body = j.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
  return r;
}

int http_status(Errc code) {
  switch (code) {
    case Errc::invalid_input:
      return 400;
    case Errc::unauthorized:
      return 401;
    case Errc::forbidden:
      return 403;
    case Errc::not_found:
      return 404;
    case Errc::already_exists:
    case Errc::conflict:
      return 409;
    case Errc::no_space:
      return 507;
    case Errc::busy:
      return 503;
    case Errc::bad_signature:
    case Errc::corrupt:
      return 422;
    default:
      return 500;
  }
}

Response from_error(const Error& e) {
  const int status = http_status(e.code);
  if (status != 500) return error_response(status, to_string(e.code), e.message);
  // A server fault's message names SQL, paths and library state: the log has it, the client
  // (anyone on the LAN) gets a reference to find it there.
  static std::uint64_t incidents = 0;
  const std::string ref = std::to_string(++incidents);
  Response r =
      error_response(500, "internal", "internal error (reference " + ref + " in the server's log)");
  r.log_detail = "internal error " + ref + ": " + e.message;
  return r;
}

Response ok_or_error(const Result<void>& r) {
  return r ? json_response({{"ok", true}}) : from_error(r.error());
}

Response reply(const Result<Json>& r, int status) {
  return r ? json_response(*r, status) : from_error(r.error());
}

std::optional<std::int64_t> parse_id(const std::string& s) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v <= 0) return std::nullopt;
  return v;
}

Result<Json> body_json(const Request& req) { return protocol::parse_object(req.body); }

std::string str(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<std::string> opt_str(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

bool plausible_host(const std::string& host) {
  return !host.empty() && host.size() < 100 &&
         std::all_of(host.begin(), host.end(), [](unsigned char c) {
           return std::isalnum(c) || c == '.' || c == ':' || c == '-' || c == '[' || c == ']';
         });
}

std::optional<std::string> request_host_name(const Request& req) {
  std::string host = req.header("host");
  if (!plausible_host(host)) return std::nullopt;
  if (const auto colon = host.rfind(':'); colon != std::string::npos && host.back() != ']')
    host.resize(colon);
  if (host.empty()) return std::nullopt;
  return host;
}

std::string bearer(const Request& req) {
  const std::string h = req.header("authorization");
  constexpr std::string_view kPrefix = "Bearer ";
  if (h.size() > kPrefix.size() && h.compare(0, kPrefix.size(), kPrefix) == 0)
    return h.substr(kPrefix.size());
  return {};
}

}  // namespace revive::server
