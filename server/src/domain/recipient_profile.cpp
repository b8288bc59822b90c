#include "domain/recipient_profile.hpp"

#include <algorithm>
#include <array>
#include <string_view>

namespace revive::server {

namespace {

Error field_error(const std::string& field, const std::string& why) {
  return make_error(Errc::invalid_input, "profile field \"" + field + "\": " + why);
}

// These go into shell-like configuration files on the recipient's disk.
bool safe_value(std::string_view v) {
  return std::none_of(v.begin(), v.end(), [](char c) {
    return c == '"' || c == '\'' || c == '\\' || c == '\n' || c == '\r' || c == '$' || c == '`';
  });
}

struct Field {
  std::string_view name;
  std::size_t max;
  bool free_text;  ///< shown to the recipient, never written into a configuration file
};
constexpr std::array<Field, 7> kFields = {{{"hostname", 63, false},
                                           {"locale", 64, false},
                                           {"keyboard", 64, false},
                                           {"timezone", 64, false},
                                           {"windows_timezone", 128, false},
                                           {"welcome_title", 200, true},
                                           {"welcome_text", 8000, true}}};

Result<void> check_value(const std::string& key, const std::string& v) {
  if (key == "locale" && v.find(' ') != std::string::npos)
    return field_error(key, "like nl_NL.UTF-8");
  if (key == "timezone" && (v.front() == '/' || v.find("..") != std::string::npos))
    return field_error(key, "an IANA name like Europe/Amsterdam");
  return {};
}

}  // namespace

Result<Json> check_recipient_profile(const Json& profile) {
  if (!profile.is_object()) return field_error("profile", "must be an object");
  Json out = Json::object();
  for (const auto& [key, value] : profile.items()) {
    const auto* f = std::find_if(kFields.begin(), kFields.end(),
                                 [&key = key](const Field& x) { return x.name == key; });
    if (f == kFields.end()) {
      return field_error(key, key == "wifi" ? "Revive does not store network keys"
                                            : "not a field the batches page sets");
    }
    if (!value.is_string()) return field_error(key, "must be text");
    const auto text = value.get<std::string>();
    if (text.empty()) continue;
    if (text.size() > f->max)
      return field_error(key, "at most " + std::to_string(f->max) + " characters");
    if (!f->free_text && !safe_value(text))
      return field_error(key, "quotes, backslashes, '$', '`' and newlines are not allowed");
    REVIVE_TRY(check_value(key, text));
    out[key] = text;
  }
  return out;
}

}  // namespace revive::server
