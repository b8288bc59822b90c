// Issue 15, finding 7: the laptop certificate lists every block device and storage controller
// the agent saw, each erased or with the reason it was not, and passes only when all are
// accounted for. The inventories come from the agent's real inventory code over the captured
// laptop trees (tests/data/laptops), some of them changed the way a real laptop could differ.

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "certificate_pdf.hpp"
#include "domain/certifier.hpp"
#include "domain_fixture.hpp"
#include "revive/agent/inventory.hpp"
#include "temp_dir.hpp"

namespace revive::server {
namespace {

namespace fs = std::filesystem;

const std::string kData = REVIVE_TEST_DATA;
const std::string kT480Disk = "S3ZKNB0K512345";  // the serial in the T480's tree

Json inventory_of(const fs::path& root_dir) {
  agent::MachineRoot root(root_dir);
  agent::RecordedExec exec(root.path());
  return agent::collect_inventory(root, exec);
}

// A copy of the T480's tree to change (symlinks stay symlinks, as in sysfs).
fs::path t480_copy(const ::revive::test::TempDir& dir) {
  fs::path to = dir / "t480";
  fs::copy(kData + "/laptops/thinkpad-t480", to,
           fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  return to;
}

// The laptop certificate of a wipe that erased the T480's NVMe disk (and only it).
WipeAssessment wipe_nvme(const Json& inventory) {
  Json evidence = test::wipe_evidence();
  evidence["drives"][0]["drive"]["serial"] = kT480Disk;
  CertificateFacts facts;
  facts.inventory = inventory;
  facts.job_drives = Json::array({{{"name", "nvme0n1"}, {"serial", kT480Disk}}});
  Certifier c([](const Json&) { return std::string("signed"); }, [](double) { return false; },
              [] { return std::string("2026-11-22T10:00:00Z"); });
  return c.assess(facts, {}, evidence, StepStatus::ok, "");
}

Json entry(const Json& laptop, const std::string& address) {
  for (const auto& e : laptop["storage"])
    if (e.value("address", Json("")) == address || e.value("name", Json("")) == address) return e;
  return Json();
}

TEST(StorageAccounting, T480EveryControllerIsListedWithWhatBecameOfItAndThePassHolds) {
  const auto a = wipe_nvme(inventory_of(kData + "/laptops/thinkpad-t480"));
  EXPECT_EQ(a.status, StepStatus::ok) << a.error;
  EXPECT_EQ(a.laptop["result"], "passed") << a.laptop.dump();
  ASSERT_EQ(a.laptop["storage"].size(), 4u) << a.laptop["storage"].dump();
  EXPECT_EQ(entry(a.laptop, "nvme0n1")["status"], "erased");
  EXPECT_EQ(entry(a.laptop, "0000:3c:00.0")["status"], "drives listed");
  EXPECT_EQ(entry(a.laptop, "0000:3c:00.0")["disks"], Json::array({"nvme0n1"}));
  // Controllers with no drive behind them are on the certificate, with the reason.
  const Json sata = entry(a.laptop, "0000:00:17.0");
  EXPECT_EQ(sata["status"], "no drive attached");
  EXPECT_EQ(sata["reason"], "driver ahci is bound and shows no drive behind it");
  const Json reader = entry(a.laptop, "mmc0");
  EXPECT_EQ(reader["bus"], "mmc");
  EXPECT_EQ(reader["status"], "no drive attached");
  EXPECT_NE(reader["reason"].get<std::string>().find("no medium"), std::string::npos);
}

// The printed certificate names each controller, MMC hosts and USB interfaces too (they have
// no PCI address). Read back from the real PDF with poppler's pdftotext.
TEST(StorageAccounting, ThePdfNamesEveryControllerByItsAddress) {
  const auto a = wipe_nvme(inventory_of(kData + "/laptops/thinkpad-t480"));
  auto pdf = cert::render_pdf(cert::sign(a.laptop, KeyPair::generate()));
  ASSERT_TRUE(pdf) << pdf.error().message;
  ::revive::test::TempDir dir;
  std::ofstream(dir / "laptop.pdf", std::ios::binary) << *pdf;
  const std::string cmd = "pdftotext -layout '" + (dir / "laptop.pdf").string() + "' -";
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string text;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) text.append(buf, n);
  ASSERT_EQ(::pclose(p), 0) << "pdftotext failed";
  for (const char* line : {"Controller 0000:3c:00.0", "Controller 0000:00:17.0", "Controller mmc0"})
    EXPECT_NE(text.find(line), std::string::npos) << line << " in:\n" << text;
}

TEST(StorageAccounting, ASecondDriveTheJobDidNotNameMeansNoPass) {
  ::revive::test::TempDir dir;
  const fs::path root = t480_copy(dir);
  // A 2.5" SATA drive in the T480's bay, behind the AHCI controller.
  const std::string dev =
      "devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block/sda";
  fs::create_directories(root / "sys" / dev);
  std::ofstream(root / "sys" / dev / "size") << "976773168\n";
  fs::create_symlink("../" + dev, root / "sys/block/sda");
  const auto a = wipe_nvme(inventory_of(root));
  EXPECT_EQ(a.status, StepStatus::failed);
  EXPECT_EQ(a.laptop["result"], "failed");
  EXPECT_EQ(entry(a.laptop, "sda")["status"], "not erased");
  EXPECT_EQ(entry(a.laptop, "sda")["reason"], "the wipe job did not name this internal drive");
  EXPECT_EQ(entry(a.laptop, "0000:00:17.0")["disks"], Json::array({"sda"}));
  EXPECT_NE(a.laptop["reason"].get<std::string>().find("sda"), std::string::npos);
}

// The T480 booted from a USB stick (usb-storage behind the xHCI controller), with the kernel
// command line GRUB on the stick gives (`cmdline`) and blkid's answer for the stick's GPT GUID.
fs::path t480_with_stick(const ::revive::test::TempDir& dir, const std::string& cmdline,
                         const std::string& stick_guid) {
  fs::path root = t480_copy(dir);
  const fs::path sys = root / "sys";
  const std::string intf = "devices/pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0";
  const std::string dev = intf + "/host2/target2:0:0/2:0:0:0/block/sdb";
  fs::create_directories(sys / dev);
  std::ofstream(sys / dev / "size") << "92160\n";
  std::ofstream(sys / dev / "removable") << "1\n";
  fs::create_symlink("../" + dev, sys / "block/sdb");
  fs::create_directories(sys / "bus/usb/devices");
  fs::create_symlink("../../../" + intf, sys / "bus/usb/devices/2-1:1.0");
  std::ofstream(sys / intf / "bInterfaceClass") << "08\n";
  fs::create_symlink("../../../../../../bus/usb/drivers/usb-storage", sys / intf / "driver");
  std::ofstream(root / "proc/cmdline") << cmdline << "\n";
  std::ofstream(root / "exec/smartctl -j -a _dev_sdb") << "exit 1\n{}\n";
  std::ofstream(root / "exec/blkid -p -s PTUUID -o value _dev_sdb") << "exit 0\n"
                                                                    << stick_guid << "\n";
  return root;
}

const std::string kStickGuid = "6d19a6b2-4c1d-4e2f-8a3b-0c1d2e3f4a5b";

TEST(StorageAccounting, TheReviveStickTheLaptopBootedFromIsItsBootMediumAndThePassHolds) {
  ::revive::test::TempDir dir;
  const auto inv = inventory_of(t480_with_stick(
      dir, "BOOT_IMAGE=/live/vmlinuz revive.agent=1 revive.stick=" + kStickGuid, kStickGuid));
  const auto a = wipe_nvme(inv);
  EXPECT_EQ(a.status, StepStatus::ok) << a.error;
  EXPECT_EQ(a.laptop["result"], "passed") << a.laptop.dump();
  const Json stick = entry(a.laptop, "sdb");
  EXPECT_EQ(stick["status"], "boot medium");
  EXPECT_EQ(stick["transport"], "USB");
  EXPECT_EQ(entry(a.laptop, "2-1:1.0")["disks"], Json::array({"sdb"}));
}

TEST(StorageAccounting, AnotherUsbStickThanTheOneBootedFromMeansNoPass) {
  for (const std::string& cmdline :
       {std::string("revive.agent=1"),  // network boot: no stick on the command line
        "revive.agent=1 revive.stick=" + kStickGuid,
        std::string("revive.agent=1 revive.stick=1")}) {  // no GUID: nothing matches
    SCOPED_TRACE(cmdline);
    ::revive::test::TempDir dir;
    // The USB disk plugged in is the donor's, with its own GPT GUID.
    const auto inv =
        inventory_of(t480_with_stick(dir, cmdline, "0f0e0d0c-0b0a-4908-8706-050403020100"));
    const auto a = wipe_nvme(inv);
    EXPECT_EQ(a.status, StepStatus::failed);
    EXPECT_EQ(a.laptop["result"], "failed");
    EXPECT_EQ(entry(a.laptop, "sdb")["status"], "not erased");
    EXPECT_NE(entry(a.laptop, "sdb")["reason"].get<std::string>().find("never erased"),
              std::string::npos);
  }
}

TEST(StorageAccounting, AControllerWithoutADriverMeansNoPass) {
  ::revive::test::TempDir dir;
  const fs::path root = t480_copy(dir);
  fs::remove(root / "sys/devices/pci0000:00/0000:00:17.0/driver");  // no driver in the live image
  const auto a = wipe_nvme(inventory_of(root));
  EXPECT_EQ(a.laptop["result"], "failed");
  const Json sata = entry(a.laptop, "0000:00:17.0");
  EXPECT_EQ(sata["status"], "not accounted for");
  EXPECT_NE(sata["reason"].get<std::string>().find("no driver"), std::string::npos);
}

TEST(StorageAccounting, AControllerShowingADriveTheDiskListLacksMeansNoPass) {
  Json inv = inventory_of(kData + "/laptops/thinkpad-t480");
  for (auto& c : inv["storage_controllers"])
    if (c["address"] == "0000:00:17.0") c["disks"] = Json::array({"sda"});
  const auto a = wipe_nvme(inv);
  EXPECT_EQ(a.laptop["result"], "failed");
  EXPECT_EQ(entry(a.laptop, "0000:00:17.0")["status"], "not accounted for");
}

TEST(StorageAccounting, WithoutTheControllerListNothingPasses) {
  Json inv = inventory_of(kData + "/laptops/thinkpad-t480");
  inv.erase("storage_controllers");  // an older agent, or one that hides them
  const auto a = wipe_nvme(inv);
  EXPECT_EQ(a.laptop["result"], "failed");
  EXPECT_EQ(a.laptop["storage_note"], "the agent did not report the storage controllers");
  EXPECT_FALSE(wipe_nvme(Json()).laptop["result"] == "passed") << "no inventory, no pass";
}

}  // namespace
}  // namespace revive::server
