#pragma once
// Every storage controller the laptop's kernel sees, and the block devices behind each, read
// from sysfs: PCI mass-storage controllers (class 0x01xxxx: SATA/AHCI, NVMe, RAID...) and SD
// host controllers (class 0x0805xx), MMC hosts of any other parent (a PCIe card reader of an
// "unassigned" class, an ACPI eMMC controller) and USB mass-storage interfaces. The laptop
// certificate lists each one with what became of the drives behind it (issue 15, finding 7):
// a controller the agent did not report could hide a drive nobody erased.

#include <nlohmann/json_fwd.hpp>

#include "revive/agent/system.hpp"

namespace revive::agent {

/// [{bus: "pci"|"mmc"|"usb", address ("0000:00:17.0", "mmc0", "2-1:1.0"), pci (PCI only),
///   class ("0x010601", "mmc_host", "usb_mass_storage"), driver ("" when none is bound),
///   disks: [block device names behind it]}], sorted by bus then address. Missing sysfs gives
/// an empty list, never a failure.
nlohmann::json storage_controllers(const MachineRoot& root);

/// Whether sys/block/<name> is a disk the inventory reports (not loop, ram, zram, dm-, sr, md,
/// nbd, fd, nor an eMMC boot or RPMB partition).
bool is_reported_block_device(const std::string& name);

}  // namespace revive::agent
