#pragma once
// A pure, bounded reader of the partition table at the start of a disk image (GPT or MBR):
// enough for the manifest's summary and, later, for fitting an image to a larger disk.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace revive {

struct PartitionEntry {
  std::uint32_t number = 0;  ///< 1-based slot number
  std::uint64_t first_lba = 0;
  std::uint64_t last_lba = 0;    ///< inclusive
  std::string type;              ///< GPT type GUID, or "0x83" style MBR type byte
  std::string type_name;         ///< "EFI System", "Linux filesystem"..., empty if unknown
  std::string name;              ///< GPT partition name (UTF-8), empty for MBR
  std::string unique_guid;       ///< GPT only (not part of the manifest)
  std::uint64_t attributes = 0;  ///< GPT attribute bits (not part of the manifest)
};

struct PartitionTable {
  std::string scheme = "none";  ///< "gpt", "mbr" or "none"
  std::uint32_t sector_size = 512;
  std::string disk_guid;  ///< GPT only
  std::vector<PartitionEntry> partitions;
  std::vector<std::string> warnings;  ///< e.g. "GPT entry array CRC mismatch"
};

/// Reads the table from the first bytes of an image (`head`, at least 34 sectors for GPT).
/// Never fails: anything unreadable gives scheme "none" or a warning.
PartitionTable parse_partition_table(std::span<const std::byte> head, std::uint64_t disk_size);

/// CRC-32 (IEEE 802.3, as used by GPT).
std::uint32_t crc32_ieee(std::span<const std::byte> data, std::uint32_t crc = 0);

}  // namespace revive
