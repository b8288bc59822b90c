#include "revive/image_probe.hpp"

#include <array>
#include <cstring>
#include <string_view>

#include "revive/partition_table.hpp"

namespace revive {

namespace {

bool has_at(std::span<const std::byte> head, std::size_t off, std::string_view magic) {
  return head.size() >= off + magic.size() &&
         std::memcmp(head.data() + off, magic.data(), magic.size()) == 0;
}

struct Signature {
  std::size_t offset;
  std::string_view magic;
  const char* what;
};

// Where each filesystem (or volume-manager) keeps its magic, as blkid's probes read them.
// Offsets beyond the 1 MiB head are never needed: btrfs at 64 KiB is the farthest.
constexpr std::array<Signature, 16> kFilesystems{{
    {0x438, "\x53\xef", "an ext2/3/4 filesystem"},
    {0, "XFSB", "an XFS filesystem"},
    {0x10040, "_BHRfS_M", "a btrfs filesystem"},
    {3, "NTFS    ", "an NTFS filesystem"},
    {3, "EXFAT   ", "an exFAT filesystem"},
    {0x52, "FAT32   ", "a FAT32 filesystem"},
    {0x36, "FAT16   ", "a FAT16 filesystem"},
    {0x36, "FAT12   ", "a FAT12 filesystem"},
    {0x8001, "CD001", "an ISO 9660 (CD/DVD) image"},
    {4086, "SWAPSPACE2", "a Linux swap area"},
    {0, "hsqs", "a squashfs filesystem"},
    {0x400, "\x10\x20\xf5\xf2", "an F2FS filesystem"},
    {0x218, "LVM2 001", "an LVM physical volume"},
    {0x1000, "\xfc\x4e\x2b\xa9", "a Linux RAID member (md 1.2)"},
    {0x400, "H+", "an HFS+ filesystem"},
    {32, "NXSB", "an APFS container"},
}};

struct VmFormat {
  std::size_t offset;
  std::string_view magic;
  const char* what;
  const char* qemu_format;
};

constexpr std::array<VmFormat, 6> kVmDisks{{
    {0, "QFI\xfb", "a qcow2 image", "qcow2"},
    {0, "KDMV", "a VMware VMDK image", "vmdk"},
    {0, "# Disk DescriptorFile", "a VMware VMDK descriptor", "vmdk"},
    {0, "vhdxfile", "a Hyper-V VHDX image", "vhdx"},
    {0, "conectix", "a dynamic VHD image", "vpc"},
    {0x40, "\x7f\x10\xda\xbe", "a VirtualBox VDI image", "vdi"},
}};

struct NotADisk {
  std::size_t offset;
  std::string_view magic;
  const char* what;
  const char* advice;
};

constexpr std::array<NotADisk, 9> kNotDisks{{
    {0, "\x1f\x8b", "a gzip-compressed file", "decompress it first"},
    {0,
     "\xfd"
     "7zXZ",
     "an xz-compressed file", "decompress it first"},
    {0, "\x28\xb5\x2f\xfd", "a zstd-compressed file", "decompress it first"},
    {0, "BZh", "a bzip2-compressed file", "decompress it first"},
    {0, "PK\x03\x04", "a zip archive", "unpack it and import the disk image inside"},
    {0, "7z\xbc\xaf\x27\x1c", "a 7-zip archive", "unpack it and import the disk image inside"},
    {257, "ustar", "a tar archive",
     "rootfs archives are built into images by a recipe (image-recipes/)"},
    {0, "partclone-image", "a single partclone image",
     "import the whole Clonezilla image directory it belongs to"},
    {0, "\x89PNG", "a PNG picture", "import a disk image"},
}};

}  // namespace

std::optional<std::string> detect_encryption(std::span<const std::byte> volume_start) {
  // LUKS1 and LUKS2 share the primary header magic; BitLocker replaces the NTFS OEM id.
  if (has_at(volume_start, 0, "LUKS\xba\xbe")) return "LUKS";
  if (has_at(volume_start, 3, "-FVE-FS-")) return "BitLocker";
  return std::nullopt;
}

std::optional<ContentProbe> probe_image_tail(std::span<const std::byte> last_sector) {
  if (last_sector.size() == 512 && has_at(last_sector, 0, "conectix")) {
    return ContentProbe{ContentKind::vm_disk, "a fixed VHD image", "", "vpc"};
  }
  return std::nullopt;
}

ContentProbe probe_image_content(std::span<const std::byte> head, std::uint64_t size) {
  if (auto enc = detect_encryption(head)) {
    return {ContentKind::encrypted, "a " + *enc + " encrypted volume", "", ""};
  }
  for (const auto& v : kVmDisks) {
    if (has_at(head, v.offset, v.magic)) return {ContentKind::vm_disk, v.what, "", v.qemu_format};
  }
  for (const auto& n : kNotDisks) {
    if (has_at(head, n.offset, n.magic)) return {ContentKind::not_a_disk, n.what, n.advice, ""};
  }
  // Filesystems before the MBR: FAT and NTFS boot sectors end in 55 AA like an MBR does.
  for (const auto& f : kFilesystems) {
    if (has_at(head, f.offset, f.magic)) return {ContentKind::filesystem, f.what, "", ""};
  }
  const PartitionTable table = parse_partition_table(head, size);
  if (table.scheme == "gpt") return {ContentKind::partitioned_disk, "a GPT disk", "", ""};
  if (table.scheme == "mbr") return {ContentKind::partitioned_disk, "an MBR disk", "", ""};
  return {ContentKind::unknown, "", "", ""};
}

std::optional<std::string> raw_import_refusal(const ContentProbe& probe, std::uint64_t size,
                                              const std::string& file) {
  const std::string raw_hint = " (--raw imports the bytes as they are)";
  switch (probe.kind) {
    case ContentKind::partitioned_disk:
    case ContentKind::filesystem:
      return std::nullopt;
    case ContentKind::encrypted:
      return file + " is " + probe.what +
             ": recipients could not open it without its key. Decrypt it first (LUKS: "
             "`cryptsetup open` the disk, then import /dev/mapper/NAME; BitLocker: turn it off "
             "in Windows before imaging) or build the image from a recipe" +
             raw_hint;
    case ContentKind::vm_disk:
      return file + " is " + probe.what +
             ", not a raw disk: `revivectl image import` converts it through qemu-img" + raw_hint;
    case ContentKind::not_a_disk:
      return file + " is not a disk image: it is " + probe.what + "; " + probe.advice + raw_hint;
    case ContentKind::unknown:
      break;
  }
  if (size % 512 == 0) return std::nullopt;
  return file + " does not look like a disk image: no partition table (MBR/GPT), no filesystem " +
         "signature, and its size (" + std::to_string(size) +
         " bytes) is no multiple of 512-byte sectors" + raw_hint;
}

}  // namespace revive
