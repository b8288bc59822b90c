#include "revive/agent/provision.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <random>

#include "revive/agent/fit.hpp"
#include "revive/file_util.hpp"

namespace revive::agent {

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

Error bad_field(const std::string& field, const std::string& why) {
  return make_error(Errc::invalid_input, "profile field \"" + field + "\": " + why);
}

Result<std::string> text_field(const Json& j, const char* key, std::string fallback) {
  if (!j.contains(key)) return fallback;
  if (!j[key].is_string()) return bad_field(key, "must be a string");
  return j[key].get<std::string>();
}

bool safe_value(
    const std::string& v) {  // goes into shell-like config files: no quotes, no newlines
  return std::none_of(v.begin(), v.end(), [](char c) {
    return c == '"' || c == '\'' || c == '\\' || c == '\n' || c == '$' || c == '`';
  });
}

// Relative path below the root, refusing "..", absolute escapes and symlinked directories.
Result<fs::path> inside(const fs::path& root, const std::string& abs_path) {
  if (abs_path.empty() || abs_path[0] != '/')
    return make_error(Errc::invalid_input, "path " + abs_path + " is not absolute");
  fs::path cur = root;
  const fs::path rel = fs::path(abs_path).relative_path();
  std::vector<std::string> parts;
  for (const auto& c : rel) {
    const std::string s = c.string();
    if (s.empty() || s == ".") continue;
    if (s == "..")
      return make_error(Errc::invalid_input, "path " + abs_path + " climbs out with \"..\"");
    parts.push_back(s);
  }
  if (parts.empty()) return make_error(Errc::invalid_input, "path " + abs_path + " names no file");
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    cur /= parts[i];
    struct stat st {};
    if (::lstat(cur.c_str(), &st) != 0) {
      if (errno != ENOENT) return errno_error(errno, "stat " + cur.string());
      if (::mkdir(cur.c_str(), 0755) != 0) return errno_error(errno, "mkdir " + cur.string());
      continue;
    }
    if (S_ISLNK(st.st_mode))
      return make_error(Errc::invalid_input,
                        "refusing to write through the symlink " + cur.string());
    if (!S_ISDIR(st.st_mode))
      return make_error(Errc::invalid_input, cur.string() + " is not a directory");
  }
  return cur / parts.back();
}

// Writes a file below the root; a symlink in its place is replaced, never followed.
Result<void> put(const fs::path& root, const std::string& abs_path, std::string_view content,
                 unsigned mode = 0644) {
  auto target = inside(root, abs_path);
  if (!target) return target.error();
  // parse_profile refuses setuid/setgid; the mask keeps every other caller from setting them.
  mode &= 01777u;
  struct stat st {};
  if (::lstat(target->c_str(), &st) == 0 && (S_ISLNK(st.st_mode) || !S_ISREG(st.st_mode))) {
    if (S_ISDIR(st.st_mode))
      return make_error(Errc::invalid_input, abs_path + " is a directory in the image");
    if (::unlink(target->c_str()) != 0) return errno_error(errno, "unlink " + target->string());
  }
  auto fd = open_file(*target, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
  if (!fd) return fd.error();
  REVIVE_TRY(write_all(fd->get(), as_bytes(content), target->string()));
  if (::fchmod(fd->get(), mode) != 0) return errno_error(errno, "chmod " + target->string());
  return {};
}

Result<void> remove_inside(const fs::path& root, const std::string& abs_path) {
  auto target = inside(root, abs_path);
  if (!target) return target.error();
  if (::unlink(target->c_str()) != 0 && errno != ENOENT)
    return errno_error(errno, "unlink " + target->string());
  return {};
}

Result<void> symlink_inside(const fs::path& root, const std::string& abs_path,
                            const std::string& to) {
  REVIVE_TRY(remove_inside(root, abs_path));
  auto target = inside(root, abs_path);
  if (!target) return target.error();
  if (::symlink(to.c_str(), target->c_str()) != 0)
    return errno_error(errno, "symlink " + target->string());
  return {};
}

std::string fresh_machine_id() {
  std::random_device rd;
  std::string id;
  static const char* hex = "0123456789abcdef";
  for (int i = 0; i < 32; ++i) id += hex[rd() & 15];
  id[12] = '4';  // systemd writes v4 UUIDs
  id[16] = hex[8 + (rd() & 3)];
  return id;
}

std::string welcome_document(const Profile& p, const std::string& hostname) {
  std::string t = p.welcome_title + "\n" + std::string(p.welcome_title.size(), '=') + "\n\n";
  if (!p.welcome_text.empty()) t += p.welcome_text + "\n\n";
  t += "This computer (" + hostname +
       ") was refurbished, securely wiped and installed by a Revive workshop.\n";
  t += "Wi-Fi is not set up yet: choose your network the first time you log in.\n";
  return t;
}

std::string firstboot_script(const Profile& p) {
  std::string s =
      "#!/bin/sh\n"
      "# Written by Revive: runs once at the recipient's first boot, then removes itself.\n"
      "set -e\n"
      "# Host keys were removed from the image so no two laptops share them.\n"
      "if command -v ssh-keygen >/dev/null 2>&1; then ssh-keygen -A; fi\n";
  if (!p.first_user.name.empty()) {
    s += "if ! id " + p.first_user.name +
         " >/dev/null 2>&1; then\n"
         "  useradd --create-home --comment '" +
         p.first_user.full_name + "' " + p.first_user.name +
         "\n"
         "  for g in sudo netdev plugdev audio video; do getent group $g >/dev/null && usermod -aG "
         "$g " +
         p.first_user.name +
         "; done\n"
         "  # No password yet: the recipient chooses one at the first login.\n"
         "  passwd -d " +
         p.first_user.name + " && chage -d 0 " + p.first_user.name +
         "\n"
         "fi\n";
  }
  s += "systemctl disable revive-firstboot.service || true\n"
       "rm -f /etc/systemd/system/revive-firstboot.service /usr/local/sbin/revive-firstboot\n";
  return s;
}

constexpr const char* kFirstbootUnit =
    "[Unit]\n"
    "Description=Revive first boot (host keys, first user)\n"
    "ConditionPathExists=/usr/local/sbin/revive-firstboot\n"
    "Before=ssh.service display-manager.service\n"
    "\n"
    "[Service]\n"
    "Type=oneshot\n"
    "ExecStart=/usr/local/sbin/revive-firstboot\n"
    "\n"
    "[Install]\n"
    "WantedBy=multi-user.target\n";

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

}  // namespace

Result<Profile> parse_profile(const Json& params) {
  Profile p;
  const Json j = params.contains("profile") ? params["profile"] : Json::object();
  if (!j.is_object()) return bad_field("profile", "must be an object");
  auto get = [&](const char* key, std::string& into) -> Result<void> {
    auto v = text_field(j, key, into);
    if (!v) return v.error();
    if (!safe_value(*v))
      return bad_field(key, "quotes, backslashes, '$', '`' and newlines are not allowed");
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
    return bad_field("locale", "like nl_NL.UTF-8");
  if (p.timezone.empty() || p.timezone.find("..") != std::string::npos || p.timezone[0] == '/') {
    return bad_field("timezone", "an IANA name like Europe/Amsterdam");
  }
  if (j.contains("wifi"))
    return bad_field(
        "wifi", "Wi-Fi is left for the recipient to set up; Revive does not store network keys");
  if (j.contains("first_user")) {
    const Json& u = j["first_user"];
    if (!u.is_object() || !u.contains("name") || !u["name"].is_string())
      return bad_field("first_user", "needs a \"name\"");
    p.first_user.name = u["name"];
    p.first_user.full_name = u.value("full_name", std::string());
    const auto& n = p.first_user.name;
    const bool ok = !n.empty() && n.size() <= 32 &&
                    std::islower(static_cast<unsigned char>(n[0])) &&
                    std::all_of(n.begin(), n.end(), [](char c) {
                      return std::islower(static_cast<unsigned char>(c)) ||
                             std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '_';
                    });
    if (!ok)
      return bad_field("first_user.name",
                       "lower-case letters, digits, '-' and '_', starting with a letter");
    if (!safe_value(p.first_user.full_name) ||
        p.first_user.full_name.find(':') != std::string::npos) {
      return bad_field("first_user.full_name", "no quotes, ':' or newlines");
    }
  }
  if (j.contains("files")) {
    if (!j["files"].is_array() || j["files"].size() > 256)
      return bad_field("files", "an array of at most 256 {path, content, mode}");
    for (const auto& f : j["files"]) {
      if (!f.is_object() || !f.contains("path") || !f["path"].is_string() ||
          !f.contains("content") || !f["content"].is_string()) {
        return bad_field("files", "each entry needs a string \"path\" and \"content\"");
      }
      if (f.contains("mode") && (!f["mode"].is_number_integer() || f["mode"].get<long long>() < 0))
        return bad_field("files", "each \"mode\" must be a non-negative integer");
      Profile::File file{f["path"], f["content"], f.value("mode", 0644u)};
      if (file.path.empty() || file.path[0] != '/')
        return bad_field("files", "path " + file.path + " is not absolute");
      if (file.mode > 07777)
        return bad_field("files", "mode of " + file.path + " is not a permission mode");
      // A setuid/setgid file placed by whoever can hand out jobs would be root on every
      // recipient's machine: no workshop profile needs one, so it is refused outright.
      if ((file.mode & (S_ISUID | S_ISGID)) != 0) {
        return bad_field("files", "mode of " + file.path +
                                      " sets setuid/setgid bits (refused: provisioning never "
                                      "installs privileged programs)");
      }
      p.files.push_back(std::move(file));
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
    if (end == std::string::npos) return bad_field("hostname", "unclosed '{' in " + pattern);
    const auto it = vars.find(pattern.substr(i + 1, end - i - 1));
    if (it == vars.end())
      return bad_field("hostname", "unknown placeholder " + pattern.substr(i, end - i + 1) +
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
    return bad_field("hostname", "\"" + pattern + "\" gives an empty host name for this laptop");
  return h;
}

Result<Json> apply_linux_profile(const fs::path& root, const Profile& p,
                                 const std::string& hostname) {
  Json done = Json::object();
  // Host name, and the 127.0.1.1 line Debian keeps for it.
  REVIVE_TRY(put(root, "/etc/hostname", hostname + "\n"));
  std::string hosts;
  if (auto old = read_small_file(root / "etc/hosts", 1 << 20)) hosts = *old;
  std::string kept;
  for (std::size_t pos = 0; pos < hosts.size();) {
    const auto nl = hosts.find('\n', pos);
    const std::string line =
        hosts.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? hosts.size() : nl + 1;
    if (line.rfind("127.0.1.1", 0) != 0) kept += line + "\n";
  }
  if (kept.find("localhost") == std::string::npos) kept = "127.0.0.1\tlocalhost\n" + kept;
  REVIVE_TRY(put(root, "/etc/hosts", kept + "127.0.1.1\t" + hostname + "\n"));
  done["hostname"] = hostname;
  // Locale: systemd's file and Debian's.
  REVIVE_TRY(put(root, "/etc/locale.conf", "LANG=" + p.locale + "\n"));
  REVIVE_TRY(put(root, "/etc/default/locale", "LANG=" + p.locale + "\n"));
  done["locale"] = p.locale;
  // Keyboard: console and X11/Wayland (Debian's /etc/default/keyboard is read by both).
  const auto colon = p.keyboard.find(':');
  const std::string layout = p.keyboard.substr(0, colon);
  const std::string variant = colon == std::string::npos ? "" : p.keyboard.substr(colon + 1);
  REVIVE_TRY(put(root, "/etc/vconsole.conf",
                 "KEYMAP=" + layout + (variant.empty() ? "" : "-" + variant) + "\n"));
  REVIVE_TRY(put(root, "/etc/default/keyboard",
                 "XKBMODEL=\"pc105\"\nXKBLAYOUT=\"" + layout + "\"\nXKBVARIANT=\"" + variant +
                     "\"\nXKBOPTIONS=\"\"\nBACKSPACE=\"guess\"\n"));
  done["keyboard"] = p.keyboard;
  // Time zone: only one the image has data for.
  struct stat st {};
  if (::stat((root / "usr/share/zoneinfo" / p.timezone).c_str(), &st) != 0 ||
      !S_ISREG(st.st_mode)) {
    return make_error(Errc::invalid_input, "time zone " + p.timezone +
                                               " is not in the image (no /usr/share/zoneinfo/" +
                                               p.timezone + ")");
  }
  REVIVE_TRY(symlink_inside(root, "/etc/localtime", "/usr/share/zoneinfo/" + p.timezone));
  REVIVE_TRY(put(root, "/etc/timezone", p.timezone + "\n"));
  done["timezone"] = p.timezone;
  // Machine-unique identifiers: a fresh machine-id here, SSH host keys made at first boot.
  const std::string id = fresh_machine_id();
  REVIVE_TRY(put(root, "/etc/machine-id", id + "\n", 0444));
  if (::lstat((root / "var/lib/dbus/machine-id").c_str(), &st) == 0)
    REVIVE_TRY(symlink_inside(root, "/var/lib/dbus/machine-id", "/etc/machine-id"));
  done["machine_id"] = id;
  Json removed = Json::array();
  struct stat ssh {};
  if (::lstat((root / "etc/ssh").c_str(), &ssh) == 0 && S_ISLNK(ssh.st_mode)) {
    return make_error(Errc::invalid_input,
                      "refusing to follow the symlink /etc/ssh: its host keys could not be reset");
  }
  if (::lstat((root / "etc/ssh").c_str(), &ssh) == 0 && S_ISDIR(ssh.st_mode)) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(root / "etc/ssh", ec)) {
      const std::string name = e.path().filename().string();
      if (name.rfind("ssh_host_", 0) == 0) {
        REVIVE_TRY(remove_inside(root, "/etc/ssh/" + name));
        removed.push_back(name);
      }
    }
  }
  done["ssh_host_keys_removed"] = removed;
  // First boot: host keys, the first user (no password: chosen at first login), then gone.
  REVIVE_TRY(put(root, "/usr/local/sbin/revive-firstboot", firstboot_script(p), 0755));
  REVIVE_TRY(put(root, "/etc/systemd/system/revive-firstboot.service", kFirstbootUnit));
  REVIVE_TRY(symlink_inside(root,
                            "/etc/systemd/system/multi-user.target.wants/revive-firstboot.service",
                            "/etc/systemd/system/revive-firstboot.service"));
  done["first_user"] = p.first_user.name.empty() ? Json("created by the recipient at first boot")
                                                 : Json(p.first_user.name);
  // Welcome document: for every new account, and in a fixed place.
  const std::string welcome = welcome_document(p, hostname);
  REVIVE_TRY(put(root, "/etc/skel/Welcome.txt", welcome));
  REVIVE_TRY(put(root, "/usr/share/doc/revive/Welcome.txt", welcome));
  done["welcome"] = "/etc/skel/Welcome.txt";
  done["wifi"] = "left unconfigured";
  Json files = Json::array();
  for (const auto& f : p.files) {
    REVIVE_TRY(put(root, f.path, f.content, f.mode));
    files.push_back(f.path);
  }
  done["files"] = files;
  return done;
}

Result<std::string> render_unattend(const Profile& p, const std::string& hostname) {
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
  std::string tz = p.windows_timezone;
  if (tz.empty()) {
    const auto it = zones.find(p.timezone);
    if (it == zones.end())
      return bad_field("windows_timezone", "needed: no Windows name known for " + p.timezone);
    tz = it->second;
  }
  const auto kb = keyboards.find(p.keyboard);
  if (kb == keyboards.end())
    return bad_field("keyboard", "no Windows input locale known for " + p.keyboard);
  std::string lang = p.locale.substr(0, p.locale.find('.'));
  std::replace(lang.begin(), lang.end(), '_', '-');
  // Windows computer names stop at 15 characters.
  std::string computer = hostname.substr(0, 15);
  while (computer.size() > 1 && computer.back() == '-') computer.pop_back();
  const std::string arch =
      R"(processorArchitecture="amd64" publicKeyToken="31bf3856ad364e35" language="neutral" versionScope="nonSxS" xmlns:wcm="http://schemas.microsoft.com/WMIConfig/2002/State")";
  std::string x =
      "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<!-- Written by Revive from the recipient "
      "profile. -->\n"
      "<unattend xmlns=\"urn:schemas-microsoft-com:unattend\">\n"
      "  <settings pass=\"specialize\">\n"
      "    <component name=\"Microsoft-Windows-Shell-Setup\" " +
      arch +
      ">\n"
      "      <ComputerName>" +
      xml_escape(computer) +
      "</ComputerName>\n"
      "      <TimeZone>" +
      xml_escape(tz) +
      "</TimeZone>\n"
      "    </component>\n"
      "  </settings>\n"
      "  <settings pass=\"oobeSystem\">\n"
      "    <component name=\"Microsoft-Windows-International-Core\" " +
      arch +
      ">\n"
      "      <InputLocale>" +
      kb->second +
      "</InputLocale>\n"
      "      <SystemLocale>" +
      xml_escape(lang) +
      "</SystemLocale>\n"
      "      <UILanguage>" +
      xml_escape(lang) +
      "</UILanguage>\n"
      "      <UserLocale>" +
      xml_escape(lang) +
      "</UserLocale>\n"
      "    </component>\n"
      "    <component name=\"Microsoft-Windows-Shell-Setup\" " +
      arch +
      ">\n"
      "      <OOBE>\n"
      "        <HideEULAPage>true</HideEULAPage>\n"
      "        <HideOEMRegistrationScreen>true</HideOEMRegistrationScreen>\n"
      "        <HideWirelessSetupInOOBE>false</HideWirelessSetupInOOBE>\n"
      "        <ProtectYourPC>3</ProtectYourPC>\n"
      "      </OOBE>\n";
  if (!p.first_user.name.empty()) {
    // The account exists with an empty password; Windows asks the recipient to set one.
    x += "      <UserAccounts>\n        <LocalAccounts>\n          <LocalAccount "
         "wcm:action=\"add\">\n"
         "            <Name>" +
         xml_escape(p.first_user.name) +
         "</Name>\n"
         "            <DisplayName>" +
         xml_escape(p.first_user.full_name) +
         "</DisplayName>\n"
         "            <Group>Administrators</Group>\n"
         "            <Password><Value></Value><PlainText>true</PlainText></Password>\n"
         "          </LocalAccount>\n        </LocalAccounts>\n      </UserAccounts>\n";
  }
  x += "    </component>\n  </settings>\n</unattend>\n";
  return x;
}

Result<Json> provision_disk(const fs::path& disk, BlockDevice& dev, Exec& exec, const Profile& p,
                            const DeviceFacts& facts) {
  auto hostname = expand_hostname(p.hostname, facts);
  if (!hostname) return hostname.error();
  auto pt = read_partition_table(dev);
  if (!pt) return pt.error();
  if (pt->partitions.empty())
    return make_error(Errc::unsupported, "the deployed disk has no partitions to provision");
  // Mount every candidate read-write in turn and look for an installed system.
  char tmpl[] = "/tmp/revive-provision-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return errno_error(errno, "mkdtemp");
  const fs::path mnt = tmpl;
  struct RemoveDir {
    fs::path p;
    ~RemoveDir() { ::rmdir(p.c_str()); }
  } cleanup{mnt};
  for (const auto& part : pt->partitions) {
    const std::uint64_t offset = part.first_lba * pt->sector_size;
    const std::uint64_t size = (part.last_lba - part.first_lba + 1) * pt->sector_size;
    const std::string fs_kind = detect_filesystem(dev, offset);
    if (fs_kind != "ext" && fs_kind != "ntfs") continue;
    REVIVE_TRY(dev.flush());
    auto loop = LoopAttachment::attach(exec, disk, offset, size);
    if (!loop) return loop.error();
    const std::vector<std::string> mount =
        fs_kind == "ext"
            ? std::vector<std::string>{"mount", "-t", "ext4", loop->device(), mnt.string()}
            : std::vector<std::string>{"ntfs-3g", loop->device(), mnt.string()};
    auto m = exec.run(mount, 120);
    if (!m) return m.error().with_context("mounting partition " + std::to_string(part.number));
    if (m->exit_code != 0)
      return make_error(Errc::io,
                        "mounting partition " + std::to_string(part.number) + " failed: " + m->err);
    Result<Json> applied = Json();
    bool found = false;
    if (fs_kind == "ext" && fs::exists(mnt / "etc/os-release")) {
      found = true;
      applied = apply_linux_profile(mnt, p, *hostname);
      if (applied) (*applied)["system"] = "linux";
    } else if (fs_kind == "ntfs" && fs::is_directory(mnt / "Windows/System32")) {
      found = true;
      auto xml = render_unattend(p, *hostname);
      if (!xml) {
        applied = xml.error();
      } else {
        auto w = put(mnt, "/Windows/Panther/unattend.xml", *xml);
        if (w) w = put(mnt, "/Users/Public/Desktop/Welcome.txt", welcome_document(p, *hostname));
        applied =
            w ? Result<Json>(Json{{"system", "windows"},
                                  {"hostname", *hostname},
                                  {"unattend", "/Windows/Panther/unattend.xml"},
                                  {"welcome", "/Users/Public/Desktop/Welcome.txt"},
                                  {"first_user", p.first_user.name.empty()
                                                     ? Json("created by the recipient in OOBE")
                                                     : Json(p.first_user.name)},
                                  {"wifi", "left unconfigured"}})
              : Result<Json>(w.error());
      }
    }
    ::sync();
    auto um = exec.run({"umount", mnt.string()}, 120);
    if (!um || um->exit_code != 0) {
      return make_error(Errc::io, "unmounting " + mnt.string() + " failed" +
                                      (um ? ": " + um->err : ": " + um.error().message));
    }
    if (!applied) return applied.error().with_context("partition " + std::to_string(part.number));
    if (found) {
      (*applied)["partition"] = part.number;
      return *applied;
    }
  }
  return make_error(Errc::not_found,
                    "no installed system found on the deployed disk (looked for ext* with "
                    "/etc/os-release and NTFS with /Windows/System32)");
}

}  // namespace revive::agent
