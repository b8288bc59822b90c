#include "revive/agent/storage_controllers.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <set>

namespace revive::agent {

namespace {

using Json = nlohmann::json;

std::string basename_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The whole target of a symlink (MachineRoot::link_target keeps only its last name).
std::string link_path(const MachineRoot& root, const std::string& rel) {
  std::error_code ec;
  return std::filesystem::read_symlink(root.path() / rel, ec).string();
}

// Reported disk name -> its sysfs device path (what sys/block/<name> links to).
std::map<std::string, std::string> block_device_paths(const MachineRoot& root) {
  std::map<std::string, std::string> out;
  for (const auto& name : root.list("sys/block")) {
    if (is_reported_block_device(name)) out[name] = link_path(root, "sys/block/" + name);
  }
  return out;
}

// The disks whose device path passes through the directory named `component`.
Json disks_behind(const std::map<std::string, std::string>& disks, const std::string& component) {
  Json names = Json::array();
  const std::string needle = "/" + component + "/";
  for (const auto& [name, path] : disks) {
    if (path.find(needle) != std::string::npos) names.push_back(name);
  }
  return names;
}

// PCI class 0x01xxxx (mass storage) and 0x0805xx (SD host controller).
bool storage_class(const std::string& cls) {
  return cls.rfind("0x01", 0) == 0 || cls.rfind("0x0805", 0) == 0;
}

Json controller(const char* bus, const std::string& address, const std::string& cls,
                const std::string& driver_link, Json disks) {
  return {{"bus", bus},
          {"address", address},
          {"class", cls},
          {"driver", basename_of(driver_link)},
          {"disks", std::move(disks)}};
}

void add_pci(const MachineRoot& root, const std::map<std::string, std::string>& disks, Json& out,
             std::set<std::string>& seen) {
  for (const auto& addr : root.list("sys/bus/pci/devices")) {
    const std::string base = "sys/bus/pci/devices/" + addr + "/";
    const std::string cls = root.line(base + "class");
    if (!storage_class(cls)) continue;
    Json c =
        controller("pci", addr, cls, root.link_target(base + "driver"), disks_behind(disks, addr));
    c["pci"] = addr;
    out.push_back(std::move(c));
    seen.insert(addr);
  }
}

// An MMC host whose parent is not a PCI storage controller listed already: a card reader of
// another PCI class (Realtek's are "unassigned", 0xff0000) or an ACPI/platform SD controller.
void add_mmc_hosts(const MachineRoot& root, const std::map<std::string, std::string>& disks,
                   Json& out, const std::set<std::string>& seen) {
  for (const auto& host : root.list("sys/class/mmc_host")) {
    const std::string target = link_path(root, "sys/class/mmc_host/" + host);
    const auto at = target.rfind("/mmc_host/");
    const std::string parent = at == std::string::npos ? "" : basename_of(target.substr(0, at));
    if (seen.count(parent)) continue;
    out.push_back(controller("mmc", host, "mmc_host",
                             root.link_target("sys/class/mmc_host/" + host + "/device/driver"),
                             disks_behind(disks, host)));
  }
}

// USB interfaces of class 08 (mass storage: sticks, card readers, drive enclosures).
void add_usb(const MachineRoot& root, const std::map<std::string, std::string>& disks, Json& out) {
  for (const auto& intf : root.list("sys/bus/usb/devices")) {
    const std::string base = "sys/bus/usb/devices/" + intf + "/";
    if (root.line(base + "bInterfaceClass") != "08") continue;
    out.push_back(controller("usb", intf, "usb_mass_storage", root.link_target(base + "driver"),
                             disks_behind(disks, intf)));
  }
}

}  // namespace

bool is_reported_block_device(const std::string& name) {
  static const char* const kSkip[] = {"loop", "ram", "zram", "dm-", "sr", "md", "nbd", "fd"};
  for (const char* p : kSkip) {
    if (name.rfind(p, 0) == 0) return false;
  }
  return !(name.rfind("mmcblk", 0) == 0 &&
           (name.find("boot") != std::string::npos || name.find("rpmb") != std::string::npos));
}

Json storage_controllers(const MachineRoot& root) {
  const auto disks = block_device_paths(root);
  Json out = Json::array();
  std::set<std::string> pci;
  add_pci(root, disks, out, pci);
  add_mmc_hosts(root, disks, out, pci);
  add_usb(root, disks, out);
  return out;
}

}  // namespace revive::agent
