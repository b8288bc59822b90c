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

}  // namespace
}  // namespace revive::agent
