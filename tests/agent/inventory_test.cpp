#include "revive/agent/inventory.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>

#include "temp_dir.hpp"

namespace revive::agent {
namespace {

const std::string kData = REVIVE_TEST_DATA;

TEST(Inventory, ThinkPadT480) {
  MachineRoot root(kData + "/laptops/thinkpad-t480");
  RecordedExec exec(root.path());
  const Json inv = collect_inventory(root, exec);
  EXPECT_TRUE(inv["warnings"].empty()) << inv["warnings"].dump();
  const Json id = identity_of(inv);
  EXPECT_EQ(id["vendor"], "LENOVO");
  EXPECT_EQ(id["model"], "ThinkPad T480 (20L5CTO1WW)");
  EXPECT_EQ(id["serial"], "PF1R2D7X");
  EXPECT_EQ(id["system_uuid"], "8B3C71E2-5A4F-11E8-9C2D-FA7AE01BBEBC");
  EXPECT_EQ(inv["cpu"]["model"], "Intel(R) Core(TM) i7-8650U CPU @ 1.90GHz");
  EXPECT_EQ(inv["cpu"]["threads"], 8);
  EXPECT_EQ(inv["cpu"]["cores"], 4);
  EXPECT_EQ(inv["cpu"]["family"], 6);
  EXPECT_EQ(inv["cpu"]["model_id"], 142);
  EXPECT_EQ(inv["memory"]["installed_mib"], 32768);
  EXPECT_EQ(inv["memory"]["total_mib"], 31881);
  ASSERT_EQ(inv["disks"].size(), 1u);
  const Json& d = inv["disks"][0];
  EXPECT_EQ(d["transport"], "NVMe");
  EXPECT_EQ(d["size_bytes"], 256060514304LL);
  EXPECT_EQ(d["model"], "SAMSUNG KUS030202M-B000");
  EXPECT_EQ(d["rotational"], false);
  EXPECT_EQ(d["smart"]["passed"], true);
  EXPECT_EQ(d["smart"]["nvme"]["media_errors"], 4360570);
  EXPECT_EQ(d["smart"]["nvme"]["percentage_used"], 5);
  EXPECT_EQ(d["smart"]["power_on_hours"], 2522);
  ASSERT_EQ(inv["batteries"].size(), 2u);
  EXPECT_EQ(inv["batteries"][0]["manufacturer"], "SMP");
  EXPECT_DOUBLE_EQ(inv["batteries"][0]["health_pct"].get<double>(), 72.7);
  EXPECT_EQ(inv["batteries"][0]["cycle_count"], 412);
  ASSERT_EQ(inv["nics"].size(), 2u);
  EXPECT_EQ(inv["nics"][0]["driver"], "e1000e");
  EXPECT_EQ(inv["nics"][0]["speed_mbps"], 1000);
  EXPECT_EQ(inv["nics"][1]["wireless"], true);
  ASSERT_EQ(inv["gpus"].size(), 1u);
  EXPECT_EQ(inv["gpus"][0]["device_id"], "0x5917");
  EXPECT_EQ(inv["tpm"]["version"], 2);
  EXPECT_EQ(inv["firmware"]["mode"], "uefi");
  EXPECT_EQ(inv["firmware"]["secure_boot"], true);
}

TEST(Inventory, EmptyRootGivesUnknownsNotACrash) {
  test::TempDir dir;
  MachineRoot root(dir.path());
  RecordedExec exec(root.path());
  const Json inv = collect_inventory(root, exec);
  EXPECT_FALSE(inv["warnings"].empty());
  EXPECT_TRUE(inv["disks"].empty());
  EXPECT_TRUE(inv["cpu"]["model"].is_null());
  EXPECT_EQ(inv["firmware"]["mode"], "legacy");
  EXPECT_EQ(identity_of(inv)["serial"], "");
}

TEST(Inventory, BatteryWithZeroDesignCapacityAndChargeUnits) {
  test::TempDir dir;
  auto put = [&](const std::string& rel, const std::string& v) {
    std::filesystem::create_directories((dir.path() / rel).parent_path());
    std::ofstream(dir.path() / rel) << v << "\n";
  };
  put("sys/class/power_supply/BAT0/type", "Battery");
  put("sys/class/power_supply/BAT0/energy_full_design", "0");
  put("sys/class/power_supply/BAT0/energy_full", "0");
  put("sys/class/power_supply/BAT0/cycle_count", "0");
  put("sys/class/power_supply/BAT1/type", "Battery");
  put("sys/class/power_supply/BAT1/charge_full_design", "4000000");  // µAh
  put("sys/class/power_supply/BAT1/charge_full", "3000000");
  put("sys/class/power_supply/BAT1/voltage_min_design", "11100000");  // µV
  MachineRoot root(dir.path());
  RecordedExec exec(root.path());
  const Json inv = collect_inventory(root, exec);
  ASSERT_EQ(inv["batteries"].size(), 2u);
  EXPECT_TRUE(inv["batteries"][0]["health_pct"].is_null());   // unknown, not 0% or a crash
  EXPECT_TRUE(inv["batteries"][0]["cycle_count"].is_null());  // 0 means unknown
  EXPECT_DOUBLE_EQ(inv["batteries"][1]["design_wh"].get<double>(), 44.4);
  EXPECT_DOUBLE_EQ(inv["batteries"][1]["health_pct"].get<double>(), 75.0);
}

TEST(Inventory, UsbBridgedDiskIsUsbAndItsSmartUnknown) {
  test::TempDir dir;
  namespace fs = std::filesystem;
  const std::string dev =
      "devices/pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0/host2/target2:0:0/2:0:0:0/block/sdb";
  fs::create_directories(dir.path() / "sys" / dev / "queue");
  fs::create_directories(dir.path() / "sys/block");
  fs::create_symlink("../" + dev, dir.path() / "sys/block/sdb");
  std::ofstream(dir.path() / "sys" / dev / "size") << "976773168\n";
  std::ofstream(dir.path() / "sys" / dev / "removable") << "0\n";
  fs::create_directories(dir.path() / "exec");
  std::ofstream(dir.path() / "exec" / "smartctl -j -a _dev_sdb")
      << "exit 1\n{\"smartctl\":{\"messages\":[{\"string\":\"/dev/sdb: Unknown USB bridge "
         "[0x152d:0x0578 (0x214)]\",\"severity\":\"error\"}]}}\n";
  MachineRoot root(dir.path());
  RecordedExec exec(root.path());
  const Json inv = collect_inventory(root, exec);
  ASSERT_EQ(inv["disks"].size(), 1u);
  EXPECT_EQ(inv["disks"][0]["transport"], "USB");
  EXPECT_FALSE(inv["disks"][0]["smart"]["available"].get<bool>());
  EXPECT_NE(inv["disks"][0]["smart"]["error"].get<std::string>().find("USB bridge"),
            std::string::npos);
  EXPECT_EQ(inv["disks"][0]["size_bytes"], 976773168LL * 512);
}

TEST(Inventory, SmartctlAnswers) {
  const Json bad = parse_smartctl("not json", 2);
  EXPECT_FALSE(bad["available"].get<bool>());
  const Json usb = parse_smartctl(
      R"({"smartctl":{"messages":[{"string":"/dev/sdb: Unknown USB bridge [0x152d:0x0578]","severity":"error"}]}})",
      1);
  EXPECT_NE(usb["error"].get<std::string>().find("USB bridge"), std::string::npos);
  const Json ata =
      parse_smartctl(R"({"smart_status":{"passed":false},"power_on_time":{"hours":31000},
    "ata_smart_attributes":{"table":[{"id":5,"raw":{"value":12}},{"id":9,"raw":{"value":31000}},{"id":197,"raw":{"value":3}}]}})",
                     8);
  EXPECT_EQ(ata["passed"], false);
  EXPECT_EQ(ata["ata_attributes"]["5"], 12);
  EXPECT_EQ(ata["ata_attributes"]["197"], 3);
  EXPECT_FALSE(ata["ata_attributes"].contains("9"));
}

TEST(PickInternalDisk, PrefersNvmeAndNeverRemovableOrUsb) {
  using revive::agent::pick_internal_disk;
  auto disk = [](const char* name, const char* transport, long long size, bool removable = false) {
    return revive::agent::Json{
        {"name", name}, {"transport", transport}, {"size_bytes", size}, {"removable", removable}};
  };
  revive::agent::Json inv = {
      {"disks",
       {disk("sda", "SATA", 500LL << 30), disk("nvme0n1", "NVMe", 256LL << 30),
        disk("sdb", "USB", 32LL << 30), disk("mmcblk0", "eMMC", 64LL << 30)}}};
  EXPECT_EQ(pick_internal_disk(inv), "nvme0n1");
  inv["disks"].erase(1);
  EXPECT_EQ(pick_internal_disk(inv), "sda");
  inv["disks"] = {disk("sdb", "USB", 32LL << 30), disk("sdc", "SATA", 8LL << 30, true),
                  disk("sdd", "SATA", 0)};
  EXPECT_EQ(pick_internal_disk(inv), std::nullopt)
      << "a USB stick, a card reader and an empty slot are not the system disk";
  inv["disks"].push_back(disk("mmcblk0", "eMMC", 64LL << 30));
  EXPECT_EQ(pick_internal_disk(inv), "mmcblk0");
}

namespace storage_controller_tests {

namespace fs = std::filesystem;

Json find_controller(const Json& inv, const std::string& address) {
  for (const auto& c : inv["storage_controllers"])
    if (c["address"] == address) return c;
  return Json();
}

// Issue 15, finding 7: every storage controller is reported, with the disks behind it, so the
// laptop certificate can account for each.
TEST(StorageControllers, ThinkPadT480ShowsTheNvmeTheEmptySataBayAndTheCardReader) {
  MachineRoot root(kData + "/laptops/thinkpad-t480");
  RecordedExec exec(root.path());
  const Json inv = collect_inventory(root, exec);
  ASSERT_EQ(inv["storage_controllers"].size(), 3u) << inv["storage_controllers"].dump();
  const Json nvme = find_controller(inv, "0000:3c:00.0");
  EXPECT_EQ(nvme["bus"], "pci");
  EXPECT_EQ(nvme["pci"], "0000:3c:00.0");
  EXPECT_EQ(nvme["class"], "0x010802");
  EXPECT_EQ(nvme["driver"], "nvme");
  EXPECT_EQ(nvme["disks"], Json::array({"nvme0n1"}));
  const Json sata = find_controller(inv, "0000:00:17.0");
  EXPECT_EQ(sata["driver"], "ahci");
  EXPECT_EQ(sata["disks"], Json::array());
  // The Realtek reader's PCI class is "unassigned": only its MMC host shows it.
  const Json reader = find_controller(inv, "mmc0");
  EXPECT_EQ(reader["bus"], "mmc");
  EXPECT_EQ(reader["driver"], "rtsx_pci_sdmmc");
  EXPECT_EQ(reader["disks"], Json::array());
  EXPECT_TRUE(find_controller(inv, "0000:00:02.0").is_null()) << "a GPU is no storage";
}

// An eMMC's own wear estimates, from its card's sysfs (JEDEC eMMC 5.0): numbers, values outside
// the standard's left out, null when the card gives none (the recorded HP Stream's gives none).
TEST(Inventory, AnEmmcSaysItsOwnWear) {
  namespace fs = std::filesystem;
  test::TempDir dir;
  const fs::path to = dir.path() / "hp-stream-11";
  fs::copy(kData + "/laptops/hp-stream-11", to,
           fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  const auto health = [&] {
    MachineRoot root(to);
    RecordedExec exec(root.path());
    const Json inv = collect_inventory(root, exec);
    for (const auto& d : inv["disks"]) {
      if (d["name"] == "mmcblk0") return d["emmc_health"];
    }
    return Json("no mmcblk0");
  };
  EXPECT_TRUE(health().is_null()) << health();
  const fs::path card = to /
                        "sys/devices/pci0000:00/0000:00:10.0/mmc_host/mmc0/mmc0:0001/block/"
                        "mmcblk0/device";
  std::ofstream(card / "life_time") << "0x02 0x0a\n";
  std::ofstream(card / "pre_eol_info") << "0x02\n";
  EXPECT_EQ(health(), Json({{"life_time_a", 2}, {"life_time_b", 10}, {"pre_eol", 2}}));
  std::ofstream(card / "life_time") << "0x0c zz\n";  // past the standard's values; not hex
  std::ofstream(card / "pre_eol_info") << "0x00\n";  // not defined
  EXPECT_TRUE(health().is_null()) << health();
}

TEST(StorageControllers, HpStream11ShowsBothSdHostsOnceAndTheEmmcBehindOne) {
  MachineRoot root(kData + "/laptops/hp-stream-11");
  RecordedExec exec(root.path());
  const Json inv = collect_inventory(root, exec);
  // The MMC hosts hang on the PCI SD host controllers: those are listed, not twice.
  ASSERT_EQ(inv["storage_controllers"].size(), 2u) << inv["storage_controllers"].dump();
  const Json emmc = find_controller(inv, "0000:00:10.0");
  EXPECT_EQ(emmc["class"], "0x080501");
  EXPECT_EQ(emmc["driver"], "sdhci-pci");
  EXPECT_EQ(emmc["disks"], Json::array({"mmcblk0"})) << "boot partitions are not disks";
  EXPECT_EQ(find_controller(inv, "0000:00:12.0")["disks"], Json::array());
}

TEST(StorageControllers, UsbMassStorageAndAControllerWithoutADriver) {
  test::TempDir dir;
  const fs::path sys = dir.path() / "sys";
  const std::string intf = "devices/pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0";
  fs::create_directories(sys / intf / "host2/target2:0:0/2:0:0:0/block/sdb");
  fs::create_directories(sys / "block");
  fs::create_symlink("../" + intf + "/host2/target2:0:0/2:0:0:0/block/sdb", sys / "block/sdb");
  fs::create_directories(sys / "bus/usb/devices");
  fs::create_symlink("../../../" + intf, sys / "bus/usb/devices/2-1:1.0");
  std::ofstream(sys / intf / "bInterfaceClass") << "08\n";
  fs::create_symlink("../../../../../../bus/usb/drivers/uas", sys / intf / "driver");
  // A SATA controller the kernel has no driver for: it is listed, with no driver.
  fs::create_directories(sys / "devices/pci0000:00/0000:00:17.0");
  fs::create_directories(sys / "bus/pci/devices");
  fs::create_symlink("../../../devices/pci0000:00/0000:00:17.0",
                     sys / "bus/pci/devices/0000:00:17.0");
  std::ofstream(sys / "devices/pci0000:00/0000:00:17.0/class") << "0x010601\n";
  MachineRoot root(dir.path());
  RecordedExec exec(root.path());
  const Json inv = collect_inventory(root, exec);
  ASSERT_EQ(inv["storage_controllers"].size(), 2u) << inv["storage_controllers"].dump();
  const Json usb = find_controller(inv, "2-1:1.0");
  EXPECT_EQ(usb["bus"], "usb");
  EXPECT_EQ(usb["class"], "usb_mass_storage");
  EXPECT_EQ(usb["driver"], "uas");
  EXPECT_EQ(usb["disks"], Json::array({"sdb"}));
  EXPECT_EQ(find_controller(inv, "0000:00:17.0")["driver"], "");
}

TEST(StorageControllers, AnEmptyRootHasNone) {
  test::TempDir dir;
  MachineRoot root(dir.path());
  RecordedExec exec(root.path());
  EXPECT_EQ(collect_inventory(root, exec)["storage_controllers"], Json::array());
}

}  // namespace storage_controller_tests

}  // namespace
}  // namespace revive::agent
