#pragma once
// Who is who among laptops (issue 15, finding 6). Firmware identity is not enough: cheap boards
// ship the AMI default UUID 03000200-0400-0500-0006-000700080009 and "To be filled by O.E.M."
// serials, and two such laptops must never become one device (the second would be told "done"
// and never wiped). Placeholders count as unknown, the internal disks' serials join the
// identity, and when in doubt two records are kept apart: wiping a laptop twice is safe,
// skipping one is not. A MAC decides a boot only when it is one device's own.
// Pure: unit-tested without storage.

#include <string>
#include <string_view>

#include "revive/protocol.hpp"
#include "storage/rows.hpp"

namespace revive::server {

/// A laptop's identity with the placeholders dropped ("" = unknown).
struct IdentityKey {
  std::string system_uuid;  ///< upper case
  std::string serial;
  std::string model;
  std::string vendor;
  Json disk_serials = Json::array();  ///< internal disks' serials, sorted, placeholders dropped
};

/// True for SMBIOS UUIDs that firmware ships on many boards (all zeros, all ones, the AMI and
/// Intel defaults) or that are malformed.
bool placeholder_uuid(std::string_view uuid);
/// True for serials that are not one machine's ("To be filled by O.E.M.", "Default string",
/// "0123456789", one repeated character, ...).
bool placeholder_serial(std::string_view serial);

/// The identity of an enrolment: firmware fields without placeholders, plus the serials of the
/// inventory's internal disks (USB and removable media move between laptops).
IdentityKey identity_key(const protocol::Identity& id, const Json& inventory);
/// Whether anything in the key tells this laptop from others (a UUID, a serial or a disk
/// serial).
bool identifiable(const IdentityKey& key);
/// Whether a stored device is this laptop: the same model, no known field that differs (UUID,
/// serial, or disk serials that share none), and at least one that agrees.
bool same_laptop(const IdentityKey& key, const DeviceRow& device);

/// Whether `mac` belongs to a built-in network interface of the laptop whose inventory this
/// is: false when the inventory lists it on a USB adapter (a dongle or a dock, which the next
/// laptop may bring), true otherwise (including when the inventory does not say).
bool builtin_mac(const std::optional<Json>& inventory, const std::string& mac);

}  // namespace revive::server
