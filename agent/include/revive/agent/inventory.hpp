#pragma once
// What is in the laptop: identity (SMBIOS), CPU, memory, disks (+ SMART through smartctl),
// batteries, NICs, GPUs, TPM, firmware mode and Secure Boot, read from a machine root. Missing
// or odd data gives "unknown" values (empty strings, null, -1), never a failure.

#include <nlohmann/json_fwd.hpp>

#include <optional>
#include <string>

#include "revive/agent/system.hpp"

namespace revive::agent {

using Json = nlohmann::json;

/// The full inventory document (see docs/agent-protocol.md, "inventory").
Json collect_inventory(const MachineRoot& root, Exec& exec);

/// The laptop's internal system disk from its inventory ("nvme0n1"): NVMe, then SATA, then
/// eMMC; never removable or USB media. nullopt when there is none.
std::optional<std::string> pick_internal_disk(const Json& inventory);

/// SMART summary from `smartctl -j` output (overall status, ATA attributes 5/187/188/197/198,
/// NVMe critical warning, percentage used, media errors, power-on hours). Pure.
Json parse_smartctl(const std::string& json_text, int exit_code);

/// A /proc/meminfo value in KiB ("MemTotal", "MemAvailable"), -1 when absent.
long long meminfo_kib(const MachineRoot& root, const std::string& key);

/// The identity part the server keys on: {system_uuid, serial, model, vendor}.
Json identity_of(const Json& inventory);

}  // namespace revive::agent
