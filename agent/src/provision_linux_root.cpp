// Provisioning a Linux root filesystem offline: host name, locale, keyboard, time zone, fresh
// machine identifiers, the first-boot unit and the welcome document. Every write goes through
// confined_files, so nothing lands outside the mounted image.

#include <sys/stat.h>

#include <random>

#include "confined_files.hpp"
#include "provision_internal.hpp"
#include "revive/agent/provision.hpp"
#include "revive/file_util.hpp"

namespace revive::agent {

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

std::string fresh_machine_id() {
  std::random_device rd;
  std::string id;
  static const char* hex = "0123456789abcdef";
  for (int i = 0; i < 32; ++i) id += hex[rd() & 15];
  id[12] = '4';  // systemd writes v4 UUIDs
  id[16] = hex[8 + (rd() & 3)];
  return id;
}

std::string firstboot_script(const Profile& p) {
  std::string s =
      "#!/bin/sh\n"
      "# Written by Revive: runs once at the recipient's first boot, then removes itself.\n"
      "set -e\n"
      "# Host keys were removed from the image so no two laptops share them.\n"
      "if command -v ssh-keygen >/dev/null 2>&1; then ssh-keygen -A; fi\n"
      "# So was ssl-cert's snakeoil pair (an image built by revivectl has none): made if missing.\n"
      "if command -v make-ssl-cert >/dev/null 2>&1; then make-ssl-cert "
      "generate-default-snakeoil; fi\n";
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
  // What this boot made, from the system itself, on the console (the unit sends its output
  // there): the workshop sees it on the laptop's screen, the boot tests on the serial port.
  s += "echo \"revive-firstboot: host $(hostname), machine-id $(cat /etc/machine-id)\"\n";
  if (!p.first_user.name.empty())
    s += "echo \"revive-firstboot: first user $(getent passwd " + p.first_user.name + ")\"\n";
  // Removed by hand, not `systemctl disable`: that reloads the manager while the boot's own
  // transaction waits on this unit, and in pxe_boot 3 boots of 4 then showed no "Reached
  // target" line (perhaps only the line, see kFirstbootDoneUnit). The unit's
  // ConditionPathExists keeps it from running again.
  s += "rm -f /etc/systemd/system/multi-user.target.wants/revive-firstboot.service "
       "/etc/systemd/system/revive-firstboot.service /usr/local/sbin/revive-firstboot\n";
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
    "StandardOutput=journal+console\n"
    "\n"
    "[Install]\n"
    "WantedBy=multi-user.target\n";

// Says on the console, once, that the first boot reached its default target. systemd's own
// "Reached target" line cannot be relied on: once a getty has waited 5 s for the boot to settle
// and the console is in use (serial-getty on the last console=, which is /dev/console), systemd
// stops printing status lines for good (manager_dispatch_idle_pipe_fd), so a slow first boot
// reaches its target in silence. DefaultDependencies=no, or the target (which waits for what it
// wants) and this unit (which waits for the target) would wait for each other.
constexpr const char* kFirstbootDoneUnit =
    "[Unit]\n"
    "Description=Revive first boot: the laptop reached its default target\n"
    "DefaultDependencies=no\n"
    "After=multi-user.target graphical.target\n"
    "Conflicts=shutdown.target\n"
    "Before=shutdown.target\n"
    "\n"
    "[Service]\n"
    "Type=oneshot\n"
    "ExecStart=-/bin/sh -c 't=$$(systemctl get-default); echo \"revive-firstboot: first boot done, "
    "$$t $$(systemctl is-active $$t)\"'\n"
    "ExecStartPost=/bin/rm -f "
    "/etc/systemd/system/multi-user.target.wants/revive-firstboot-done.service "
    "/etc/systemd/system/revive-firstboot-done.service\n"
    "StandardOutput=journal+console\n";

// Host name, and the 127.0.1.1 line Debian keeps for it.
Result<void> set_hostname(const fs::path& root, const std::string& hostname) {
  REVIVE_TRY(write_inside(root, "/etc/hostname", hostname + "\n"));
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
  return write_inside(root, "/etc/hosts", kept + "127.0.1.1\t" + hostname + "\n");
}

// Locale (systemd's file and Debian's) and keyboard: console and X11/Wayland (Debian's
// /etc/default/keyboard is read by both).
Result<void> set_locale_and_keyboard(const fs::path& root, const Profile& p) {
  REVIVE_TRY(write_inside(root, "/etc/locale.conf", "LANG=" + p.locale + "\n"));
  REVIVE_TRY(write_inside(root, "/etc/default/locale", "LANG=" + p.locale + "\n"));
  const auto colon = p.keyboard.find(':');
  const std::string layout = p.keyboard.substr(0, colon);
  const std::string variant = colon == std::string::npos ? "" : p.keyboard.substr(colon + 1);
  REVIVE_TRY(write_inside(root, "/etc/vconsole.conf",
                          "KEYMAP=" + layout + (variant.empty() ? "" : "-" + variant) + "\n"));
  return write_inside(root, "/etc/default/keyboard",
                      "XKBMODEL=\"pc105\"\nXKBLAYOUT=\"" + layout + "\"\nXKBVARIANT=\"" + variant +
                          "\"\nXKBOPTIONS=\"\"\nBACKSPACE=\"guess\"\n");
}

// Time zone: only one the image has data for.
Result<void> set_timezone(const fs::path& root, const std::string& timezone) {
  struct stat st {};
  if (::stat((root / "usr/share/zoneinfo" / timezone).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return make_error(
        Errc::invalid_input,
        "time zone " + timezone + " is not in the image (no /usr/share/zoneinfo/" + timezone + ")");
  }
  REVIVE_TRY(symlink_inside(root, "/etc/localtime", "/usr/share/zoneinfo/" + timezone));
  return write_inside(root, "/etc/timezone", timezone + "\n");
}

// Machine-unique identifiers: a fresh machine-id here. Returns it.
Result<std::string> reset_machine_id(const fs::path& root) {
  const std::string id = fresh_machine_id();
  REVIVE_TRY(write_inside(root, "/etc/machine-id", id + "\n", 0444));
  struct stat st {};
  if (::lstat((root / "var/lib/dbus/machine-id").c_str(), &st) == 0)
    REVIVE_TRY(symlink_inside(root, "/var/lib/dbus/machine-id", "/etc/machine-id"));
  return id;
}

// SSH host keys are removed here and made at first boot. Returns the names removed.
Result<Json> remove_ssh_host_keys(const fs::path& root) {
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
  return removed;
}

// First boot: host keys, the first user (no password: chosen at first login), then gone.
Result<void> install_firstboot(const fs::path& root, const Profile& p) {
  REVIVE_TRY(write_inside(root, "/usr/local/sbin/revive-firstboot", firstboot_script(p), 0755));
  for (const auto& [name, text] :
       {std::pair{"revive-firstboot.service", kFirstbootUnit},
        std::pair{"revive-firstboot-done.service", kFirstbootDoneUnit}}) {
    const std::string unit = std::string("/etc/systemd/system/") + name;
    REVIVE_TRY(write_inside(root, unit, text));
    REVIVE_TRY(symlink_inside(
        root, std::string("/etc/systemd/system/multi-user.target.wants/") + name, unit));
  }
  return {};
}

}  // namespace

Result<Json> apply_linux_profile(const fs::path& root, const Profile& p,
                                 const std::string& hostname) {
  Json done = Json::object();
  REVIVE_TRY(set_hostname(root, hostname));
  done["hostname"] = hostname;
  REVIVE_TRY(set_locale_and_keyboard(root, p));
  done["locale"] = p.locale;
  done["keyboard"] = p.keyboard;
  REVIVE_TRY(set_timezone(root, p.timezone));
  done["timezone"] = p.timezone;
  auto id = reset_machine_id(root);
  if (!id) return id.error();
  done["machine_id"] = *id;
  auto removed = remove_ssh_host_keys(root);
  if (!removed) return removed.error();
  done["ssh_host_keys_removed"] = *removed;
  REVIVE_TRY(install_firstboot(root, p));
  done["first_user"] = p.first_user.name.empty() ? Json("created by the recipient at first boot")
                                                 : Json(p.first_user.name);
  // Welcome document: for every new account, and in a fixed place.
  const std::string welcome = welcome_document(p, hostname);
  REVIVE_TRY(write_inside(root, "/etc/skel/Welcome.txt", welcome));
  REVIVE_TRY(write_inside(root, "/usr/share/doc/revive/Welcome.txt", welcome));
  done["welcome"] = "/etc/skel/Welcome.txt";
  done["wifi"] = "left unconfigured";
  Json files = Json::array();
  for (const auto& f : p.files) {
    REVIVE_TRY(write_inside(root, f.path, f.content, f.mode));
    files.push_back(f.path);
  }
  done["files"] = files;
  return done;
}

}  // namespace revive::agent
