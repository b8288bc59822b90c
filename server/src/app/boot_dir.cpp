#include "app/boot_dir.hpp"

#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include <fstream>

#include "revive/file_util.hpp"

namespace revive::server {

namespace {

// Boot binaries from Debian packages, copied into the TFTP root (a symlink out of the root would
// be refused by the TFTP server, as it should be). Missing packages are reported, not fatal.
struct BootBinary {
  const char* name;
  const char* source;
  const char* package;
};
constexpr BootBinary kBootBinaries[] = {
    {"undionly.kpxe", "/usr/lib/ipxe/undionly.kpxe", "ipxe"},
    {"snponly.efi", "/usr/lib/ipxe/snponly.efi", "ipxe"},
    {"ipxe.efi", "/usr/lib/ipxe/ipxe.efi", "ipxe"},
    {"shimx64.efi", "/usr/lib/shim/shimx64.efi.signed", "shim-signed"},
    {"grubx64.efi", "/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed",
     "grub-efi-amd64-signed"},
};

}  // namespace

// DHCP leases: a small JSON file, replaced atomically on every change.
Result<std::vector<boot::Lease>> load_leases(const std::filesystem::path& path) {
  std::vector<boot::Lease> out;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return out;
  std::ifstream f(path);
  const nlohmann::json j = nlohmann::json::parse(f, nullptr, false);
  if (j.is_discarded() || !j.is_array())
    return make_error(Errc::corrupt, path.string() + " is not a JSON array of leases");
  for (const auto& l : j) {
    auto ip = boot::parse_ipv4(l.value("ip", std::string()));
    if (!ip || !l.value("mac", nlohmann::json()).is_string() ||
        !l.value("expires", nlohmann::json()).is_number_integer()) {
      return make_error(Errc::corrupt, path.string() + ": a lease lacks mac, ip or expires");
    }
    out.push_back({l["mac"].get<std::string>(), *ip, l["expires"].get<std::int64_t>()});
  }
  return out;
}

Result<void> save_leases(const std::filesystem::path& path,
                         const std::vector<boot::Lease>& leases) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& l : leases)
    j.push_back({{"mac", l.mac}, {"ip", boot::ip_to_string(l.ip)}, {"expires", l.expires}});
  const std::string text = j.dump(1) + "\n";
  return write_file_atomic(path, std::as_bytes(std::span(text.data(), text.size())),
                           path.parent_path());
}

Result<void> prepare_boot_dir(const std::filesystem::path& dir, bool report,
                              const std::function<void(const std::string&)>& log) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir / "tftp", ec);
  if (!ec) fs::create_directories(dir / "live", ec);
  if (ec) return make_error(Errc::io, "create " + dir.string() + ": " + ec.message());
  std::string missing;
  for (const auto& b : kBootBinaries) {
    const auto to = dir / "tftp" / b.name;
    if (fs::exists(to, ec)) continue;
    if (!fs::exists(b.source, ec)) {
      missing +=
          std::string(missing.empty() ? "" : ", ") + b.name + " (Debian package " + b.package + ")";
      continue;
    }
    fs::copy_file(b.source, to, ec);
    if (ec)
      return make_error(
          Errc::io, std::string("copy ") + b.source + " to " + to.string() + ": " + ec.message());
  }
  if (!report) return {};
  if (!missing.empty()) log("boot: not available: " + missing);
  if (!fs::exists(dir / "live" / "vmlinuz", ec) || !fs::exists(dir / "live" / "initrd.img", ec)) {
    log("boot: no live agent image in " + (dir / "live").string() +
        " yet: build it with provisioning/build-live-image");
  }
  return {};
}

std::optional<std::string> live_image_missing(const std::filesystem::path& boot_dir) {
  struct stat st {};
  if (boot_dir.empty() || ::stat((boot_dir / "live" / "initrd.img").c_str(), &st) != 0 ||
      ::stat((boot_dir / "live" / "vmlinuz").c_str(), &st) != 0) {
    return "this server has no live agent image (" + (boot_dir / "live").string() +
           "/vmlinuz and initrd.img): see provisioning/README.md";
  }
  return std::nullopt;
}

}  // namespace revive::server
