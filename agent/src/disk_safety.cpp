#include "revive/agent/disk_safety.hpp"

#include <set>
#include <sstream>
#include <vector>

namespace revive::agent {

namespace {

namespace fs = std::filesystem;

// The block devices that are "this disk": its partitions, and loop devices (with their
// partitions) whose backing file is the disk or one of those, a few levels deep.
std::vector<std::string> members(const MachineRoot& root, const std::string& name,
                                 const std::string& file) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  std::vector<std::string> backing = {file};  // paths a stacked loop device could name
  auto add = [&](const std::string& dev) {
    if (!seen.insert(dev).second) return;
    out.push_back(dev);
    backing.push_back("/dev/" + dev);
    for (const auto& child : root.list("sys/block/" + dev)) {
      if (child.rfind(dev, 0) == 0 &&
          root.exists("sys/block/" + dev + "/" + child + "/partition")) {
        if (seen.insert(child).second) {
          out.push_back(child);
          backing.push_back("/dev/" + child);
        }
      }
    }
  };
  if (!name.empty()) add(name);
  for (int depth = 0; depth < 4; ++depth) {
    const std::size_t before = out.size();
    for (const auto& loop : root.list("sys/block")) {
      if (loop.rfind("loop", 0) != 0 || seen.count(loop)) continue;
      const std::string b = root.line("sys/block/" + loop + "/loop/backing_file");
      for (const auto& p : backing) {
        if (!p.empty() && b == p) {
          add(loop);
          break;
        }
      }
    }
    if (out.size() == before) break;
  }
  return out;
}

// Directory of a member in sysfs: sys/block/X for disks, sys/block/X/Xp1 for partitions.
std::string sys_dir(const MachineRoot& root, const std::string& dev) {
  if (root.exists("sys/block/" + dev)) return "sys/block/" + dev;
  for (const auto& disk : root.list("sys/block")) {
    if (dev.rfind(disk, 0) == 0 && root.exists("sys/block/" + disk + "/" + dev))
      return "sys/block/" + disk + "/" + dev;
  }
  return "";
}

}  // namespace

std::optional<std::string> disk_in_use(const MachineRoot& root, const fs::path& disk) {
  std::error_code ec;
  const fs::path real = fs::weakly_canonical(disk, ec);
  const std::string path = ec ? disk.string() : real.string();
  const bool is_dev = path.rfind("/dev/", 0) == 0;
  const std::string name = is_dev ? fs::path(path).filename().string() : "";
  if (!name.empty() && root.line("sys/block/" + name + "/ro") == "1") return path + " is read-only";
  const auto devs = members(root, name, is_dev ? "" : path);
  for (const auto& dev : devs) {
    const std::string dir = sys_dir(root, dev);
    if (dir.empty()) continue;
    const auto holders = root.list(dir + "/holders");
    if (!holders.empty())
      return path + " is in use: /dev/" + dev + " belongs to /dev/" + holders.front() +
             " (RAID or device-mapper)";
  }
  auto in_table = [&](const std::string& rel, const char* what) -> std::optional<std::string> {
    const auto text = root.read(rel);
    if (!text) return std::nullopt;
    std::istringstream in(*text);
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream f(line);
      std::string source, where;
      f >> source >> where;
      for (const auto& dev : devs) {
        if (source == "/dev/" + dev)
          return path + " is in use: /dev/" + dev + " " + what + (where.empty() ? "" : " " + where);
      }
      if (!is_dev && source == path) return path + " is in use: it " + what + " " + where;
    }
    return std::nullopt;
  };
  if (auto m = in_table("proc/self/mounts", "is mounted on")) return m;
  if (auto s = in_table("proc/swaps", "is used as swap")) return s;
  return std::nullopt;
}

std::optional<std::string> external_drive(const MachineRoot& root, const std::string& name) {
  const std::string dev = "/dev/" + name;
  const std::string never =
      ": the agent never writes to USB, removable or Thunderbolt-attached drives, whatever the "
      "job says";
  if (name.empty() || name.find('/') != std::string::npos || name.starts_with(".") ||
      !root.exists("sys/block/" + name)) {
    return dev + " is not a block device of this laptop (not in sysfs): refused";
  }
  if (root.line("sys/block/" + name + "/removable") == "1")
    return dev + " is removable media (sysfs removable=1)" + never;
  // sys/block/X is a link into the device tree; its path says how the drive is attached.
  std::error_code ec;
  const fs::path block = root.path() / "sys/block" / name;
  const fs::path target = fs::read_symlink(block, ec);
  const fs::path devices = (root.path() / "sys/devices").lexically_normal();
  fs::path dir = ec ? block : (block.parent_path() / target).lexically_normal();
  for (const auto& part : dir.lexically_relative(devices)) {
    const std::string p = part.string();
    if (p.starts_with("usb")) return dev + " is attached through USB (" + p + ")" + never;
    if (p.find("thunderbolt") != std::string::npos || p.starts_with("domain"))
      return dev + " is attached through Thunderbolt (" + p + ")" + never;
  }
  // A PCIe device behind an external-facing (hot-pluggable) port: the kernel says
  // "removable" in its sysfs attribute (Linux 5.13 and later).
  const fs::path top = root.path().lexically_normal();
  for (;
       dir.string().size() > devices.string().size() && dir.string().starts_with(devices.string());
       dir = dir.parent_path()) {
    if (root.line((dir / "removable").lexically_relative(top).string()) == "removable") {
      return dev + " sits below a removable (external) port " + dir.filename().string() + never;
    }
  }
  return std::nullopt;
}

}  // namespace revive::agent
