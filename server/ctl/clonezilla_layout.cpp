#include "clonezilla_layout.hpp"

#include <algorithm>
#include <array>
#include <regex>
#include <sstream>

#include "revive/file_util.hpp"

namespace revive::ctl {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kTextLimit = 1 << 20;  // partition dumps and lists are a few KiB

std::vector<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

std::optional<std::uint64_t> number(const std::string& text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

Result<std::string> read_text(const fs::path& file) { return read_small_file(file, kTextLimit); }

Result<SfdiskEntry> parse_entry(const std::string& line, const std::string& where) {
  const auto colon = line.find(" : ");
  SfdiskEntry e;
  e.device = fs::path(trim(line.substr(0, colon))).filename().string();
  std::istringstream fields(line.substr(colon + 3));
  for (std::string field; std::getline(fields, field, ',');) {
    field = trim(field);
    const auto eq = field.find('=');
    if (eq == std::string::npos) continue;  // flags such as "bootable"
    const std::string key = trim(field.substr(0, eq));
    const std::string value = trim(field.substr(eq + 1));
    if (key == "start" || key == "size") {
      auto v = number(value);
      if (!v) return make_error(Errc::invalid_input, where + ": " + key + " is not a number");
      (key == "start" ? e.start_sector : e.sectors) = *v;
    } else if (key == "type" || key == "Id") {
      e.type = value;
    }
  }
  if (e.device.empty() || e.sectors == 0) {
    return make_error(Errc::invalid_input, where + ": no device or size in \"" + line + "\"");
  }
  return e;
}

// The image files of one partition: NAME.FS-ptcl-img.COMP[.aa .ab ...] (partclone) or the
// older NAME.dd-img[.aa ...] (raw dd). Anything else named after the partition is refused.
Result<ClonezillaPartition> find_images(const fs::path& dir, const std::string& name) {
  static const std::regex ptcl(R"(([A-Za-z0-9+]+)-ptcl-img\.([a-z0-9]+)(\.[a-z]{2,})?)");
  static const std::regex dd(R"(dd-img(\.[a-z]{2,})?)");
  ClonezillaPartition p;
  p.name = name;
  std::vector<fs::path> files;
  std::string unsupported;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string file = entry.path().filename().string();
    if (file.rfind(name + ".", 0) != 0) continue;
    const std::string rest = file.substr(name.size() + 1);
    std::smatch m;
    if (std::regex_match(rest, m, ptcl)) {
      p.filesystem = m[1];
      p.compression = m[2];
      files.push_back(entry.path());
    } else if (std::regex_match(rest, m, dd)) {
      p.filesystem = "dd";
      p.compression = "uncomp";
      p.partclone = false;
      files.push_back(entry.path());
    } else if (rest.find("-img") != std::string::npos) {
      unsupported = file;
    }
  }
  if (ec) return make_error(Errc::io, "listing " + dir.string() + ": " + ec.message());
  if (files.empty()) {
    return make_error(
        Errc::unsupported,
        (dir / name).string() + ": " +
            (unsupported.empty() ? "no image file for this partition (listed in `parts`)"
                                 : unsupported + " is not a partclone or dd image (saved by an "
                                                 "old Clonezilla with partimage or ntfsclone): "
                                                 "save the disk again with a current Clonezilla"));
  }
  std::sort(files.begin(), files.end());  // .aa < .ab < ... < .ba: split's own order
  p.image_files = std::move(files);
  return p;
}

// GPT: the disk ends one sector after the backup header the primary header points to.
std::optional<std::uint64_t> gpt_disk_size(const fs::path& gpt_first, std::uint32_t sector) {
  auto text = read_small_file(gpt_first, kTextLimit);
  if (!text || text->size() < 2 * std::size_t{sector} ||
      text->compare(sector, 8, "EFI PART") != 0) {
    return std::nullopt;
  }
  std::uint64_t alternate = 0;
  for (int i = 7; i >= 0; --i) {
    alternate = alternate << 8 | static_cast<unsigned char>((*text)[sector + 32 + i]);
  }
  return (alternate + 1) * sector;
}

// MBR: `parted unit s print` says "Disk /dev/sda: 41943040s".
std::optional<std::uint64_t> parted_disk_size(const fs::path& parted, std::uint32_t sector) {
  auto text = read_small_file(parted, kTextLimit);
  if (!text) return std::nullopt;
  static const std::regex disk_line(R"(Disk /dev/\S+: (\d+)s)");
  std::smatch m;
  if (!std::regex_search(*text, m, disk_line)) return std::nullopt;
  auto sectors = number(m[1]);
  return sectors ? std::optional(*sectors * sector) : std::nullopt;
}

Result<void> place_partitions(ClonezillaLayout& l, const SfdiskDump& dump,
                              const std::vector<std::string>& parts) {
  for (const auto& e : dump.entries) {
    ClonezillaPartition p;
    const bool has_image = std::find(parts.begin(), parts.end(), e.device) != parts.end();
    if (has_image) {
      auto found = find_images(l.dir, e.device);
      if (!found) return found.error();
      p = std::move(*found);
    } else {
      p.name = e.device;
      l.notes.push_back(e.device +
                        ": no image in the directory (swap, extended or not saved): "
                        "left empty");
    }
    p.start = e.start_sector * dump.sector_size;
    p.size = e.sectors * dump.sector_size;
    if (p.start + p.size > l.disk_size) {
      return make_error(Errc::invalid_input, l.sfdisk_dump.string() + ": " + e.device +
                                                 " ends beyond the disk's " +
                                                 std::to_string(l.disk_size) + " bytes");
    }
    l.partitions.push_back(std::move(p));
  }
  for (const auto& name : parts) {
    if (std::none_of(l.partitions.begin(), l.partitions.end(),
                     [&](const auto& p) { return p.name == name; })) {
      return make_error(Errc::invalid_input, (l.dir / "parts").string() + " lists " + name +
                                                 ", which " + l.sfdisk_dump.string() +
                                                 " does not have");
    }
  }
  std::sort(l.partitions.begin(), l.partitions.end(),
            [](const auto& a, const auto& b) { return a.start < b.start; });
  return {};
}

}  // namespace

bool is_clonezilla_dir(const fs::path& dir) {
  std::error_code ec;
  return fs::exists(dir / "clonezilla-img", ec) ||
         (fs::is_regular_file(dir / "disk", ec) && fs::is_regular_file(dir / "parts", ec));
}

std::optional<std::string> fog_image_file(const fs::path& dir) {
  static const std::regex fog(R"(d[0-9]+(p[0-9]+\.img|\.partitions|\.mbr|\.original\.fstypes))");
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string file = entry.path().filename().string();
    if (std::regex_match(file, fog)) return file;
  }
  return std::nullopt;
}

Result<SfdiskDump> parse_sfdisk_dump(const std::string& text, const std::string& file) {
  SfdiskDump d;
  std::istringstream in(text);
  int line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    line = trim(line);
    if (line.empty()) continue;
    const std::string where = file + " line " + std::to_string(line_no);
    if (line.find(" : ") != std::string::npos) {
      auto e = parse_entry(line, where);
      if (!e) return e.error();
      d.entries.push_back(std::move(*e));
      continue;
    }
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = trim(line.substr(0, colon));
    const std::string value = trim(line.substr(colon + 1));
    if (key == "label") d.label = value;
    if (key == "last-lba") d.last_lba = number(value);
    if (key == "unit" && value != "sectors") {
      return make_error(Errc::invalid_input, where + ": unit \"" + value + "\" (want sectors)");
    }
    if (key == "sector-size") {
      auto s = number(value);
      if (!s || (*s != 512 && *s != 4096)) {
        return make_error(Errc::invalid_input, where + ": sector size \"" + value + "\"");
      }
      d.sector_size = static_cast<std::uint32_t>(*s);
    }
  }
  if (d.label != "gpt" && d.label != "dos") {
    return make_error(Errc::invalid_input,
                      file + ": partition table label \"" + d.label + "\" (want gpt or dos)");
  }
  return d;
}

Result<ClonezillaLayout> read_clonezilla_layout(const fs::path& dir) {
  ClonezillaLayout l;
  l.dir = dir;
  auto disk = read_text(dir / "disk");
  if (!disk) return disk.error();
  const auto disks = words(*disk);
  if (disks.size() != 1) {
    return make_error(Errc::unsupported, (dir / "disk").string() + " names " +
                                             std::to_string(disks.size()) + " disks (\"" +
                                             trim(*disk) +
                                             "\"): Revive images hold one disk; "
                                             "save each disk on its own");
  }
  l.disk = disks[0];
  auto parts = read_text(dir / "parts");
  if (!parts) return parts.error();
  l.sfdisk_dump = dir / (l.disk + "-pt.sf");
  auto dump_text = read_text(l.sfdisk_dump);
  if (!dump_text) return dump_text.error();
  auto dump = parse_sfdisk_dump(*dump_text, l.sfdisk_dump.string());
  if (!dump) return dump.error();
  l.label = dump->label;
  auto optional_file = [&](const std::string& suffix) {
    const fs::path p = dir / (l.disk + suffix);
    std::error_code ec;
    return fs::is_regular_file(p, ec) ? p : fs::path{};
  };
  l.mbr = optional_file("-mbr");
  l.hidden_after_mbr = optional_file("-hidden-data-after-mbr");
  l.gpt_first = optional_file("-gpt-1st");
  l.gpt_second = optional_file("-gpt-2nd");
  l.gpt_backup = optional_file("-gpt.gdisk");
  std::optional<std::uint64_t> size;
  if (l.label == "gpt") {
    if (!l.gpt_first.empty()) size = gpt_disk_size(l.gpt_first, dump->sector_size);
    // The usual GPT: 128 entries (32 sectors) and the backup header after the last usable LBA.
    if (!size && dump->last_lba) size = (*dump->last_lba + 34) * dump->sector_size;
  }
  if (!size) size = parted_disk_size(dir / (l.disk + "-pt.parted"), dump->sector_size);
  if (!size) {
    return make_error(Errc::invalid_input, dir.string() + ": the disk's size is in none of " +
                                               l.disk + "-gpt-1st, " + l.disk +
                                               "-pt.sf (last-lba) or " + l.disk + "-pt.parted");
  }
  l.disk_size = *size;
  REVIVE_TRY(place_partitions(l, *dump, words(*parts)));
  return l;
}

}  // namespace revive::ctl
