#pragma once
// The Revive USB stick a laptop booted from. It shows up in the inventory as a USB disk, which
// the wipe never touches (disk_safety.hpp) and the laptop's certificate must account for: the
// stick is recognised by the GPT disk GUID its GRUB put on the kernel command line
// (`revive.stick=GUID`, provisioning/live/make-stick), so the server can list it as the boot
// medium instead of "USB media that may hold the donor's data".

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

#include "revive/agent/system.hpp"

namespace revive::agent {

/// Whether this laptop booted from a Revive USB stick (revive.stick= on the command line).
bool booted_from_stick(const MachineRoot& root);

/// Sets "revive_stick": true on the USB disk in `disks` (the inventory's list) whose GPT disk
/// GUID (blkid -p PTUUID) is the command line's revive.stick=; false on the other USB disks.
/// Nothing changes when the laptop did not boot from a stick. A blkid failure is a warning:
/// the disk then counts as any USB drive.
void mark_boot_stick(const MachineRoot& root, Exec& exec, nlohmann::json& disks,
                     std::vector<std::string>& warnings);

}  // namespace revive::agent
