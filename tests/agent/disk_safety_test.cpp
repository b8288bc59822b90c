#include "revive/agent/disk_safety.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "temp_dir.hpp"

namespace revive::agent {
namespace {

namespace fs = std::filesystem;

class DiskSafety : public ::testing::Test {
 protected:
  void put(const std::string& rel, const std::string& text) {
    fs::create_directories((dir_ / rel).parent_path());
    std::ofstream(dir_ / rel) << text;
  }
  void mkdir(const std::string& rel) { fs::create_directories(dir_ / rel); }
  void SetUp() override {
    // A laptop: nvme0n1 with two partitions; nothing mounted from it yet.
    put("sys/block/nvme0n1/ro", "0\n");
    mkdir("sys/block/nvme0n1/holders");
    put("sys/block/nvme0n1/nvme0n1p1/partition", "1\n");
    mkdir("sys/block/nvme0n1/nvme0n1p1/holders");
    put("sys/block/nvme0n1/nvme0n1p2/partition", "2\n");
    mkdir("sys/block/nvme0n1/nvme0n1p2/holders");
    put("sys/block/loop0/ro", "0\n");
    put("sys/block/loop0/loop/backing_file", "/srv/images/other.img\n");
    put("proc/self/mounts", "proc /proc proc rw 0 0\n/dev/loop0 /mnt/other ext4 rw 0 0\n");
    put("proc/swaps", "Filename Type Size Used Priority\n");
  }
  std::optional<std::string> check(const fs::path& disk) {
    return disk_in_use(MachineRoot(dir_.path()), disk);
  }
  test::TempDir dir_;
};

TEST_F(DiskSafety, AnIdleDiskMayBeWritten) { EXPECT_EQ(check("/dev/nvme0n1"), std::nullopt); }

TEST_F(DiskSafety, AMountedPartitionOrSwapRefusesTheWholeDisk) {
  put("proc/self/mounts", "/dev/nvme0n1p2 /home ext4 rw 0 0\n");
  auto why = check("/dev/nvme0n1");
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("/dev/nvme0n1p2 is mounted on /home"), std::string::npos) << *why;
  put("proc/self/mounts", "");
  put("proc/swaps", "Filename Type Size Used Priority\n/dev/nvme0n1p1 partition 8388604 0 -2\n");
  why = check("/dev/nvme0n1");
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("swap"), std::string::npos);
}

TEST_F(DiskSafety, RaidOrDeviceMapperMembersAndReadOnlyDisksAreRefused) {
  mkdir("sys/block/nvme0n1/nvme0n1p2/holders/dm-0");
  auto why = check("/dev/nvme0n1");
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("belongs to /dev/dm-0"), std::string::npos) << *why;
  fs::remove_all(dir_ / "sys/block/nvme0n1/nvme0n1p2/holders/dm-0");
  put("sys/block/nvme0n1/ro", "1\n");
  why = check("/dev/nvme0n1");
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("read-only"), std::string::npos);
}

TEST_F(DiskSafety, AFilesystemMountedThroughAStackedLoopDeviceIsSeen) {
  // losetup --offset over a partition of the disk, then mounted: the kernel's exclusive open of
  // the disk does not notice this.
  put("sys/block/loop5/loop/backing_file", "/dev/nvme0n1p2\n");
  mkdir("sys/block/loop5/holders");
  put("proc/self/mounts", "/dev/loop5 /mnt/x ext4 rw 0 0\n");
  auto why = check("/dev/nvme0n1");
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("/dev/loop5 is mounted on /mnt/x"), std::string::npos) << *why;
}

TEST_F(DiskSafety, ASimulatedFileDiskMountedThroughALoopDevice) {
  const fs::path file = dir_ / "laptop.disk";
  put("laptop.disk", "");
  EXPECT_EQ(check(file), std::nullopt);
  put("sys/block/loop7/loop/backing_file", fs::weakly_canonical(file).string() + "\n");
  put("proc/self/mounts", "/dev/loop7 /mnt/sim ext4 rw 0 0\n");
  auto why = check(file);
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("/dev/loop7 is mounted on /mnt/sim"), std::string::npos) << *why;
}

// sysfs as the kernel lays it out: sys/block/X is a link into sys/devices.
class ExternalDrives : public ::testing::Test {
 protected:
  void disk(const std::string& name, const std::string& device_dir, const std::string& removable) {
    const fs::path dir = dir_ / "sys/devices" / device_dir / "block" / name;
    fs::create_directories(dir);
    std::ofstream(dir / "removable") << removable << "\n";
    fs::create_directories(dir_ / "sys/block");
    fs::create_symlink(fs::path("../devices") / device_dir / "block" / name,
                       dir_ / "sys/block" / name);
  }
  void put(const std::string& rel, const std::string& text) {
    fs::create_directories((dir_ / rel).parent_path());
    std::ofstream(dir_ / rel) << text;
  }
  std::optional<std::string> check(const std::string& name) {
    return external_drive(MachineRoot(dir_.path()), name);
  }
  test::TempDir dir_;
};

TEST_F(ExternalDrives, TheLaptopsOwnDrivesMayBeWritten) {
  disk("nvme0n1", "pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0", "0");
  put("sys/devices/pci0000:00/0000:00:1d.0/removable", "fixed\n");
  disk("sda", "pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0", "0");
  disk("mmcblk0", "pci0000:00/0000:00:1c.0/mmc_host/mmc0/mmc0:0001", "0");
  EXPECT_EQ(check("nvme0n1"), std::nullopt);
  EXPECT_EQ(check("sda"), std::nullopt);
  EXPECT_EQ(check("mmcblk0"), std::nullopt);
}

TEST_F(ExternalDrives, UsbRemovableAndThunderboltDrivesAreRefused) {
  // A USB stick (removable), a USB SSD that says it is fixed, a Thunderbolt NVMe enclosure
  // (PCIe below a port the kernel marks removable), a drive on a Thunderbolt domain.
  disk("sdb", "pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0/host1/target1:0:0/1:0:0:0", "1");
  disk("sdc", "pci0000:00/0000:00:14.0/usb3/3-2/3-2:1.0/host2/target2:0:0/2:0:0:0", "0");
  disk("nvme1n1", "pci0000:00/0000:00:07.0/0000:05:00.0/0000:06:01.0/0000:08:00.0/nvme/nvme1", "0");
  put("sys/devices/pci0000:00/0000:00:07.0/0000:05:00.0/removable", "removable\n");
  disk("sdd", "pci0000:00/0000:00:0d.2/domain0/0-0/0-1/host3/target3:0:0/3:0:0:0", "0");
  disk("sde", "platform/sdhci/mmc1/mmc1:aaaa", "1");
  auto usb_stick = check("sdb");
  ASSERT_TRUE(usb_stick);
  EXPECT_NE(usb_stick->find("/dev/sdb is removable media"), std::string::npos) << *usb_stick;
  auto usb_ssd = check("sdc");
  ASSERT_TRUE(usb_ssd);
  EXPECT_NE(usb_ssd->find("attached through USB (usb3)"), std::string::npos) << *usb_ssd;
  auto tb = check("nvme1n1");
  ASSERT_TRUE(tb);
  EXPECT_NE(tb->find("removable (external) port 0000:05:00.0"), std::string::npos) << *tb;
  auto domain = check("sdd");
  ASSERT_TRUE(domain);
  EXPECT_NE(domain->find("Thunderbolt"), std::string::npos) << *domain;
  EXPECT_TRUE(check("sde"));
  for (const auto* why : {&*usb_stick, &*usb_ssd, &*tb})
    EXPECT_NE(why->find("whatever the job says"), std::string::npos);
}

TEST_F(ExternalDrives, ADriveSysfsDoesNotKnowIsRefused) {
  EXPECT_TRUE(check("sdz"));
  EXPECT_TRUE(check("../../etc"));
  EXPECT_TRUE(check(""));
}

}  // namespace
}  // namespace revive::agent
