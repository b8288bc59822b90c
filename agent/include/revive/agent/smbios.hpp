#pragma once
// A pure, bounded parser of the raw SMBIOS table (/sys/firmware/dmi/tables/DMI with its
// smbios_entry_point): who made the laptop, its serial and UUID (the identity the server
// keys on), chassis, board, BIOS and memory modules. Never throws, never reads out of bounds:
// a damaged table yields what could be read plus warnings. Fuzzed (tests/fuzz).

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace revive::agent {

struct MemoryDevice {
  std::string locator;  ///< "ChannelA-DIMM0"
  std::string bank;
  std::uint64_t size_mib = 0;  ///< 0: empty slot
  std::string type;            ///< "DDR4", "LPDDR3", ... or "" when unknown
  std::string form_factor;     ///< "SODIMM", "Row of chips", ...
  std::uint32_t speed_mts = 0;
  std::uint32_t configured_speed_mts = 0;
  std::string manufacturer;
  std::string part_number;
  std::string serial;
};

struct SmbiosInfo {
  std::string version;  ///< "3.1.1"; empty when the entry point is unreadable
  struct {
    std::string vendor, version, date;
  } bios;
  struct {
    std::string vendor, product, version, serial, uuid, sku, family;
  } system;
  struct {
    std::string vendor, product, version, serial;
  } board;
  struct {
    std::uint8_t type = 0;  ///< SMBIOS chassis type code (e.g. 10 Notebook)
    std::string type_name;  ///< "Notebook", "Laptop", ...
    std::string vendor, serial, asset_tag;
  } chassis;
  std::vector<MemoryDevice> memory;  ///< every slot, populated or not
  std::vector<std::string> warnings;

  /// Installed memory in MiB (sum of populated slots).
  std::uint64_t memory_mib() const;
  /// Populated / total slots.
  std::size_t populated_slots() const;
};

/// Parses the table; `entry_point` may be empty (version stays unknown).
SmbiosInfo parse_smbios(std::span<const std::byte> entry_point, std::span<const std::byte> table);

/// Firmware placeholder strings ("To be filled by O.E.M.", "Default string", "0123456789",
/// "System Serial Number", blanks...) mean "unknown": true for those.
bool is_placeholder(std::string_view s);

/// Name of an SMBIOS chassis type code ("Notebook" for 10), "" when unknown.
std::string chassis_type_name(std::uint8_t type);

}  // namespace revive::agent
