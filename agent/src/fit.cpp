#include "revive/agent/fit.hpp"

#include <algorithm>
#include <cstring>

namespace revive::agent {

namespace {

constexpr std::uint64_t kMiB = 1 << 20;

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

// Runs a tool; a non-zero exit above `ok_up_to` is an error quoting what it said.
Result<ExecResult> run_tool(Exec& exec, const std::vector<std::string>& argv, int timeout_s,
                            int ok_up_to = 0) {
  auto r = exec.run(argv, timeout_s);
  if (!r) return r.error().with_context(argv[0]);
  if (r->exit_code < 0 || r->exit_code > ok_up_to) {
    std::string said = trimmed(r->err.empty() ? r->out : r->err);
    if (said.size() > 400) said = said.substr(said.size() - 400);
    return make_error(Errc::io,
                      argv[0] + " exited with " + std::to_string(r->exit_code) + ": " + said);
  }
  return r;
}

}  // namespace

Result<LoopAttachment> LoopAttachment::attach(Exec& exec, const std::filesystem::path& disk,
                                              std::uint64_t offset, std::uint64_t size) {
  auto r = run_tool(exec,
                    {"losetup", "--find", "--show", "--offset", std::to_string(offset),
                     "--sizelimit", std::to_string(size), disk.string()},
                    60);
  if (!r) return r.error().with_context("attaching a partition of " + disk.string());
  const std::string dev = trimmed(r->out);
  if (dev.rfind("/dev/loop", 0) != 0)
    return make_error(Errc::io, "losetup did not name a loop device: " + dev);
  return LoopAttachment(exec, dev);
}

LoopAttachment::~LoopAttachment() {
  if (!device_.empty()) (void)exec_->run({"losetup", "-d", device_}, 60);
}

std::string detect_filesystem(BlockDevice& dev, std::uint64_t offset) {
  std::byte sb[2048];
  if (offset + sizeof sb > dev.size() || !dev.read_at(offset, sb)) return "";
  const auto* b = reinterpret_cast<const unsigned char*>(sb);
  if (b[1080] == 0x53 && b[1081] == 0xEF) return "ext";
  if (std::memcmp(b + 3, "NTFS    ", 8) == 0) return "ntfs";
  if (std::memcmp(b + 82, "FAT32   ", 8) == 0 || std::memcmp(b + 54, "FAT1", 4) == 0) return "vfat";
  return "";
}

Result<PartitionTable> read_partition_table(BlockDevice& dev) {
  std::vector<std::byte> head(static_cast<std::size_t>(std::min<std::uint64_t>(kMiB, dev.size())));
  REVIVE_TRY(dev.read_at(0, head));
  return parse_partition_table(head, dev.size());
}

std::uint64_t grown_last_lba(std::uint64_t disk_bytes, std::uint32_t sector_size,
                             std::uint64_t current_last) {
  const std::uint64_t sectors = disk_bytes / sector_size;
  const std::uint64_t array_sectors = (128 * 128 + sector_size - 1) / sector_size;
  if (sectors < array_sectors + 2) return current_last;
  const std::uint64_t last_usable =
      sectors - 1 - array_sectors - 1;  // backup array + header at the end
  const std::uint64_t align = std::max<std::uint64_t>(1, kMiB / sector_size);
  const std::uint64_t aligned = ((last_usable + 1) / align) * align;
  if (aligned > 0 && aligned - 1 > current_last) return aligned - 1;
  return std::max(current_last, last_usable);
}

std::vector<std::string> sgdisk_grow_command(const std::string& disk, const PartitionEntry& p,
                                             std::uint64_t new_last) {
  const std::string n = std::to_string(p.number);
  // -e first: the backup header and array move to the end, which frees the space to grow into.
  std::vector<std::string> argv = {
      "sgdisk", "-e",
      "-d",     n,
      "-n",     n + ":" + std::to_string(p.first_lba) + ":" + std::to_string(new_last),
      "-t",     n + ":" + p.type};
  if (!p.unique_guid.empty()) argv.insert(argv.end(), {"-u", n + ":" + p.unique_guid});
  if (!p.name.empty()) argv.insert(argv.end(), {"-c", n + ":" + p.name});
  for (int bit = 0; bit < 64; ++bit) {
    if ((p.attributes >> bit) & 1)
      argv.insert(argv.end(), {"-A", n + ":set:" + std::to_string(bit)});
  }
  argv.push_back(disk);
  return argv;
}

Result<nlohmann::json> fit_to_disk(const std::filesystem::path& disk, BlockDevice& dev,
                                   Exec& exec) {
  auto pt = read_partition_table(dev);
  if (!pt) return pt.error();
  nlohmann::json report = {{"scheme", pt->scheme}};
  if (pt->scheme != "gpt") {
    report["grown"] = false;
    report["why"] = pt->scheme == "mbr"
                        ? "MBR partition tables are left as they are (only GPT disks are grown)"
                        : "no partition table";
    return report;
  }
  if (!pt->warnings.empty()) {
    return make_error(Errc::corrupt,
                      "the deployed GPT has problems, not touching it: " + pt->warnings.front());
  }
  if (pt->partitions.empty()) {
    report["grown"] = false;
    report["why"] = "the GPT has no partitions";
    return report;
  }
  const auto last = *std::max_element(
      pt->partitions.begin(), pt->partitions.end(),
      [](const PartitionEntry& a, const PartitionEntry& b) { return a.last_lba < b.last_lba; });
  const std::uint64_t sector = pt->sector_size;
  const std::uint64_t new_last = grown_last_lba(dev.size(), pt->sector_size, last.last_lba);
  report["partition"] = last.number;
  report["from_bytes"] = (last.last_lba - last.first_lba + 1) * sector;
  report["to_bytes"] = (new_last - last.first_lba + 1) * sector;
  // Everything written so far must be on the disk before another tool opens it.
  REVIVE_TRY(dev.flush());
  if (auto r = run_tool(exec, sgdisk_grow_command(disk.string(), last, new_last), 120); !r) {
    return r.error().with_context("relocating the backup GPT and growing partition " +
                                  std::to_string(last.number));
  }
  auto check = run_tool(exec, {"sgdisk", "-v", disk.string()}, 120);
  if (!check) return check.error().with_context("checking the GPT after growing it");
  if (check->out.find("No problems found") == std::string::npos) {
    return make_error(Errc::corrupt,
                      "sgdisk -v finds problems after growing: " + trimmed(check->out));
  }
  report["gpt_check"] = "sgdisk -v: no problems found";
  report["grown"] = true;

  const std::uint64_t offset = last.first_lba * sector;
  const std::string fs = detect_filesystem(dev, offset);
  report["filesystem"] = fs.empty() ? "unknown" : fs;
  report["fs_grown"] = false;
  if (fs != "ext" && fs != "ntfs") {
    report["fs_why"] =
        "no tool to grow this filesystem; the partition is grown, the filesystem keeps its size";
    return report;
  }
  auto loop = LoopAttachment::attach(exec, disk, offset, (new_last - last.first_lba + 1) * sector);
  if (!loop) return loop.error();
  if (fs == "ext") {
    // resize2fs insists on a freshly checked filesystem; e2fsck exit 1 means "errors corrected".
    REVIVE_TRY(run_tool(exec, {"e2fsck", "-f", "-p", loop->device()}, 1800, 1));
    REVIVE_TRY(run_tool(exec, {"resize2fs", loop->device()}, 1800));
  } else {
    REVIVE_TRY(
        run_tool(exec, {"ntfsresize", "--force", "--no-progress-bar", loop->device()}, 1800));
  }
  report["fs_grown"] = true;
  return report;
}

}  // namespace revive::agent
