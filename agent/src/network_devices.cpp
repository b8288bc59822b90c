#include "revive/agent/network_devices.hpp"

#include <algorithm>
#include <array>
#include <string_view>

namespace revive::agent {

namespace {

// "0x10ec" -> "10ec".
std::string hex_id(const std::string& sysfs) {
  return sysfs.starts_with("0x") ? sysfs.substr(2) : sysfs;
}

std::string first_interface(const MachineRoot& root, const std::string& dir) {
  const auto names = root.list(dir + "net");
  return names.empty() ? std::string() : names.front();
}

void pci_devices(const MachineRoot& root, std::vector<NetworkDevice>& out) {
  for (const auto& addr : root.list("sys/bus/pci/devices")) {
    const std::string base = "sys/bus/pci/devices/" + addr + "/";
    const std::string cls = root.line(base + "class");
    if (!cls.starts_with("0x02")) continue;
    out.push_back(
        {.bus = "PCI",
         .id = hex_id(root.line(base + "vendor")) + ":" + hex_id(root.line(base + "device")),
         .driver = root.link_target(base + "driver"),
         .interface = first_interface(root, base),
         .wireless = cls.starts_with("0x0280")});
  }
}

// Interface classes that carry a network: communications (CDC ECM/NCM), CDC data, wireless
// controller (RNDIS). Realtek's r8152 and ASIX's chips, the usual USB and USB-C adapters and
// docks, present a vendor-specific class (ff) instead: counted when their maker is one of these
// or an interface came up.
constexpr std::array<std::string_view, 3> kNetworkClasses = {"02", "0a", "e0"};
constexpr std::array<std::string_view, 6> kNetworkChipMakers = {
    "0bda",  // Realtek (RTL8152/8153/8156)
    "0b95",  // ASIX (AX88179, AX88772)
    "17ef",  // Lenovo docks
    "413c",  // Dell docks
    "2357",  // TP-Link
    "0fe6",  // ICS / Kontron (cheap USB 2 adapters)
};

struct UsbLook {
  bool network = false;
  std::string driver;
  std::string interface;
  bool wireless = false;
};

UsbLook look_at_interfaces(const MachineRoot& root, const std::string& dev,
                           const std::string& vendor) {
  UsbLook look;
  const bool known_maker = std::find(kNetworkChipMakers.begin(), kNetworkChipMakers.end(),
                                     vendor) != kNetworkChipMakers.end();
  // Interfaces are named "<device>:<configuration>.<number>".
  for (const auto& intf : root.list("sys/bus/usb/devices")) {
    if (!intf.starts_with(dev + ":")) continue;
    const std::string base = "sys/bus/usb/devices/" + intf + "/";
    const std::string cls = root.line(base + "bInterfaceClass");
    const std::string ifname = first_interface(root, base);
    const bool classed =
        std::find(kNetworkClasses.begin(), kNetworkClasses.end(), cls) != kNetworkClasses.end();
    if (!classed && ifname.empty() && !(cls == "ff" && known_maker)) continue;
    look.network = true;
    if (look.driver.empty()) look.driver = root.link_target(base + "driver");
    if (look.interface.empty()) look.interface = ifname;
    if (!ifname.empty() && root.exists("sys/class/net/" + ifname + "/wireless"))
      look.wireless = true;
  }
  return look;
}

void usb_devices(const MachineRoot& root, std::vector<NetworkDevice>& out) {
  for (const auto& dev : root.list("sys/bus/usb/devices")) {
    const std::string base = "sys/bus/usb/devices/" + dev + "/";
    const std::string vendor = root.line(base + "idVendor");
    if (vendor.empty() || dev.find(':') != std::string::npos) continue;  // an interface
    if (root.line(base + "bDeviceClass") == "09") continue;              // a hub
    const UsbLook look = look_at_interfaces(root, dev, vendor);
    if (!look.network) continue;
    out.push_back({.bus = "USB",
                   .id = vendor + ":" + root.line(base + "idProduct"),
                   .driver = look.driver,
                   .interface = look.interface,
                   .wireless = look.wireless});
  }
}

}  // namespace

std::string NetworkDevice::line() const {
  std::string s = bus + " " + id + " " + (driver.empty() ? "no driver" : driver);
  if (!interface.empty()) s += " " + interface;
  if (wireless) s += " (Wi-Fi)";
  return s;
}

std::vector<NetworkDevice> network_devices(const MachineRoot& root) {
  std::vector<NetworkDevice> out;
  pci_devices(root, out);
  usb_devices(root, out);
  return out;
}

}  // namespace revive::agent
