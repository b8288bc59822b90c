#include "revive/http_range.hpp"

#include <algorithm>
#include <charconv>

namespace revive {

std::optional<ByteRange> parse_range(std::string_view h, std::uint64_t size) {
  constexpr std::string_view kPrefix = "bytes=";
  if (!h.starts_with(kPrefix)) return std::nullopt;
  h.remove_prefix(kPrefix.size());
  if (h.find(',') != std::string_view::npos) return std::nullopt;  // multi-range: send it all
  const auto dash = h.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto num = [](std::string_view s, std::uint64_t& v) {
    if (s.empty()) return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ec == std::errc() && p == s.data() + s.size();
  };
  std::uint64_t a = 0, b = 0;
  const std::string_view first = h.substr(0, dash), last = h.substr(dash + 1);
  if (first.empty()) {  // suffix: last n bytes
    if (!num(last, b)) return std::nullopt;
    if (b == 0 || size == 0) return ByteRange{0, 0, false};
    const std::uint64_t n = std::min(b, size);
    return ByteRange{size - n, n, true};
  }
  if (!num(first, a)) return std::nullopt;
  if (a >= size) return ByteRange{0, 0, false};
  if (last.empty()) return ByteRange{a, size - a, true};
  if (!num(last, b) || b < a) return std::nullopt;
  return ByteRange{a, std::min(b, size - 1) - a + 1, true};
}

}  // namespace revive
