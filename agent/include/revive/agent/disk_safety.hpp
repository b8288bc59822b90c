#pragma once
// Fail closed before anything is written: is the disk (a block device or, in simulation, a
// file) in use by anything the kernel's exclusive open does not see? Mounted filesystems and
// swap on it, its partitions, device-mapper/RAID holders, and loop devices stacked on it (a
// loop device over a disk does not claim it, so O_EXCL alone misses a filesystem mounted
// through one).

#include <filesystem>
#include <optional>
#include <string>

#include "revive/agent/system.hpp"

namespace revive::agent {

/// Why `disk` must not be written now, or nullopt. Everything is read through `root` ("/" on
/// a laptop and for simulated disks, which are real files or loop devices).
std::optional<std::string> disk_in_use(const MachineRoot& root, const std::filesystem::path& disk);

/// Why the block device `name` ("sda") is not one of the laptop's own drives, or nullopt:
/// removable media (sysfs removable=1), a drive whose device path runs through USB or
/// Thunderbolt, or one below a port the kernel marks removable (PCIe tunnelled through
/// Thunderbolt/USB4). The agent never writes to those, whatever a job names: it is the
/// volunteer's stick, a donor's backup drive, the workshop's own disk. Also a reason when
/// `name` is not a block device in `root`'s sysfs (fail closed).
std::optional<std::string> external_drive(const MachineRoot& root, const std::string& name);

}  // namespace revive::agent
