#pragma once
// Fitting a deployed image to its disk: the backup GPT moves to the disk's real end, the last
// partition grows to fill the disk and its filesystem grows with it (ext2/3/4 with e2fsprogs,
// NTFS with ntfsresize). Every tool runs through the Exec seam; partitions are reached through
// a loop device over (disk, offset, size), so files and block devices take the same path.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "revive/agent/block_device.hpp"
#include "revive/agent/system.hpp"
#include "revive/error.hpp"
#include "revive/partition_table.hpp"

namespace revive::agent {

/// A partition of a disk (file or block device) attached as a loop device for as long as this
/// object lives (`losetup --find --show --offset --sizelimit`, then `losetup -d`).
class LoopAttachment {
 public:
  static Result<LoopAttachment> attach(Exec& exec, const std::filesystem::path& disk,
                                       std::uint64_t offset, std::uint64_t size);
  LoopAttachment(LoopAttachment&& o) noexcept : exec_(o.exec_), device_(std::move(o.device_)) {
    o.device_.clear();
  }
  LoopAttachment& operator=(LoopAttachment&&) = delete;
  LoopAttachment(const LoopAttachment&) = delete;
  ~LoopAttachment();
  const std::string& device() const { return device_; }

 private:
  LoopAttachment(Exec& exec, std::string device) : exec_(&exec), device_(std::move(device)) {}
  Exec* exec_;
  std::string device_;
};

/// The filesystem a partition holds, from its superblock: "ext" (2/3/4), "ntfs", "vfat", or "".
std::string detect_filesystem(BlockDevice& dev, std::uint64_t offset);

/// The partition table on the disk (reads its first MiB).
Result<PartitionTable> read_partition_table(BlockDevice& dev);

/// The sgdisk command line that relocates the backup GPT to the disk's end and grows
/// partition `p` to end at `new_last` (its type, unique GUID, name and attributes kept).
std::vector<std::string> sgdisk_grow_command(const std::string& disk, const PartitionEntry& p,
                                             std::uint64_t new_last);

/// The last LBA a grown last partition should end at: the disk's last usable LBA rounded down
/// to a 1 MiB boundary (or unrounded when rounding would shrink it).
std::uint64_t grown_last_lba(std::uint64_t disk_bytes, std::uint32_t sector_size,
                             std::uint64_t current_last);

/// Fits the image on `disk` (already written) to the disk's size. Returns a report
/// {scheme, partition, from_bytes, to_bytes, filesystem, fs_grown, gpt_check}; an error when a
/// tool fails. An MBR or table-less disk is left as it is (reported).
Result<nlohmann::json> fit_to_disk(const std::filesystem::path& disk, BlockDevice& dev, Exec& exec);

}  // namespace revive::agent
