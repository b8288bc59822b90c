#include "revive/partition_table.hpp"

#include <array>
#include <cstdio>
#include <cstring>

namespace revive {

namespace {

std::uint32_t le32(const std::byte* p) {
  return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
         static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}
std::uint64_t le64(const std::byte* p) {
  return static_cast<std::uint64_t>(le32(p)) | static_cast<std::uint64_t>(le32(p + 4)) << 32;
}

std::string guid_to_string(const std::byte* g) {
  // Mixed-endian: first three fields little-endian.
  char buf[37];
  std::snprintf(buf, sizeof buf, "%08X-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X", le32(g),
                static_cast<unsigned>(g[4]) | static_cast<unsigned>(g[5]) << 8,
                static_cast<unsigned>(g[6]) | static_cast<unsigned>(g[7]) << 8,
                static_cast<unsigned>(g[8]), static_cast<unsigned>(g[9]),
                static_cast<unsigned>(g[10]), static_cast<unsigned>(g[11]),
                static_cast<unsigned>(g[12]), static_cast<unsigned>(g[13]),
                static_cast<unsigned>(g[14]), static_cast<unsigned>(g[15]));
  return buf;
}

std::string gpt_type_name(const std::string& guid) {
  static const std::array<std::pair<const char*, const char*>, 10> kKnown{{
      {"C12A7328-F81F-11D2-BA4B-00A0C93EC93B", "EFI System"},
      {"21686148-6449-6E6F-744E-656564454649", "BIOS boot"},
      {"0FC63DAF-8483-4772-8E79-3D69D8477DE4", "Linux filesystem"},
      {"4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709", "Linux root (x86-64)"},
      {"0657FD6D-A4AB-43C4-84E5-0933C84B4F4F", "Linux swap"},
      {"E6D6D379-F507-44C2-A23C-238F2A3DF928", "Linux LVM"},
      {"EBD0A0A2-B9E5-4433-87C0-68B6B72699C7", "Microsoft basic data"},
      {"E3C9E316-0B5C-4DB8-817D-F92DF00215AE", "Microsoft reserved"},
      {"DE94BBA4-06D1-4D40-A16A-BFD50179D6AC", "Windows recovery"},
      {"BC13C2FF-59E6-4262-A352-B275FD6F7172", "Linux extended boot"},
  }};
  for (const auto& [g, n] : kKnown) {
    if (guid == g) return n;
  }
  return {};
}

std::string mbr_type_name(unsigned t) {
  switch (t) {
    case 0x07:
      return "NTFS/exFAT";
    case 0x0b:
    case 0x0c:
      return "FAT32";
    case 0x0e:
      return "FAT16";
    case 0x05:
    case 0x0f:
      return "Extended";
    case 0x82:
      return "Linux swap";
    case 0x83:
      return "Linux";
    case 0x8e:
      return "Linux LVM";
    case 0xee:
      return "GPT protective";
    case 0xef:
      return "EFI System";
    default:
      return {};
  }
}

// GPT names are UTF-16LE; convert code units (surrogate pairs included) to UTF-8.
std::string utf16le_to_utf8(const std::byte* p, std::size_t units) {
  std::string out;
  for (std::size_t i = 0; i < units; ++i) {
    std::uint32_t c =
        static_cast<std::uint32_t>(p[2 * i]) | static_cast<std::uint32_t>(p[2 * i + 1]) << 8;
    if (c == 0) break;
    if (c >= 0xD800 && c <= 0xDBFF && i + 1 < units) {
      std::uint32_t lo =
          static_cast<std::uint32_t>(p[2 * i + 2]) | static_cast<std::uint32_t>(p[2 * i + 3]) << 8;
      if (lo >= 0xDC00 && lo <= 0xDFFF) {
        c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
        ++i;
      } else {
        c = 0xFFFD;
      }
    } else if (c >= 0xD800 && c <= 0xDFFF) {
      c = 0xFFFD;
    }
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if (c < 0x800) {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
      out += static_cast<char>(0xE0 | (c >> 12));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (c >> 18));
      out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

bool try_gpt(std::span<const std::byte> head, std::uint64_t disk_size, std::uint32_t sector,
             PartitionTable& out) {
  if (head.size() < 2 * std::size_t{sector}) return false;
  const std::byte* h = head.data() + sector;
  if (std::memcmp(h, "EFI PART", 8) != 0) return false;
  out = PartitionTable{};
  out.scheme = "gpt";
  out.sector_size = sector;
  const std::uint32_t header_size = le32(h + 12);
  if (header_size < 92 || header_size > sector) {
    out.warnings.push_back("GPT header size " + std::to_string(header_size) + " is invalid");
    return true;
  }
  std::array<std::byte, 512> copy{};
  std::memcpy(copy.data(), h, header_size);
  std::memset(copy.data() + 16, 0, 4);
  if (crc32_ieee({copy.data(), header_size}) != le32(h + 16)) {
    out.warnings.emplace_back("GPT header CRC mismatch");
  }
  out.disk_guid = guid_to_string(h + 56);
  const std::uint64_t entries_lba = le64(h + 72);
  const std::uint32_t count = le32(h + 80);
  const std::uint32_t entry_size = le32(h + 84);
  if (entry_size < 128 || entry_size > 4096 || entry_size % 8 != 0 || count > 4096) {
    out.warnings.emplace_back("GPT entry array geometry is invalid");
    return true;
  }
  const std::uint64_t array_bytes = static_cast<std::uint64_t>(count) * entry_size;
  if (entries_lba > head.size() / sector || array_bytes > head.size() - entries_lba * sector) {
    out.warnings.push_back("GPT entry array lies outside the first " + std::to_string(head.size()) +
                           " bytes; not read");
    return true;
  }
  const std::byte* entries = head.data() + entries_lba * sector;
  if (crc32_ieee({entries, array_bytes}) != le32(h + 88)) {
    out.warnings.emplace_back("GPT entry array CRC mismatch");
  }
  const std::uint64_t sectors = disk_size / sector;
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::byte* e = entries + static_cast<std::uint64_t>(i) * entry_size;
    bool empty = true;
    for (int k = 0; k < 16; ++k) empty = empty && e[k] == std::byte{0};
    if (empty) continue;
    PartitionEntry p;
    p.number = i + 1;
    p.type = guid_to_string(e);
    p.type_name = gpt_type_name(p.type);
    p.first_lba = le64(e + 32);
    p.last_lba = le64(e + 40);
    p.unique_guid = guid_to_string(e + 16);
    p.attributes = le64(e + 48);
    p.name = utf16le_to_utf8(e + 56, (entry_size - 56) / 2 > 36 ? 36 : (entry_size - 56) / 2);
    if (p.last_lba < p.first_lba || p.last_lba >= sectors) {
      out.warnings.push_back("partition " + std::to_string(p.number) + " lies outside the image");
    }
    out.partitions.push_back(std::move(p));
  }
  return true;
}

}  // namespace

std::uint32_t crc32_ieee(std::span<const std::byte> data, std::uint32_t crc) {
  static const auto kTable = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  crc = ~crc;
  for (std::byte b : data) crc = kTable[(crc ^ static_cast<std::uint8_t>(b)) & 0xff] ^ (crc >> 8);
  return ~crc;
}

PartitionTable parse_partition_table(std::span<const std::byte> head, std::uint64_t disk_size) {
  PartitionTable t;
  if (try_gpt(head, disk_size, 512, t) || try_gpt(head, disk_size, 4096, t)) return t;
  if (head.size() < 512 || head[510] != std::byte{0x55} || head[511] != std::byte{0xAA}) return t;
  // An MBR signature alone also marks FAT/NTFS boot sectors; require sane entries.
  std::vector<PartitionEntry> parts;
  for (std::uint32_t i = 0; i < 4; ++i) {
    const std::byte* e = head.data() + 446 + 16 * std::size_t{i};
    const auto status = static_cast<unsigned>(e[0]);
    const auto type = static_cast<unsigned>(e[4]);
    if (status != 0x00 && status != 0x80) return t;
    if (type == 0) continue;
    const std::uint32_t start = le32(e + 8);
    const std::uint32_t count = le32(e + 12);
    if (count == 0) return t;
    PartitionEntry p;
    p.number = i + 1;
    char tb[8];
    std::snprintf(tb, sizeof tb, "0x%02x", type);
    p.type = tb;
    p.type_name = mbr_type_name(type);
    p.first_lba = start;
    p.last_lba = static_cast<std::uint64_t>(start) + count - 1;
    parts.push_back(std::move(p));
  }
  if (parts.empty()) return t;
  t.scheme = "mbr";
  t.partitions = std::move(parts);
  for (const auto& p : t.partitions) {
    if ((p.last_lba + 1) * 512 > disk_size && p.type != "0xee") {
      t.warnings.push_back("partition " + std::to_string(p.number) + " lies outside the image");
    }
  }
  return t;
}

}  // namespace revive
