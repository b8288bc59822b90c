#pragma once
// What the first bytes of an import source are: a partitioned disk, a bare filesystem, an
// encrypted volume, a virtual machine disk, a compressed file or archive, or nothing known.
// Pure (bytes in, verdict out), so every signature is table-tested without files.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace revive {

enum class ContentKind : std::uint8_t {
  partitioned_disk,  ///< MBR or GPT
  filesystem,        ///< a known filesystem (or LVM/swap) signature at its usual place
  encrypted,         ///< LUKS or BitLocker: unusable for recipients without the key
  vm_disk,           ///< qcow2, VMDK, VHD, VHDX, VDI: importable through qemu-img
  not_a_disk,        ///< a compressed file, an archive, a partclone image...
  unknown,           ///< no signature we know
};

struct ContentProbe {
  ContentKind kind = ContentKind::unknown;
  std::string what;         ///< "a GPT disk", "an ext4 filesystem", "a LUKS encrypted volume"...
  std::string advice;       ///< for kinds a raw import refuses: what to do instead
  std::string qemu_format;  ///< vm_disk only: qemu's driver name ("qcow2", "vmdk", "vpc"...)
};

/// Classifies an import source from its first bytes (`head`, up to 1 MiB) and total size.
ContentProbe probe_image_content(std::span<const std::byte> head, std::uint64_t size);

/// A fixed-size VHD is a raw disk with a 512-byte footer ("conectix") at its end and no
/// header: only its last sector tells. Returns the vm_disk probe for it, else nullopt.
std::optional<ContentProbe> probe_image_tail(std::span<const std::byte> last_sector);

/// The encryption at the start of a volume (a disk or one partition): "LUKS" or "BitLocker",
/// nullopt when there is none we know. Needs the volume's first 512 bytes.
std::optional<std::string> detect_encryption(std::span<const std::byte> volume_start);

/// The reason an import source is refused unless the caller asks for `--raw`, or nullopt when
/// it may be imported as a raw disk: encrypted volumes, non-disks, and unknown content whose
/// size is no multiple of 512 bytes. `file` names the source in the message.
std::optional<std::string> raw_import_refusal(const ContentProbe& probe, std::uint64_t size,
                                              const std::string& file);

}  // namespace revive
