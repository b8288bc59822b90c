#pragma once
// The server's boot directory and DHCP lease file: boot binaries copied from Debian's packages
// into the TFTP root, and the full-DHCP leases kept across restarts.

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "dhcp_server.hpp"
#include "revive/error.hpp"

namespace revive::server {

/// Creates DIR/tftp and DIR/live and copies the boot binaries in; with `report`, logs what is
/// missing (not fatal). io when a directory or a copy fails.
Result<void> prepare_boot_dir(const std::filesystem::path& dir, bool report,
                              const std::function<void(const std::string&)>& log);

/// Why the live agent cannot be booted from DIR/live (no vmlinuz or initrd.img), or nullopt.
std::optional<std::string> live_image_missing(const std::filesystem::path& boot_dir);

/// The leases saved last time (none when the file does not exist); corrupt when it is not a
/// JSON array of {mac, ip, expires}.
Result<std::vector<boot::Lease>> load_leases(const std::filesystem::path& path);
/// Replaces the lease file atomically; io on failure.
Result<void> save_leases(const std::filesystem::path& path, const std::vector<boot::Lease>& leases);

}  // namespace revive::server
