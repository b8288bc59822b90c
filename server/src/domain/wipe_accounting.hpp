#pragma once
// Wipe evidence held against what the server knows (issue 15, findings 1 and 7): the agent's
// evidence must account for every drive the job named, by serial, and simulated drives count
// only on a server in demo mode; the laptop certificate then lists every block device and
// storage controller of the inventory, each erased or with the reason it was not, and passes
// only when all are accounted for. Evidence is checked, not believed. Pure.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "storage/rows.hpp"

namespace revive::server {

struct EvidenceMatch {
  /// For each drive the job named (in the job's order), the index of the evidence entry that
  /// accounts for it, or nullopt when none does.
  std::vector<std::optional<std::size_t>> by_job_drive;
  /// Why the evidence as a whole is refused ("" when it is not): a simulated drive outside
  /// demo mode, an entry for a drive the job did not name, two entries for one drive.
  std::string refused;
};

/// Pairs the evidence entries (`[{drive: {name, serial, simulated}, ...}]`) with the drives the
/// job named (`[{name, serial, model}]`): by serial, or by device name when the job knows no
/// serial. With `accept_simulated` (demo mode), a simulated entry that matches no drive stands
/// for the first drive left (the agent's simulation wipes a file in place of the first disk).
EvidenceMatch match_evidence(const Json& job_drives, const Json& evidence, bool accept_simulated);

struct StorageAccount {
  /// One entry per block device ({kind: "disk", name, model, serial, size_bytes, transport,
  /// removable, status, reason, certificate_id?, result?}) and per storage controller ({kind:
  /// "controller", bus ("pci", "mmc", "usb"), address, pci, class, driver, disks, status,
  /// reason}).
  Json entries = Json::array();
  /// One line per device or controller that is not accounted for; empty when all are.
  std::vector<std::string> unaccounted;
  /// What the inventory did not say (no inventory, no controller list); "" when nothing.
  std::string note;
};

/// Every block device and storage controller the inventory lists, with what became of it:
/// erased (its drive certificate passed), empty (a card reader without a card), or not erased
/// with the reason. `drive_certificates[i]` is the certificate body of job drive i, if any.
/// Not accounted for: an internal drive without a passed certificate, USB or removable media
/// holding data (Revive never erases those: they may be the donor's and must be removed), a
/// controller without a driver (what is behind it cannot be seen), a controller showing a drive
/// the disk list lacks, an NVMe controller without a visible namespace, and an inventory
/// without a controller list (or no inventory at all): nothing then says what else is there.
StorageAccount account_storage(const std::optional<Json>& inventory, const Json& job_drives,
                               const std::vector<std::optional<Json>>& drive_certificates);

}  // namespace revive::server
