#pragma once
// The network devices a laptop's kernel sees, with or without a driver, for the screen a
// volunteer reads when no network comes up: "PCI 10ec:8168 no driver" tells the workshop which
// firmware or module the live image lacks. A card whose driver did not load has no interface
// in /sys/class/net, so the buses are read, not the interfaces.

#include <string>
#include <vector>

#include "revive/agent/system.hpp"

namespace revive::agent {

struct NetworkDevice {
  std::string bus;        ///< "PCI" or "USB"
  std::string id;         ///< vendor:device, "10ec:8168" (USB: idVendor:idProduct)
  std::string driver;     ///< the kernel module bound to it, "" when none
  std::string interface;  ///< "enp2s0", "" when no interface came up
  bool wireless = false;  ///< a Wi-Fi card (PCI class 0x0280, or a wireless interface)

  /// "PCI 10ec:8168 r8169 enp2s0", "USB 0bda:8153 no driver".
  std::string line() const;
};

/// PCI network controllers (class 0x02) and USB devices with a network-like interface
/// (communications, CDC data, wireless controller, or vendor-specific with an interface up or
/// from a maker of USB network chips), under `root` (sysfs of this laptop, or a test tree).
std::vector<NetworkDevice> network_devices(const MachineRoot& root);

}  // namespace revive::agent
