#pragma once
// Provisioning: the recipient's first boot. A profile (from the provision step's parameters,
// so per batch or per device through the workflow rules) is applied offline to the deployed
// disk: Linux root filesystems get hostname, locale, keyboard, time zone, a fresh machine-id,
// no SSH host keys (regenerated on first boot), a first-boot unit and a welcome document;
// Windows gets an unattend.xml rendered from the same profile.

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

#include "revive/agent/block_device.hpp"
#include "revive/agent/system.hpp"
#include "revive/error.hpp"

namespace revive::agent {

struct FirstUser {
  std::string name;  ///< login; empty: the recipient creates an account at first boot
  std::string full_name;
};

struct Profile {
  std::string hostname = "revive-{serial}";  ///< pattern: {serial} {asset_tag} {device_id} {vendor}
  std::string locale = "en_US.UTF-8";
  std::string keyboard = "us";   ///< XKB layout, optionally "layout:variant"
  std::string timezone = "UTC";  ///< IANA name
  std::string windows_timezone;  ///< Windows name; derived from `timezone` when empty
  FirstUser first_user;
  std::string welcome_title = "Welcome to your computer";
  std::string welcome_text;  ///< the workshop's help contacts etc.
  struct File {
    std::string path;  ///< absolute path inside the installed system
    std::string content;
    unsigned mode = 0644;
  };
  std::vector<File> files;
};

/// Parses a profile from step parameters, with the defaults above; clear errors for bad fields.
Result<Profile> parse_profile(const nlohmann::json& params);

/// Facts a hostname pattern may use.
struct DeviceFacts {
  std::string serial, asset_tag, vendor;
  long long device_id = 0;
};

/// Expands the pattern and makes the result a valid host name (RFC 1123 label: lower case
/// letters, digits and '-', at most 63 characters, no leading or trailing '-').
Result<std::string> expand_hostname(const std::string& pattern, const DeviceFacts& facts);

/// Applies a profile to a Linux root filesystem mounted (or unpacked) at `root`. Writes only
/// below `root`, never through a symlink. Returns what was done.
Result<nlohmann::json> apply_linux_profile(const std::filesystem::path& root, const Profile& p,
                                           const std::string& hostname);

/// The unattend.xml for a sysprepped Windows image.
Result<std::string> render_unattend(const Profile& p, const std::string& hostname);

/// Finds the installed system on the deployed disk (ext* root with etc/os-release, or NTFS
/// with Windows/System32), mounts it through a loop attachment, applies the profile, unmounts.
Result<nlohmann::json> provision_disk(const std::filesystem::path& disk, BlockDevice& dev,
                                      Exec& exec, const Profile& p, const DeviceFacts& facts);

}  // namespace revive::agent
