#include "revive/first_user.hpp"

#include <algorithm>
#include <string>

namespace revive {

namespace {

// The users and groups of Debian's base-passwd (every Debian system), those systemd, apt, dbus
// and common desktop packages (Revive's desktop recipes among them) create, and Windows'
// built-in accounts (Windows compares names without case; ours are lower case). useradd makes
// a group of the user's name, so a group's name fails at first boot as surely as a user's is
// skipped. Space-separated, with a space at each end: a name is found as " name ".
constexpr std::string_view kReserved =
    // base-passwd: users and groups
    " adm audio backup bin cdrom daemon dialout dip disk fax floppy games gnats irc kmem list lp"
    " mail man news nobody nogroup operator proxy root sasl shadow src staff sudo sync sys tape"
    " tty users utmp uucp video voice www-data"
    // systemd, apt, dbus, openssh, polkit and friends
    " crontab input kvm messagebus netdev plugdev render sgx sshd ssl-cert tss uuidd polkitd"
    " dnsmasq statd tcpdump usbmux geoclue"
    // the desktop: display manager, sound, printing, scanning, bluetooth, networking
    " avahi avahi-autoipd bluetooth colord cups-pk-helper fwupd-refresh hplip lightdm lpadmin"
    " nm-openvpn pipewire pulse pulse-access rtkit saned scanner sddm speech-dispatcher"
    // Windows
    " administrator defaultaccount defaultuser0 guest system wdagutilityaccount ";

Error field_error(std::string_view field, const std::string& why) {
  return make_error(Errc::invalid_input, "profile field \"" + std::string(field) + "\": " + why);
}

bool login_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

std::size_t code_points(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

}  // namespace

bool reserved_account_name(std::string_view name) {
  // systemd reserves the prefix for its own system users (systemd-network, -timesync, ...).
  if (name.starts_with("systemd-")) return true;
  if (name.empty() || name.find(' ') != std::string_view::npos) return false;
  return kReserved.find(" " + std::string(name) + " ") != std::string_view::npos;
}

Result<void> check_first_user_name(std::string_view name) {
  constexpr std::string_view kField = "first_user.name";
  if (name.empty()) return field_error(kField, "must not be empty");
  if (name.size() > kFirstUserNameMax)
    return field_error(kField, "at most " + std::to_string(kFirstUserNameMax) + " characters");
  if (name[0] < 'a' || name[0] > 'z' || !std::all_of(name.begin(), name.end(), login_char)) {
    return field_error(kField, "lower-case letters, digits, '-' and '_', starting with a letter");
  }
  if (reserved_account_name(name)) {
    return field_error(kField, "\"" + std::string(name) +
                                   "\" is an account or group the installed system already has");
  }
  return {};
}

Result<void> check_first_user_full_name(std::string_view full_name) {
  constexpr std::string_view kField = "first_user.full_name";
  if (code_points(full_name) > kFirstUserFullNameMax)
    return field_error(kField, "at most " + std::to_string(kFirstUserFullNameMax) + " characters");
  for (const char c : full_name) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f)
      return field_error(kField, "one line of text, without control characters");
    if (c == '"' || c == '\'' || c == '\\' || c == '$' || c == '`' || c == ':' || c == ',')
      return field_error(kField, "no quotes, backslashes, '$', '`', ':' or ','");
  }
  return {};
}

Result<void> check_first_user(std::string_view name, std::string_view full_name) {
  REVIVE_TRY(check_first_user_name(name));
  return check_first_user_full_name(full_name);
}

}  // namespace revive
