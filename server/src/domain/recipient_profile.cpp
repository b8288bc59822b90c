#include "domain/recipient_profile.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <string_view>

#include "revive/first_user.hpp"

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

// {name, full_name}, checked as the agent checks it (revive/first_user). An empty name leaves
// the first user out: the recipient then makes the account at first boot.
Result<std::optional<Json>> check_first_user_field(const Json& value) {
  if (!value.is_object()) return field_error("first_user", "must be an object {name, full_name}");
  std::string name, full_name;
  for (const auto& [key, v] : value.items()) {
    if (key != "name" && key != "full_name")
      return field_error("first_user." + key, "not a field of the first user (name, full_name)");
    if (!v.is_string()) return field_error("first_user." + key, "must be text");
    (key == "name" ? name : full_name) = v.get<std::string>();
  }
  if (name.empty()) {
    if (!full_name.empty())
      return field_error("first_user.name",
                         "needed with a full name (leave both empty for no first user)");
    return std::optional<Json>();
  }
  REVIVE_TRY(check_first_user(name, full_name));
  Json user = {{"name", name}};
  if (!full_name.empty()) user["full_name"] = full_name;
  return std::optional<Json>(std::move(user));
}

}  // namespace

Result<Json> check_recipient_profile(const Json& profile) {
  if (!profile.is_object()) return field_error("profile", "must be an object");
  Json out = Json::object();
  for (const auto& [key, value] : profile.items()) {
    if (key == "first_user") {
      auto user = check_first_user_field(value);
      if (!user) return user.error();
      if (*user) out[key] = std::move(**user);
      continue;
    }
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
