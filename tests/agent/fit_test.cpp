#include "revive/agent/fit.hpp"

#include <gtest/gtest.h>

#include "temp_dir.hpp"
#include "test_files.hpp"

namespace revive::agent {
namespace {

// Fails the test on any command: fitting must not run tools on disks it leaves alone.
class NoToolsExec : public Exec {
 public:
  Result<ExecResult> run(const std::vector<std::string>& argv, int) override {
    ADD_FAILURE() << "unexpected command " << argv[0];
    return make_error(Errc::unsupported, "no tools here");
  }
};

TEST(Fit, GrowsToTheLastUsableMiBBoundaryAndNeverShrinks) {
  // 3 GiB, 512-byte sectors: 6291456 sectors; 33 at the end for the backup array + header.
  EXPECT_EQ(grown_last_lba(3ull << 30, 512, 4194270), 6289407u);
  // The same disk the image was made for: the partition already ends at the last usable LBA.
  EXPECT_EQ(grown_last_lba(2ull << 30, 512, 4194270), 4194270u);
  // 4 KiB sectors (786432 of them): a 16 KiB array is 4 sectors, last usable 786426, and the
  // 1 MiB boundary below it is sector 786176.
  EXPECT_EQ(grown_last_lba(3ull << 30, 4096, 100), 786175u);
  // Too small to hold a backup GPT at all: unchanged.
  EXPECT_EQ(grown_last_lba(4096, 512, 3), 3u);
}

TEST(Fit, SgdiskKeepsTypeGuidNameAndAttributes) {
  PartitionEntry p;
  p.number = 2;
  p.first_lba = 67584;
  p.last_lba = 4194270;
  p.type = "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709";
  p.unique_guid = "34E6FD37-D041-449D-A83F-1CC9E25ADB21";
  p.name = "root";
  p.attributes = (1ull << 60) | 1;
  const std::vector<std::string> want = {"sgdisk",    "-e",
                                         "-d",        "2",
                                         "-n",        "2:67584:6289407",
                                         "-t",        "2:4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709",
                                         "-u",        "2:34E6FD37-D041-449D-A83F-1CC9E25ADB21",
                                         "-c",        "2:root",
                                         "-A",        "2:set:0",
                                         "-A",        "2:set:60",
                                         "/dev/loop7"};
  EXPECT_EQ(sgdisk_grow_command("/dev/loop7", p, 6289407), want);
}

TEST(Fit, LeavesMbrAndTablelessDisksAlone) {
  test::TempDir dir;
  const auto disk = dir / "disk";
  test::make_sparse(disk, 8 << 20);
  NoToolsExec exec;
  {
    auto dev = open_block_device(disk);
    ASSERT_TRUE(dev);
    auto r = fit_to_disk(disk, **dev, exec);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ((*r)["scheme"], "none");
    EXPECT_EQ((*r)["grown"], false);
  }
  // An MBR with one Linux partition.
  std::vector<std::byte> mbr(512);
  mbr[446 + 4] = std::byte{0x83};
  mbr[446 + 8] = std::byte{0x00};
  mbr[446 + 9] = std::byte{0x08};  // first LBA 2048
  mbr[446 + 12] = std::byte{0x00};
  mbr[446 + 13] = std::byte{0x08};  // 2048 sectors
  mbr[510] = std::byte{0x55};
  mbr[511] = std::byte{0xAA};
  test::write_at(disk, mbr, 0);
  auto dev = open_block_device(disk);
  ASSERT_TRUE(dev);
  auto r = fit_to_disk(disk, **dev, exec);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ((*r)["scheme"], "mbr");
  EXPECT_EQ((*r)["grown"], false);
  EXPECT_NE((*r)["why"].get<std::string>().find("MBR"), std::string::npos);
}

TEST(Fit, RecognisesFilesystemsBySuperblock) {
  test::TempDir dir;
  const auto disk = dir / "disk";
  test::make_sparse(disk, 1 << 20);
  std::vector<std::byte> ext(2);
  ext[0] = std::byte{0x53};
  ext[1] = std::byte{0xEF};
  test::write_at(disk, ext, 65536 + 1080);
  const char ntfs[] = "NTFS    ";
  test::write_at(disk, std::as_bytes(std::span(ntfs, 8)), 131072 + 3);
  auto dev = open_block_device(disk);
  ASSERT_TRUE(dev);
  EXPECT_EQ(detect_filesystem(**dev, 65536), "ext");
  EXPECT_EQ(detect_filesystem(**dev, 131072), "ntfs");
  EXPECT_EQ(detect_filesystem(**dev, 0), "");
  EXPECT_EQ(detect_filesystem(**dev, (1 << 20) - 512), "");  // past the end: nothing, no crash
}

}  // namespace
}  // namespace revive::agent
