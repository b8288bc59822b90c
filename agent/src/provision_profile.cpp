// The recipient profile: parsing it from step parameters, expanding the hostname pattern, and
// the welcome document it describes.

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <map>

#include "provision_internal.hpp"
#include "revive/agent/provision.hpp"
#include "revive/first_user.hpp"

namespace revive::agent {

using Json = nlohmann::json;

Error profile_field_error(const std::string& field, const std::string& why) {
  return make_error(Errc::invalid_input, "profile field \"" + field + "\": " + why);
}

namespace {

Result<std::string> text_field(const Json& j, const char* key, std::string fallback) {
  if (!j.contains(key)) return fallback;
  if (!j[key].is_string()) return profile_field_error(key, "must be a string");
  return j[key].get<std::string>();
}

bool safe_value(
    const std::string& v) {  // goes into shell-like config files: no quotes, no newlines
  return std::none_of(v.begin(), v.end(), [](char c) {
    return c == '"' || c == '\'' || c == '\\' || c == '\n' || c == '$' || c == '`';
  });
}

// The same check the server applies when an operator sets the first user (revive/first_user).
Result<FirstUser> parse_first_user(const Json& u) {
  if (!u.is_object() || !u.contains("name") || !u["name"].is_string())
    return profile_field_error("first_user", "needs a \"name\"");
  if (u.contains("full_name") && !u["full_name"].is_string())
    return profile_field_error("first_user.full_name", "must be a string");
  FirstUser user{u["name"].get<std::string>(), u.value("full_name", std::string())};
  REVIVE_TRY(check_first_user(user.name, user.full_name));
  return user;
}

Result<Profile::File> parse_file(const Json& f) {
  if (!f.is_object() || !f.contains("path") || !f["path"].is_string() || !f.contains("content") ||
      !f["content"].is_string()) {
    return profile_field_error("files", "each entry needs a string \"path\" and \"content\"");
  }
  if (f.contains("mode") && (!f["mode"].is_number_integer() || f["mode"].get<long long>() < 0))
    return profile_field_error("files", "each \"mode\" must be a non-negative integer");
  Profile::File file{f["path"], f["content"], f.value("mode", 0644u)};
  if (file.path.empty() || file.path[0] != '/')
    return profile_field_error("files", "path " + file.path + " is not absolute");
  if (file.mode > 07777)
    return profile_field_error("files", "mode of " + file.path + " is not a permission mode");
  // A setuid/setgid file placed by whoever can hand out jobs would be root on every
  // recipient's machine: no workshop profile needs one, so it is refused outright.
  if ((file.mode & (S_ISUID | S_ISGID)) != 0) {
    return profile_field_error("files", "mode of " + file.path +
                                            " sets setuid/setgid bits (refused: provisioning "
                                            "never installs privileged programs)");
  }
  return file;
}

}  // namespace

Result<Profile> parse_profile(const Json& params) {
  Profile p;
  const Json j = params.contains("profile") ? params["profile"] : Json::object();
  if (!j.is_object()) return profile_field_error("profile", "must be an object");
  auto get = [&](const char* key, std::string& into) -> Result<void> {
    auto v = text_field(j, key, into);
    if (!v) return v.error();
    if (!safe_value(*v))
      return profile_field_error(key, "quotes, backslashes, '$', '`' and newlines are not allowed");
    into = *v;
    return {};
  };
  REVIVE_TRY(get("hostname", p.hostname));
  REVIVE_TRY(get("locale", p.locale));
  REVIVE_TRY(get("keyboard", p.keyboard));
  REVIVE_TRY(get("timezone", p.timezone));
  REVIVE_TRY(get("windows_timezone", p.windows_timezone));
  auto wt = text_field(j, "welcome_title", p.welcome_title);
  if (!wt) return wt.error();
  p.welcome_title = *wt;
  auto wx = text_field(j, "welcome_text", p.welcome_text);
  if (!wx) return wx.error();
  p.welcome_text = *wx;
  if (p.locale.empty() || p.locale.find(' ') != std::string::npos)
    return profile_field_error("locale", "like nl_NL.UTF-8");
  if (p.timezone.empty() || p.timezone.find("..") != std::string::npos || p.timezone[0] == '/') {
    return profile_field_error("timezone", "an IANA name like Europe/Amsterdam");
  }
  if (j.contains("wifi"))
    return profile_field_error(
        "wifi", "Wi-Fi is left for the recipient to set up; Revive does not store network keys");
  if (j.contains("first_user")) {
    auto user = parse_first_user(j["first_user"]);
    if (!user) return user.error();
    p.first_user = *user;
  }
  if (j.contains("files")) {
    if (!j["files"].is_array() || j["files"].size() > 256)
      return profile_field_error("files", "an array of at most 256 {path, content, mode}");
    for (const auto& f : j["files"]) {
      auto file = parse_file(f);
      if (!file) return file.error();
      p.files.push_back(std::move(*file));
    }
  }
  return p;
}

Result<std::string> expand_hostname(const std::string& pattern, const DeviceFacts& f) {
  const std::map<std::string, std::string> vars = {
      {"serial", f.serial},
      {"asset_tag", f.asset_tag.empty() ? f.serial : f.asset_tag},
      {"vendor", f.vendor},
      {"device_id", std::to_string(f.device_id)}};
  std::string raw;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '{') {
      raw += pattern[i];
      continue;
    }
    const auto end = pattern.find('}', i);
    if (end == std::string::npos)
      return profile_field_error("hostname", "unclosed '{' in " + pattern);
    const auto it = vars.find(pattern.substr(i + 1, end - i - 1));
    if (it == vars.end())
      return profile_field_error("hostname",
                                 "unknown placeholder " + pattern.substr(i, end - i + 1) +
                                     " (known: {serial} {asset_tag} {vendor} {device_id})");
    raw += it->second;
    i = end;
  }
  std::string h;
  for (char c : raw) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u)) {
      h += static_cast<char>(std::tolower(u));
    } else if (!h.empty() && h.back() != '-') {
      h += '-';
    }
  }
  if (h.size() > 63) h.resize(63);
  while (!h.empty() && h.back() == '-') h.pop_back();
  if (h.empty())
    return profile_field_error("hostname",
                               "\"" + pattern + "\" gives an empty host name for this laptop");
  return h;
}

std::string welcome_document(const Profile& p, const std::string& hostname) {
  std::string t = p.welcome_title + "\n" + std::string(p.welcome_title.size(), '=') + "\n\n";
  if (!p.welcome_text.empty()) t += p.welcome_text + "\n\n";
  t += "This computer (" + hostname +
       ") was refurbished, securely wiped and installed by a Revive workshop.\n";
  t += "Wi-Fi is not set up yet: choose your network the first time you log in.\n";
  return t;
}

}  // namespace revive::agent
