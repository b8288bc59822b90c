#include "revive/partition_table.hpp"

#include <gtest/gtest.h>

#include <cstring>

namespace revive {
namespace {

void put32(std::vector<std::byte>& b, std::size_t off, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b[off + i] = static_cast<std::byte>(v >> (8 * i));
}
void put64(std::vector<std::byte>& b, std::size_t off, std::uint64_t v) {
  put32(b, off, static_cast<std::uint32_t>(v));
  put32(b, off + 4, static_cast<std::uint32_t>(v >> 32));
}

// The EFI System Partition type GUID C12A7328-F81F-11D2-BA4B-00A0C93EC93B on disk.
const std::uint8_t kEsp[16] = {0x28, 0x73, 0x2A, 0xC1, 0x1F, 0xF8, 0xD2, 0x11,
                               0xBA, 0x4B, 0x00, 0xA0, 0xC9, 0x3E, 0xC9, 0x3B};
const std::uint8_t kLinux[16] = {0xAF, 0x3D, 0xC6, 0x0F, 0x83, 0x84, 0x72, 0x47,
                                 0x8E, 0x79, 0x3D, 0x69, 0xD8, 0x47, 0x7D, 0xE4};

// A GPT disk as sgdisk writes it: header at LBA 1, 128 entries of 128 bytes at LBA 2.
std::vector<std::byte> make_gpt(std::uint64_t disk_sectors) {
  std::vector<std::byte> b(std::size_t{34} * 512);
  b[510] = std::byte{0x55};
  b[511] = std::byte{0xAA};
  b[446 + 4] = std::byte{0xEE};
  std::byte* e = b.data() + 1024;
  std::memcpy(e, kEsp, 16);
  put64(b, 1024 + 32, 2048);
  put64(b, 1024 + 40, 206847);
  const char16_t name[] = u"EFI system";
  for (std::size_t i = 0; name[i]; ++i) {
    b[1024 + 56 + 2 * i] = static_cast<std::byte>(name[i]);
  }
  std::memcpy(b.data() + 1024 + 128, kLinux, 16);
  put64(b, 1024 + 128 + 32, 206848);
  put64(b, 1024 + 128 + 40, disk_sectors - 34);
  std::memcpy(b.data() + 512, "EFI PART", 8);
  put32(b, 512 + 8, 0x00010000);
  put32(b, 512 + 12, 92);
  put64(b, 512 + 24, 1);
  put64(b, 512 + 32, disk_sectors - 1);
  put64(b, 512 + 72, 2);
  put32(b, 512 + 80, 128);
  put32(b, 512 + 84, 128);
  put32(b, 512 + 88, crc32_ieee({b.data() + 1024, std::size_t{128} * 128}));
  put32(b, 512 + 16, crc32_ieee({b.data() + 512, 92}));
  return b;
}

TEST(Crc32, KnownVector) {
  const char* s = "123456789";
  EXPECT_EQ(crc32_ieee({reinterpret_cast<const std::byte*>(s), 9}), 0xCBF43926u);
}

TEST(PartitionTable, ReadsGpt) {
  const std::uint64_t sectors = 4u << 20;  // 2 GiB
  auto t = parse_partition_table(make_gpt(sectors), sectors * 512);
  EXPECT_EQ(t.scheme, "gpt");
  EXPECT_TRUE(t.warnings.empty()) << t.warnings.front();
  ASSERT_EQ(t.partitions.size(), 2u);
  EXPECT_EQ(t.partitions[0].type_name, "EFI System");
  EXPECT_EQ(t.partitions[0].name, "EFI system");
  EXPECT_EQ(t.partitions[0].first_lba, 2048u);
  EXPECT_EQ(t.partitions[1].type_name, "Linux filesystem");
  EXPECT_EQ(t.partitions[1].last_lba, sectors - 34);
}

TEST(PartitionTable, GptCrcMismatchAndOutOfRangeAreWarnings) {
  const std::uint64_t sectors = 4u << 20;
  auto b = make_gpt(sectors);
  b[1024 + 56] = std::byte{'X'};  // partition name changed, entry CRC now wrong
  auto t = parse_partition_table(b, sectors * 512);
  EXPECT_EQ(t.scheme, "gpt");
  ASSERT_FALSE(t.warnings.empty());
  EXPECT_NE(t.warnings[0].find("CRC"), std::string::npos);
  auto small = parse_partition_table(make_gpt(sectors), 1u << 20);  // image smaller than table says
  bool outside = false;
  for (const auto& w : small.warnings) outside = outside || w.find("outside") != std::string::npos;
  EXPECT_TRUE(outside);
}

TEST(PartitionTable, TruncatedHeadNeverCrashes) {
  auto b = make_gpt(1u << 20);
  for (std::size_t n : {0u, 100u, 511u, 512u, 600u, 1024u, 2000u}) {
    auto t = parse_partition_table(std::span(b).first(n), 1u << 29);
    EXPECT_TRUE(t.scheme == "none" || t.scheme == "mbr" || !t.warnings.empty()) << n;
  }
  // Absurd entry geometry.
  put32(b, 512 + 80, 0xFFFFFFFF);
  EXPECT_FALSE(parse_partition_table(b, 1u << 29).warnings.empty());
}

TEST(PartitionTable, ReadsMbr) {
  std::vector<std::byte> b(512);
  b[510] = std::byte{0x55};
  b[511] = std::byte{0xAA};
  b[446] = std::byte{0x80};
  b[446 + 4] = std::byte{0x83};
  put32(b, 446 + 8, 2048);
  put32(b, 446 + 12, 100000);
  auto t = parse_partition_table(b, 1u << 30);
  EXPECT_EQ(t.scheme, "mbr");
  ASSERT_EQ(t.partitions.size(), 1u);
  EXPECT_EQ(t.partitions[0].type, "0x83");
  EXPECT_EQ(t.partitions[0].last_lba, 2048u + 100000 - 1);
}

TEST(PartitionTable, NoTable) {
  std::vector<std::byte> zeros(std::size_t{64} * 1024);
  EXPECT_EQ(parse_partition_table(zeros, zeros.size()).scheme, "none");
  std::vector<std::byte> fat(512);  // boot sector with a signature but junk "entries"
  fat[510] = std::byte{0x55};
  fat[511] = std::byte{0xAA};
  fat[446] = std::byte{0x12};
  EXPECT_EQ(parse_partition_table(fat, 1u << 20).scheme, "none");
}

}  // namespace
}  // namespace revive
