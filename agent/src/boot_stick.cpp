#include "revive/agent/boot_stick.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>

#include "revive/agent/cmdline.hpp"

namespace revive::agent {

namespace {
std::string lower_trimmed(std::string s) {
  std::erase_if(s, [](unsigned char c) { return std::isspace(c) != 0; });
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}
}  // namespace

bool booted_from_stick(const MachineRoot& root) {
  const auto cmdline = root.read("proc/cmdline");
  return cmdline && parse_cmdline(*cmdline).all.contains("revive.stick");
}

void mark_boot_stick(const MachineRoot& root, Exec& exec, nlohmann::json& disks,
                     std::vector<std::string>& warnings) {
  const auto cmdline = root.read("proc/cmdline");
  if (!cmdline) return;
  const auto params = parse_cmdline(*cmdline);
  const auto it = params.all.find("revive.stick");
  if (it == params.all.end()) return;
  const std::string guid = lower_trimmed(it->second);
  // A stick made before the GUID was on the command line ("1") matches no disk: fail closed.
  for (auto& d : disks) {
    if (!d.is_object() || d.value("transport", std::string()) != "USB") continue;
    const std::string name = d.value("name", std::string());
    d["revive_stick"] = false;
    if (guid.size() != 36) continue;
    auto r = exec.run({"blkid", "-p", "-s", "PTUUID", "-o", "value", "/dev/" + name}, 30);
    if (!r || r->exit_code != 0) {
      warnings.push_back("the partition table of USB disk " + name +
                         " could not be read (blkid): not taken for the Revive stick");
      continue;
    }
    d["revive_stick"] = lower_trimmed(r->out) == guid;
  }
}

}  // namespace revive::agent
