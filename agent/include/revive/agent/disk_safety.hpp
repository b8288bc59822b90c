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

}  // namespace revive::agent
