#include "revive/agent/smbios.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>

namespace revive::agent {

namespace {

std::uint16_t u16(std::span<const std::byte> b, std::size_t off) {
  return static_cast<std::uint16_t>(static_cast<unsigned>(b[off]) |
                                    static_cast<unsigned>(b[off + 1]) << 8);
}
std::uint32_t u32(std::span<const std::byte> b, std::size_t off) {
  return static_cast<std::uint32_t>(u16(b, off)) | static_cast<std::uint32_t>(u16(b, off + 2))
                                                       << 16;
}

std::string trim(std::string s) {
  auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

// One structure: its formatted area and its strings.
struct Structure {
  std::uint8_t type = 0;
  std::span<const std::byte> formatted;
  std::vector<std::string> strings;

  std::uint8_t byte(std::size_t off) const {
    return off < formatted.size() ? static_cast<std::uint8_t>(formatted[off]) : 0;
  }
  std::uint16_t word(std::size_t off) const {
    return off + 2 <= formatted.size() ? u16(formatted, off) : 0;
  }
  std::uint32_t dword(std::size_t off) const {
    return off + 4 <= formatted.size() ? u32(formatted, off) : 0;
  }
  bool has(std::size_t off, std::size_t len) const { return off + len <= formatted.size(); }
  // String fields hold a 1-based index into the string set; placeholders read as "".
  std::string str(std::size_t off) const {
    const std::uint8_t idx = byte(off);
    if (idx == 0 || idx > strings.size()) return {};
    std::string s = trim(strings[idx - 1]);
    return is_placeholder(s) ? std::string() : s;
  }
};

std::string format_uuid(const Structure& s, const std::string& version) {
  if (!s.has(0x08, 16)) return {};
  std::array<std::uint8_t, 16> u{};
  for (std::size_t i = 0; i < 16; ++i) u[i] = s.byte(0x08 + i);
  if (std::all_of(u.begin(), u.end(), [](std::uint8_t b) { return b == 0xFF; }))
    return {};  // not present
  if (std::all_of(u.begin(), u.end(), [](std::uint8_t b) { return b == 0x00; }))
    return {};  // not settable
  // SMBIOS 2.6+ stores the first three fields little-endian (as dmidecode prints them).
  const bool le = version.empty() || version >= "2.6";
  char buf[37];
  if (le) {
    std::snprintf(buf, sizeof buf,
                  "%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X", u[3],
                  u[2], u[1], u[0], u[5], u[4], u[7], u[6], u[8], u[9], u[10], u[11], u[12], u[13],
                  u[14], u[15]);
  } else {
    std::snprintf(buf, sizeof buf,
                  "%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X", u[0],
                  u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13],
                  u[14], u[15]);
  }
  return buf;
}

std::string memory_type(std::uint8_t t) {
  switch (t) {
    case 0x12:
      return "DDR";
    case 0x13:
      return "DDR2";
    case 0x18:
      return "DDR3";
    case 0x1A:
      return "DDR4";
    case 0x1B:
      return "LPDDR";
    case 0x1C:
      return "LPDDR2";
    case 0x1D:
      return "LPDDR3";
    case 0x1E:
      return "LPDDR4";
    case 0x22:
      return "DDR5";
    case 0x23:
      return "LPDDR5";
    default:
      return {};
  }
}

std::string form_factor(std::uint8_t f) {
  switch (f) {
    case 0x09:
      return "DIMM";
    case 0x0B:
      return "Row of chips";
    case 0x0D:
      return "SODIMM";
    case 0x0F:
      return "FB-DIMM";
    case 0x10:
      return "Die";
    default:
      return {};
  }
}

}  // namespace

bool is_placeholder(std::string_view raw) {
  std::string s;
  for (char c : raw) s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.erase(s.begin());
  if (s.empty()) return true;
  static const char* const kPlaceholders[] = {"to be filled by o.e.m.",
                                              "to be filled by oem",
                                              "default string",
                                              "system serial number",
                                              "system product name",
                                              "system manufacturer",
                                              "system version",
                                              "not specified",
                                              "not applicable",
                                              "none",
                                              "n/a",
                                              "oem",
                                              "o.e.m.",
                                              "0123456789",
                                              "123456789",
                                              "1234567890",
                                              "chassis serial number",
                                              "base board serial number",
                                              "serial number",
                                              "type2 - board serial number",
                                              "invalid",
                                              "unknown",
                                              "xxxxxxxxxx",
                                              "not available",
                                              "no asset information",
                                              "no asset tag",
                                              "asset tag",
                                              "--",
                                              "system sku#",
                                              "type1productconfigid",
                                              "chassis version"};
  for (const char* p : kPlaceholders) {
    if (s == p) return true;
  }
  // Hex zeros ("0x0000...", as Apple reports soldered RAM's part number): nothing there.
  if (s.size() > 2 && s.compare(0, 2, "0x") == 0 &&
      std::all_of(s.begin() + 2, s.end(), [](char c) { return c == '0'; })) {
    return true;
  }
  // All one repeated character ("0000000000", "FFFFFFFF", "          "): not a real serial.
  return s.size() >= 4 && std::all_of(s.begin(), s.end(), [&](char c) { return c == s[0]; });
}

std::string chassis_type_name(std::uint8_t t) {
  static const char* const kNames[] = {"",
                                       "Other",
                                       "Unknown",
                                       "Desktop",
                                       "Low Profile Desktop",
                                       "Pizza Box",
                                       "Mini Tower",
                                       "Tower",
                                       "Portable",
                                       "Laptop",
                                       "Notebook",
                                       "Hand Held",
                                       "Docking Station",
                                       "All In One",
                                       "Sub Notebook",
                                       "Space-saving",
                                       "Lunch Box",
                                       "Main Server Chassis",
                                       "Expansion Chassis",
                                       "SubChassis",
                                       "Bus Expansion Chassis",
                                       "Peripheral Chassis",
                                       "RAID Chassis",
                                       "Rack Mount Chassis",
                                       "Sealed-case PC",
                                       "Multi-system chassis",
                                       "Compact PCI",
                                       "Advanced TCA",
                                       "Blade",
                                       "Blade Enclosure",
                                       "Tablet",
                                       "Convertible",
                                       "Detachable",
                                       "IoT Gateway",
                                       "Embedded PC",
                                       "Mini PC",
                                       "Stick PC"};
  return t < std::size(kNames) ? kNames[t] : std::string();
}

std::uint64_t SmbiosInfo::memory_mib() const {
  std::uint64_t total = 0;
  for (const auto& m : memory) total += m.size_mib;
  return total;
}

std::size_t SmbiosInfo::populated_slots() const {
  return static_cast<std::size_t>(std::count_if(
      memory.begin(), memory.end(), [](const MemoryDevice& m) { return m.size_mib > 0; }));
}

SmbiosInfo parse_smbios(std::span<const std::byte> ep, std::span<const std::byte> table) {
  SmbiosInfo info;
  auto ep_is = [&](const char* magic, std::size_t n) {
    return ep.size() >= n && std::equal(magic, magic + n, ep.begin(), [](char a, std::byte b) {
             return static_cast<std::byte>(a) == b;
           });
  };
  if (ep_is("_SM3_", 5) && ep.size() >= 10) {
    info.version = std::to_string(static_cast<unsigned>(ep[7])) + "." +
                   std::to_string(static_cast<unsigned>(ep[8])) + "." +
                   std::to_string(static_cast<unsigned>(ep[9]));
  } else if (ep_is("_SM_", 4) && ep.size() >= 8) {
    info.version = std::to_string(static_cast<unsigned>(ep[6])) + "." +
                   std::to_string(static_cast<unsigned>(ep[7]));
  } else if (!ep.empty()) {
    info.warnings.emplace_back("SMBIOS entry point not recognised");
  }

  std::size_t pos = 0;
  std::size_t count = 0;
  bool ended = false;
  while (pos + 4 <= table.size()) {
    if (++count > 4096) {
      info.warnings.emplace_back("more than 4096 SMBIOS structures; stopped");
      break;
    }
    Structure s;
    s.type = static_cast<std::uint8_t>(table[pos]);
    const std::size_t len = static_cast<std::uint8_t>(table[pos + 1]);
    if (len < 4 || pos + len > table.size()) {
      info.warnings.push_back("SMBIOS structure at offset " + std::to_string(pos) +
                              " is truncated");
      break;
    }
    s.formatted = table.subspan(pos, len);
    // String set: NUL-terminated strings ending with an empty one (two NULs).
    std::size_t p = pos + len;
    std::string cur;
    bool terminated = false;
    while (p < table.size()) {
      const char c = static_cast<char>(table[p++]);
      if (c != '\0') {
        cur += c;
        continue;
      }
      if (cur.empty()) {
        // Either the end of a set that had strings, or the first of the two NULs of an empty set.
        if (s.strings.empty() && p < table.size() && table[p] == std::byte{0}) ++p;
        terminated = true;
        break;
      }
      s.strings.push_back(std::move(cur));
      cur.clear();
      if (s.strings.size() > 255) break;
    }
    if (!terminated) {
      info.warnings.push_back("SMBIOS strings of structure type " + std::to_string(s.type) +
                              " run past the table");
    }
    switch (s.type) {
      case 0:
        info.bios = {s.str(0x04), s.str(0x05), s.str(0x08)};
        break;
      case 1:
        info.system.vendor = s.str(0x04);
        info.system.product = s.str(0x05);
        info.system.version = s.str(0x06);
        info.system.serial = s.str(0x07);
        info.system.uuid = format_uuid(s, info.version);
        if (s.has(0x19, 1)) info.system.sku = s.str(0x19);
        if (s.has(0x1A, 1)) info.system.family = s.str(0x1A);
        break;
      case 2:
        info.board = {s.str(0x04), s.str(0x05), s.str(0x06), s.str(0x07)};
        break;
      case 3:
        info.chassis.vendor = s.str(0x04);
        info.chassis.type = static_cast<std::uint8_t>(s.byte(0x05) & 0x7F);
        info.chassis.type_name = chassis_type_name(info.chassis.type);
        info.chassis.serial = s.str(0x07);
        info.chassis.asset_tag = s.str(0x08);
        break;
      case 17: {
        MemoryDevice m;
        const std::uint16_t size = s.word(0x0C);
        if (size == 0x7FFF && s.has(0x1C, 4)) {
          m.size_mib = s.dword(0x1C) & 0x7FFFFFFF;
        } else if (size != 0xFFFF && size != 0) {
          m.size_mib = (size & 0x8000) ? (size & 0x7FFF) / 1024 : size;
        }
        m.form_factor = form_factor(s.byte(0x0E));
        m.locator = s.str(0x10);
        m.bank = s.str(0x11);
        m.type = memory_type(s.byte(0x12));
        m.speed_mts = s.word(0x15);
        m.manufacturer = s.str(0x17);
        m.serial = s.str(0x18);
        m.part_number = s.str(0x1A);
        if (s.has(0x20, 2)) m.configured_speed_mts = s.word(0x20);
        info.memory.push_back(std::move(m));
        break;
      }
      default:
        break;
    }
    if (s.type == 127) {  // end of table
      ended = true;
      break;
    }
    pos = p;
  }
  if (!ended && !table.empty() && info.warnings.empty()) {
    info.warnings.emplace_back("SMBIOS table ends without an End-of-Table structure (truncated?)");
  }
  return info;
}

}  // namespace revive::agent
