#include "http/http_types.hpp"

#include <nlohmann/json.hpp>

#include <cctype>
#include <charconv>

namespace revive::server {

Response error_response(int status, std::string_view code, std::string_view message) {
  Response r;
  r.status = status;
  // A message may quote the request (its path is any bytes a client sent): bytes that are not
  // UTF-8 become U+FFFD instead of making dump() throw and the 4xx a 500 (request_fuzz).
  r.body = nlohmann::json{{"error", std::string(message)}, {"code", std::string(code)}}.dump(
               -1, ' ', false, nlohmann::json::error_handler_t::replace) +
           "\n";
  return r;
}

bool match_route(std::string_view pattern, std::string_view path,
                 std::map<std::string, std::string>& params) {
  params.clear();
  while (!pattern.empty() || !path.empty()) {
    if (pattern.empty() || path.empty()) return false;
    if (pattern.front() != '/' || path.front() != '/') return false;
    pattern.remove_prefix(1);
    path.remove_prefix(1);
    const auto pe = pattern.find('/');
    const auto se = path.find('/');
    const std::string_view pseg = pattern.substr(0, pe);
    const std::string_view sseg = path.substr(0, se);
    if (pseg.size() >= 2 && pseg.front() == '{' && pseg.back() == '}') {
      if (sseg.empty()) return false;
      params[std::string(pseg.substr(1, pseg.size() - 2))] = std::string(sseg);
    } else if (pseg != sseg) {
      return false;
    }
    pattern.remove_prefix(pseg.size());
    path.remove_prefix(sseg.size());
  }
  return true;
}

std::string sse_message(std::string_view event, std::string_view data) {
  std::string msg = "event: ";
  for (char c : event) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-') msg += c;
  }
  msg += "\n";
  std::size_t pos = 0;
  for (;;) {
    const auto end = data.find_first_of("\r\n", pos);
    msg += "data: ";
    msg += data.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    msg += "\n";
    if (end == std::string_view::npos) break;
    pos = end + 1;
    if (data[end] == '\r' && pos < data.size() && data[pos] == '\n') ++pos;  // CRLF is one break
  }
  return msg + "\n";
}

std::string sse_retry(std::chrono::milliseconds delay) {
  return "retry: " + std::to_string(delay.count()) + "\n\n";
}

std::optional<std::string> url_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int v = 0;
      auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
      if (ec != std::errc() || p != s.data() + i + 3) return std::nullopt;
      c = static_cast<char>(v);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    }
    if (c == '\0') return std::nullopt;
    out += c;
  }
  return out;
}

std::map<std::string, std::string> parse_query(std::string_view q) {
  std::map<std::string, std::string> out;
  while (!q.empty()) {
    const auto amp = q.find('&');
    const std::string_view pair = q.substr(0, amp);
    q.remove_prefix(amp == std::string_view::npos ? q.size() : amp + 1);
    const auto eq = pair.find('=');
    auto k = url_decode(pair.substr(0, eq), true);
    auto v =
        url_decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), true);
    if (k && v && !k->empty()) out[*k] = *v;
  }
  return out;
}

bool is_local_peer(std::string_view peer) {
  return peer == "127.0.0.1" || peer == "::1" || peer == "::ffff:127.0.0.1";
}

}  // namespace revive::server
