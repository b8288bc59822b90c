// Provisioning a sysprepped Windows image offline: the unattend.xml rendered from the profile
// (Windows' own names for time zones and input locales) and the welcome document.

#include <algorithm>
#include <map>

#include "confined_files.hpp"
#include "provision_internal.hpp"
#include "revive/agent/provision.hpp"

namespace revive::agent {

using Json = nlohmann::json;

namespace {

std::string xml_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&':
        o += "&amp;";
        break;
      case '<':
        o += "&lt;";
        break;
      case '>':
        o += "&gt;";
        break;
      case '"':
        o += "&quot;";
        break;
      case '\'':
        o += "&apos;";
        break;
      default:
        o += c;
    }
  }
  return o;
}

// The values unattend.xml needs, in Windows' terms.
struct WindowsSettings {
  std::string computer_name;  ///< at most 15 characters
  std::string time_zone;      ///< "W. Europe Standard Time"
  std::string input_locale;   ///< "0409:00000409"
  std::string language;       ///< "en-US"
};

Result<WindowsSettings> windows_settings(const Profile& p, const std::string& hostname) {
  // Windows wants its own names for time zones and a language tag for the locale.
  static const std::map<std::string, std::string> zones = {
      {"UTC", "UTC"},
      {"Etc/UTC", "UTC"},
      {"Europe/Amsterdam", "W. Europe Standard Time"},
      {"Europe/Berlin", "W. Europe Standard Time"},
      {"Europe/Brussels", "Romance Standard Time"},
      {"Europe/Paris", "Romance Standard Time"},
      {"Europe/London", "GMT Standard Time"},
      {"Europe/Dublin", "GMT Standard Time"},
      {"Europe/Lisbon", "GMT Standard Time"}};
  static const std::map<std::string, std::string> keyboards = {
      {"us", "0409:00000409"}, {"us:intl", "0409:00020409"}, {"nl", "0413:00020409"},
      {"be", "0813:00000813"}, {"de", "0407:00000407"},      {"fr", "040c:0000040c"},
      {"gb", "0809:00000809"}, {"es", "0c0a:0000040a"}};
  WindowsSettings w;
  w.time_zone = p.windows_timezone;
  if (w.time_zone.empty()) {
    const auto it = zones.find(p.timezone);
    if (it == zones.end())
      return profile_field_error("windows_timezone",
                                 "needed: no Windows name known for " + p.timezone);
    w.time_zone = it->second;
  }
  const auto kb = keyboards.find(p.keyboard);
  if (kb == keyboards.end())
    return profile_field_error("keyboard", "no Windows input locale known for " + p.keyboard);
  w.input_locale = kb->second;
  w.language = p.locale.substr(0, p.locale.find('.'));
  std::replace(w.language.begin(), w.language.end(), '_', '-');
  // Windows computer names stop at 15 characters.
  w.computer_name = hostname.substr(0, 15);
  while (w.computer_name.size() > 1 && w.computer_name.back() == '-') w.computer_name.pop_back();
  return w;
}

constexpr const char* kComponentAttributes =
    R"(processorArchitecture="amd64" publicKeyToken="31bf3856ad364e35" language="neutral" versionScope="nonSxS" xmlns:wcm="http://schemas.microsoft.com/WMIConfig/2002/State")";

std::string component_open(const std::string& name) {
  return "    <component name=\"" + name + "\" " + kComponentAttributes + ">\n";
}

// The account exists with an empty password; Windows asks the recipient to set one.
std::string first_user_accounts(const FirstUser& user) {
  if (user.name.empty()) return "";
  return "      <UserAccounts>\n        <LocalAccounts>\n          <LocalAccount "
         "wcm:action=\"add\">\n"
         "            <Name>" +
         xml_escape(user.name) +
         "</Name>\n"
         "            <DisplayName>" +
         xml_escape(user.full_name) +
         "</DisplayName>\n"
         "            <Group>Administrators</Group>\n"
         "            <Password><Value></Value><PlainText>true</PlainText></Password>\n"
         "          </LocalAccount>\n        </LocalAccounts>\n      </UserAccounts>\n";
}

}  // namespace

Result<std::string> render_unattend(const Profile& p, const std::string& hostname) {
  auto w = windows_settings(p, hostname);
  if (!w) return w.error();
  const std::string lang = xml_escape(w->language);
  return "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<!-- Written by Revive from the recipient "
         "profile. -->\n"
         "<unattend xmlns=\"urn:schemas-microsoft-com:unattend\">\n"
         "  <settings pass=\"specialize\">\n" +
         component_open("Microsoft-Windows-Shell-Setup") + "      <ComputerName>" +
         xml_escape(w->computer_name) + "</ComputerName>\n      <TimeZone>" +
         xml_escape(w->time_zone) +
         "</TimeZone>\n"
         "    </component>\n"
         "  </settings>\n"
         "  <settings pass=\"oobeSystem\">\n" +
         component_open("Microsoft-Windows-International-Core") + "      <InputLocale>" +
         w->input_locale + "</InputLocale>\n      <SystemLocale>" + lang +
         "</SystemLocale>\n      <UILanguage>" + lang + "</UILanguage>\n      <UserLocale>" + lang +
         "</UserLocale>\n"
         "    </component>\n" +
         component_open("Microsoft-Windows-Shell-Setup") +
         "      <OOBE>\n"
         "        <HideEULAPage>true</HideEULAPage>\n"
         "        <HideOEMRegistrationScreen>true</HideOEMRegistrationScreen>\n"
         "        <HideWirelessSetupInOOBE>false</HideWirelessSetupInOOBE>\n"
         "        <ProtectYourPC>3</ProtectYourPC>\n"
         "      </OOBE>\n" +
         first_user_accounts(p.first_user) + "    </component>\n  </settings>\n</unattend>\n";
}

Result<Json> apply_windows_profile(const std::filesystem::path& root, const Profile& p,
                                   const std::string& hostname) {
  auto xml = render_unattend(p, hostname);
  if (!xml) return xml.error();
  REVIVE_TRY(write_inside(root, "/Windows/Panther/unattend.xml", *xml));
  REVIVE_TRY(
      write_inside(root, "/Users/Public/Desktop/Welcome.txt", welcome_document(p, hostname)));
  return Json{{"system", "windows"},
              {"hostname", hostname},
              {"unattend", "/Windows/Panther/unattend.xml"},
              {"welcome", "/Users/Public/Desktop/Welcome.txt"},
              {"first_user", p.first_user.name.empty() ? Json("created by the recipient in OOBE")
                                                       : Json(p.first_user.name)},
              {"wifi", "left unconfigured"}};
}

}  // namespace revive::agent
