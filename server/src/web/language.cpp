#include "web/language.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <vector>

namespace revive::server::web {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The weight of one entry's parameters ("q=0.8"); 1 without one, -1 when malformed.
double weight_of(std::string_view params) {
  double q = 1.0;
  while (!params.empty()) {
    const auto semi = params.find(';');
    const std::string_view p = trim(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view() : params.substr(semi + 1);
    if (p.size() < 2 || (p[0] != 'q' && p[0] != 'Q') || p[1] != '=') continue;
    const std::string_view v = p.substr(2);
    // from_chars for double is in GCC 12's libstdc++; q has at most three decimals.
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), q);
    if (ec != std::errc() || end != v.data() + v.size() || q < 0 || q > 1) return -1;
  }
  return q;
}

struct Entry {
  std::string tag;
  double q;
};

}  // namespace

std::span<const std::string_view> wall_languages() {
  static constexpr std::array<std::string_view, 3> kLanguages = {"en", "nl", "fr"};
  return kLanguages;
}

std::string choose_language(std::string_view chosen, std::string_view accept_language,
                            std::span<const std::string_view> available) {
  if (available.empty()) return "";
  const std::string pick = lower(trim(chosen));
  for (auto a : available)
    if (pick == a) return std::string(a);
  std::vector<Entry> entries;
  for (std::size_t i = 0; i < 64 && !accept_language.empty(); ++i) {  // a header is short
    const auto comma = accept_language.find(',');
    const std::string_view item = accept_language.substr(0, comma);
    accept_language =
        comma == std::string_view::npos ? std::string_view() : accept_language.substr(comma + 1);
    const auto semi = item.find(';');
    const std::string tag = lower(trim(item.substr(0, semi)));
    const double q = semi == std::string_view::npos ? 1.0 : weight_of(item.substr(semi + 1));
    if (tag.empty() || q <= 0) continue;
    entries.push_back({tag, q});
  }
  std::stable_sort(entries.begin(), entries.end(),
                   [](const Entry& a, const Entry& b) { return a.q > b.q; });
  for (const auto& e : entries) {
    const std::string primary = e.tag.substr(0, e.tag.find('-'));
    for (auto a : available)
      if (primary == a) return std::string(a);
  }
  return std::string(available.front());
}

}  // namespace revive::server::web
