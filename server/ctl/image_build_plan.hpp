#pragma once
// What `image build` will do for a recipe, as data: the disk layout, the fixed identifiers,
// the files written into the root and the command lines of the Debian tools. Pure, so the
// unit tests read every command and file without running one.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "recipe.hpp"
#include "revive/error.hpp"

namespace revive::ctl {

/// Partition offsets and sizes in bytes, all MiB-aligned: BIOS boot at 1 MiB, the ESP after
/// it, the root last (so the deploy's fit grows it), 1 MiB left at the end for the backup GPT.
struct DiskLayout {
  std::uint64_t disk_size = 0;
  std::uint64_t bios_offset = 0, bios_size = 0;
  std::uint64_t esp_offset = 0, esp_size = 0;
  std::uint64_t root_offset = 0, root_size = 0;
};
DiskLayout plan_layout(const Recipe& r);

/// Identifiers fixed per recipe name (derived from it by SHA-256), so two builds of one recipe
/// differ only where their content does: disk and partition GUIDs, the root filesystem's UUID
/// and directory hash seed, the ESP's volume id.
struct BuildIds {
  std::string disk_guid, bios_guid, esp_guid, root_guid;
  std::string root_uuid, root_hash_seed;
  std::string esp_volume_id;  ///< 8 hex digits, for mkfs.vfat -i
  std::string esp_fs_uuid;    ///< the same as fstab and GRUB spell it: XXXX-XXXX
};
BuildIds ids_for(const Recipe& r);

/// Where the build works and what it keeps.
struct BuildPaths {
  std::filesystem::path work;       ///< temp dir for this build
  std::filesystem::path deb_cache;  ///< .debs kept between builds (per suite)
  std::filesystem::path root_tar() const { return work / "root.tar"; }
  std::filesystem::path root_dir() const { return work / "root"; }
  std::filesystem::path files_dir() const { return work / "files"; }  ///< written for the hook
  std::filesystem::path fakeroot_state() const { return work / "fakeroot.state"; }
  std::filesystem::path root_fs() const { return work / "root.ext4"; }
  std::filesystem::path esp_fs() const { return work / "esp.vfat"; }
  std::filesystem::path disk() const { return work / "disk.img"; }
};

/// Packages the boot chain needs, added to the recipe's: the kernel, GRUB's BIOS modules,
/// Debian's signed shim and GRUB (their files are copied from the built root to the ESP, so
/// the image's own package versions boot it and its updates replace them).
std::vector<std::string> packages_to_install(const Recipe& r);

std::string fstab_text(const BuildIds& ids);
/// /boot/grub/grub.cfg in the root: /vmlinuz and /initrd.img are the symlinks Debian's kernel
/// packages keep current, so kernel security updates boot without update-grub.
std::string root_grub_cfg(const Recipe& r, const BuildIds& ids);
/// The small config that finds the root and loads its grub.cfg: built into the BIOS core.img,
/// and beside the signed GRUB on the ESP (which looks for it in its own directory).
std::string stub_grub_cfg(const BuildIds& ids);
/// The unit that runs the recipe's first-boot hooks once (after the provision step's own).
std::string first_boot_unit();
/// The mmdebstrap customize hook (run with the root as $1): overlay, locale, keyboard, time
/// zone, fstab, GRUB config, first-boot hooks, empty machine-id, caches cleaned.
std::string customize_script(const Recipe& r, const BuildPaths& p);

std::vector<std::string> mmdebstrap_argv(const Recipe& r, const BuildPaths& p);
std::vector<std::string> sgdisk_argv(const DiskLayout& l, const BuildIds& ids,
                                     const std::filesystem::path& disk);
std::vector<std::string> mkfs_ext4_argv(const BuildIds& ids, const BuildPaths& p);
/// Inode numbers [first, last] in use in an ext4 filesystem.
struct InodeRange {
  std::uint32_t first = 0, last = 0;
  bool operator==(const InodeRange&) const = default;
};
/// What the timestamp pass needs from `dumpe2fs` (full output, not -h): the first
/// non-reserved inode and the inodes in use (each group's range minus its "Free inodes:").
/// Errors when the output has no groups or a group has no free-inode line.
struct UsedInodes {
  std::uint32_t first_ino = 0;
  std::vector<InodeRange> ranges;
};
Result<UsedInodes> used_inodes(const std::string& dumpe2fs_output);
/// The debugfs -f script setting atime and ctime of the root directory and of every used
/// inode from `first_ino` on to `epoch` (mke2fs 1.47.0 -d copies both from the unpacked
/// tree, where they are the time of the unpack; 1.47.1 clamps them to SOURCE_DATE_EPOCH).
std::string inode_times_script(const UsedInodes& used, std::string_view epoch);
/// The lines of `debugfs -f`'s log reporting a failed command (debugfs exits 0 after one):
/// all but its version banner, its echo of each command ("debugfs: ...") and run_tool's "$ ".
std::vector<std::string> debugfs_failures(const std::string& output);
std::vector<std::string> dumpe2fs_argv(const BuildPaths& p);
std::vector<std::string> debugfs_script_argv(const BuildPaths& p,
                                             const std::filesystem::path& script);
std::vector<std::string> mkfs_vfat_argv(const BuildIds& ids, const BuildPaths& p);
std::vector<std::string> grub_bios_mkimage_argv(const BuildPaths& p,
                                                const std::filesystem::path& stub_cfg,
                                                const std::filesystem::path& out);

/// GRUB's BIOS boot code as grub-bios-setup writes it, without its probing of a mounted root:
/// boot.img's first 440 bytes for the MBR with core.img's LBA at 0x5c, and core.img with the
/// blocklist in its first sector (the last 12 bytes: start LBA, sector count) naming the rest.
/// Offsets from GRUB's include/grub/i386/pc/boot.h. Errors when core.img does not fit.
struct BiosBootCode {
  std::vector<std::uint8_t> mbr_code;  ///< 440 bytes
  std::vector<std::uint8_t> core;      ///< padded to whole sectors
};
Result<BiosBootCode> bios_boot_code(std::vector<std::uint8_t> boot_img,
                                    std::vector<std::uint8_t> core_img, const DiskLayout& l);

}  // namespace revive::ctl
