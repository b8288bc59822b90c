#include "revive/agent/network_devices.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "temp_dir.hpp"

namespace revive::agent {
namespace {

namespace fs = std::filesystem;

// A sysfs tree as a laptop's kernel would show it, written file by file.
class SysfsTree {
 public:
  explicit SysfsTree(const fs::path& root) : root_(root) {}

  void file(const std::string& rel, const std::string& value) {
    fs::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel) << value << "\n";
  }
  void driver(const std::string& dev, const std::string& module) {
    fs::create_directories(root_ / "sys/bus/drivers" / module);
    fs::create_symlink(root_ / "sys/bus/drivers" / module, root_ / dev / "driver");
  }
  void interface(const std::string& dev, const std::string& name) {
    fs::create_directories(root_ / dev / "net" / name);
  }

 private:
  fs::path root_;
};

TEST(NetworkDevices, ListsCardsWithAndWithoutADriverAndNothingElse) {
  test::TempDir dir;
  SysfsTree t(dir.path());
  // A Realtek Ethernet card whose driver loaded, and an Intel Wi-Fi card whose firmware is
  // missing (bound to no driver, so no interface), and a GPU.
  const std::string eth = "sys/bus/pci/devices/0000:02:00.0";
  t.file(eth + "/class", "0x020000");
  t.file(eth + "/vendor", "0x10ec");
  t.file(eth + "/device", "0x8168");
  t.driver(eth, "r8169");
  t.interface(eth, "enp2s0");
  const std::string wifi = "sys/bus/pci/devices/0000:03:00.0";
  t.file(wifi + "/class", "0x028000");
  t.file(wifi + "/vendor", "0x8086");
  t.file(wifi + "/device", "0x24fd");
  const std::string gpu = "sys/bus/pci/devices/0000:00:02.0";
  t.file(gpu + "/class", "0x030000");
  t.file(gpu + "/vendor", "0x8086");
  // USB: a root hub, a memory stick, an RTL8153 adapter (vendor-specific class) without its
  // driver, and a CDC-NCM dock with its interface up.
  t.file("sys/bus/usb/devices/usb1/idVendor", "1d6b");
  t.file("sys/bus/usb/devices/usb1/bDeviceClass", "09");
  t.file("sys/bus/usb/devices/1-1/idVendor", "0781");
  t.file("sys/bus/usb/devices/1-1/idProduct", "5581");
  t.file("sys/bus/usb/devices/1-1/bDeviceClass", "00");
  t.file("sys/bus/usb/devices/1-1:1.0/bInterfaceClass", "08");
  t.file("sys/bus/usb/devices/1-2/idVendor", "0bda");
  t.file("sys/bus/usb/devices/1-2/idProduct", "8153");
  t.file("sys/bus/usb/devices/1-2:1.0/bInterfaceClass", "ff");
  t.file("sys/bus/usb/devices/2-1/idVendor", "17ef");
  t.file("sys/bus/usb/devices/2-1/idProduct", "a387");
  t.file("sys/bus/usb/devices/2-1:1.0/bInterfaceClass", "02");
  t.driver("sys/bus/usb/devices/2-1:1.0", "cdc_ncm");
  t.file("sys/bus/usb/devices/2-1:1.1/bInterfaceClass", "0a");
  t.interface("sys/bus/usb/devices/2-1:1.0", "enx0050b6aabbcc");

  std::vector<std::string> lines;
  for (const NetworkDevice& d : network_devices(MachineRoot(dir.path()))) lines.push_back(d.line());
  EXPECT_EQ(lines, (std::vector<std::string>{
                       "PCI 10ec:8168 r8169 enp2s0",
                       "PCI 8086:24fd no driver (Wi-Fi)",
                       "USB 0bda:8153 no driver",
                       "USB 17ef:a387 cdc_ncm enx0050b6aabbcc",
                   }));
}

TEST(NetworkDevices, ALaptopWithoutAnyHasAnEmptyList) {
  test::TempDir dir;
  SysfsTree t(dir.path());
  t.file("sys/bus/pci/devices/0000:00:02.0/class", "0x030000");
  EXPECT_TRUE(network_devices(MachineRoot(dir.path())).empty());
}

}  // namespace
}  // namespace revive::agent
