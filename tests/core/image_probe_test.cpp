#include "revive/image_probe.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace revive {
namespace {

std::vector<std::byte> head_with(std::size_t offset, std::string_view magic,
                                 std::size_t size = std::size_t{128} * 1024) {
  std::vector<std::byte> head(size);
  std::memcpy(head.data() + offset, magic.data(), magic.size());
  return head;
}

// An MBR with one Linux partition from sector 2048, as fdisk writes it.
std::vector<std::byte> mbr_disk() {
  std::vector<std::byte> head(4096);
  std::byte* e = head.data() + 446;
  e[4] = std::byte{0x83};
  e[8] = std::byte{0x00};
  e[9] = std::byte{0x08};  // start 2048
  e[12] = std::byte{0x00};
  e[13] = std::byte{0x08};  // 2048 sectors
  head[510] = std::byte{0x55};
  head[511] = std::byte{0xAA};
  return head;
}

TEST(ImageProbe, KnowsEachSignatureByItsPlace) {
  struct Case {
    std::vector<std::byte> head;
    ContentKind kind;
    const char* what;
    const char* qemu_format;
  };
  const Case cases[] = {
      {head_with(0x438, "\x53\xef"), ContentKind::filesystem, "an ext2/3/4 filesystem", ""},
      {head_with(0, "XFSB"), ContentKind::filesystem, "an XFS filesystem", ""},
      {head_with(0x10040, "_BHRfS_M"), ContentKind::filesystem, "a btrfs filesystem", ""},
      {head_with(3, "NTFS    "), ContentKind::filesystem, "an NTFS filesystem", ""},
      {head_with(0x52, "FAT32   "), ContentKind::filesystem, "a FAT32 filesystem", ""},
      {head_with(4086, "SWAPSPACE2"), ContentKind::filesystem, "a Linux swap area", ""},
      {head_with(0x8001, "CD001"), ContentKind::filesystem, "an ISO 9660 (CD/DVD) image", ""},
      {head_with(0x218, "LVM2 001"), ContentKind::filesystem, "an LVM physical volume", ""},
      {mbr_disk(), ContentKind::partitioned_disk, "an MBR disk", ""},
      {head_with(0, "LUKS\xba\xbe"), ContentKind::encrypted, "a LUKS encrypted volume", ""},
      {head_with(3, "-FVE-FS-"), ContentKind::encrypted, "a BitLocker encrypted volume", ""},
      {head_with(0, "QFI\xfb"), ContentKind::vm_disk, "a qcow2 image", "qcow2"},
      {head_with(0, "KDMV"), ContentKind::vm_disk, "a VMware VMDK image", "vmdk"},
      {head_with(0, "vhdxfile"), ContentKind::vm_disk, "a Hyper-V VHDX image", "vhdx"},
      {head_with(0, "conectix"), ContentKind::vm_disk, "a dynamic VHD image", "vpc"},
      {head_with(0x40, "\x7f\x10\xda\xbe"), ContentKind::vm_disk, "a VirtualBox VDI image", "vdi"},
      {head_with(0, "\x1f\x8b"), ContentKind::not_a_disk, "a gzip-compressed file", ""},
      {head_with(257, "ustar"), ContentKind::not_a_disk, "a tar archive", ""},
      {head_with(0, "partclone-image"), ContentKind::not_a_disk, "a single partclone image", ""},
      {head_with(0, "hello\n", 6), ContentKind::unknown, "", ""},
  };
  for (const auto& c : cases) {
    const ContentProbe p = probe_image_content(c.head, c.head.size());
    EXPECT_EQ(p.kind, c.kind) << c.what;
    EXPECT_EQ(p.what, c.what);
    EXPECT_EQ(p.qemu_format, c.qemu_format) << c.what;
  }
}

TEST(ImageProbe, RefusesWhatIsNoDiskAndSaysWhatToDo) {
  struct Case {
    std::vector<std::byte> head;
    std::uint64_t size;
    const char* words;  ///< empty: importable as a raw disk
  };
  const Case cases[] = {
      {head_with(0, "hello\n", 6), 6, "no multiple of 512-byte sectors"},
      {head_with(0, "hello\n", 1024), 1024, ""},  // unknown but sector-sized: a blank disk
      {mbr_disk(), 4097, ""},                     // a disk that is cut short is still a disk
      {head_with(0x438, "\x53\xef"), 1000, ""},
      {head_with(0, "LUKS\xba\xbe"), 1 << 20, "`cryptsetup open` the disk"},
      {head_with(3, "-FVE-FS-"), 1 << 20, "BitLocker"},
      {head_with(0, "QFI\xfb"), 1 << 20, "through qemu-img"},
      {head_with(0, "\x28\xb5\x2f\xfd"), 1 << 20, "decompress it first"},
      {head_with(257, "ustar"), 1 << 20, "recipe"},
  };
  for (const auto& c : cases) {
    const auto why = raw_import_refusal(probe_image_content(c.head, c.size), c.size, "in.img");
    if (*c.words == '\0') {
      EXPECT_FALSE(why) << *why;
      continue;
    }
    ASSERT_TRUE(why) << c.words;
    EXPECT_EQ(why->rfind("in.img ", 0), 0u) << *why;  // names the file first
    EXPECT_NE(why->find(c.words), std::string::npos) << *why;
    EXPECT_NE(why->find("--raw"), std::string::npos) << *why;
  }
}

TEST(ImageProbe, FixedVhdIsKnownByItsFooter) {
  const auto footer = probe_image_tail(head_with(0, "conectix", 512));
  ASSERT_TRUE(footer);
  EXPECT_EQ(footer->kind, ContentKind::vm_disk);
  EXPECT_EQ(footer->qemu_format, "vpc");
  EXPECT_FALSE(probe_image_tail(head_with(1, "conectix", 512)));
  EXPECT_FALSE(probe_image_tail(head_with(0, "conectix", 511)));
}

TEST(ImageProbe, EncryptionAtAVolumeStart) {
  EXPECT_EQ(detect_encryption(head_with(0, "LUKS\xba\xbe", 512)), "LUKS");
  EXPECT_EQ(detect_encryption(head_with(3, "-FVE-FS-", 512)), "BitLocker");
  EXPECT_FALSE(detect_encryption(head_with(3, "NTFS    ", 512)));
  EXPECT_FALSE(detect_encryption({}));
}

}  // namespace
}  // namespace revive
