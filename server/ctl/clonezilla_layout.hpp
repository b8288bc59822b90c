#pragma once
// What a Clonezilla image directory says about the disk it was saved from: which disk, its
// size, the partition table files, and for each partition where it lies and which image
// files (partclone or dd, compressed, split into .aa .ab ...) hold it. Reads small text files
// only; restoring is clonezilla_import's job.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "revive/error.hpp"

namespace revive::ctl {

struct ClonezillaPartition {
  std::string name;                                ///< "sda1", "nvme0n1p2"
  std::uint64_t start = 0;                         ///< bytes from the start of the disk
  std::uint64_t size = 0;                          ///< bytes
  std::vector<std::filesystem::path> image_files;  ///< split pieces in order; empty: no image
  std::string filesystem;                          ///< "ext4", "ntfs", "dd"...
  std::string compression;  ///< "gz", "zst", "xz", "bz2", "lz4", "lzo", "lzma", "uncomp"
  bool partclone = true;    ///< false for an old raw `dd-img`
};

struct ClonezillaLayout {
  std::filesystem::path dir;
  std::string disk;   ///< "sda"
  std::string label;  ///< "gpt" or "dos" (from the sfdisk dump)
  std::uint64_t disk_size = 0;
  std::filesystem::path sfdisk_dump;            ///< DISK-pt.sf
  std::filesystem::path mbr;                    ///< DISK-mbr (optional)
  std::filesystem::path hidden_after_mbr;       ///< DISK-hidden-data-after-mbr (optional)
  std::filesystem::path gpt_first;              ///< DISK-gpt-1st (GPT: the first 34 sectors)
  std::filesystem::path gpt_second;             ///< DISK-gpt-2nd (GPT: the last 33 sectors)
  std::filesystem::path gpt_backup;             ///< DISK-gpt.gdisk (sgdisk --backup)
  std::vector<ClonezillaPartition> partitions;  ///< every partition of the dump, by start
  std::vector<std::string> notes;  ///< partitions without an image and why they stay empty
};

/// Whether `dir` looks like a Clonezilla image directory (`disk` and `parts`, or the
/// `clonezilla-img` marker).
bool is_clonezilla_dir(const std::filesystem::path& dir);

/// The FOG layout's tell-tale file in `dir` (d1.partitions, d1p1.img...), if there is one.
std::optional<std::string> fog_image_file(const std::filesystem::path& dir);

/// Reads the layout; errors name the file that is missing or malformed (one disk per image:
/// a directory saved from several disks is refused, naming them).
Result<ClonezillaLayout> read_clonezilla_layout(const std::filesystem::path& dir);

/// One partition line of an `sfdisk --dump` ("/dev/sda1 : start=2048, size=4096, type=...").
struct SfdiskEntry {
  std::string device;  ///< "sda1" (the path's last component)
  std::uint64_t start_sector = 0;
  std::uint64_t sectors = 0;
  std::string type;
};
struct SfdiskDump {
  std::string label;
  std::uint32_t sector_size = 512;
  std::optional<std::uint64_t> last_lba;
  std::vector<SfdiskEntry> entries;
};
/// Parses `sfdisk --dump` text; errors name `file` and the line.
Result<SfdiskDump> parse_sfdisk_dump(const std::string& text, const std::string& file);

}  // namespace revive::ctl
