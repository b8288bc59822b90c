#include "revive/agent/inventory.hpp"

#include <nlohmann/json.hpp>

#include <charconv>
#include <optional>
#include <set>
#include <sstream>

#include "revive/agent/boot_stick.hpp"
#include "revive/agent/smbios.hpp"
#include "revive/agent/storage_controllers.hpp"

namespace revive::agent {

namespace {

std::vector<std::byte> bytes_of(const std::string& s) {
  std::vector<std::byte> b(s.size());
  std::memcpy(b.data(), s.data(), s.size());
  return b;
}

Json opt(const std::string& s) { return s.empty() ? Json() : Json(s); }

Json smbios_part(const MachineRoot& root, std::vector<std::string>& warnings) {
  auto ep = root.read("sys/firmware/dmi/tables/smbios_entry_point");
  auto table = root.read("sys/firmware/dmi/tables/DMI");
  if (!table) {
    warnings.emplace_back("no SMBIOS table (sys/firmware/dmi/tables/DMI)");
    return Json::object();
  }
  const auto info = parse_smbios(ep ? bytes_of(*ep) : std::vector<std::byte>{}, bytes_of(*table));
  for (const auto& w : info.warnings) warnings.push_back(w);
  Json mem = Json::array();
  for (const auto& m : info.memory) {
    mem.push_back({{"locator", m.locator},
                   {"size_mib", m.size_mib},
                   {"type", opt(m.type)},
                   {"form_factor", opt(m.form_factor)},
                   {"speed_mts", m.speed_mts},
                   {"manufacturer", opt(m.manufacturer)},
                   {"part_number", opt(m.part_number)}});
  }
  return {{"version", opt(info.version)},
          {"bios",
           {{"vendor", opt(info.bios.vendor)},
            {"version", opt(info.bios.version)},
            {"date", opt(info.bios.date)}}},
          {"system",
           {{"vendor", opt(info.system.vendor)},
            {"product", opt(info.system.product)},
            {"version", opt(info.system.version)},
            {"serial", opt(info.system.serial)},
            {"uuid", opt(info.system.uuid)},
            {"sku", opt(info.system.sku)},
            {"family", opt(info.system.family)}}},
          {"board",
           {{"vendor", opt(info.board.vendor)},
            {"product", opt(info.board.product)},
            {"serial", opt(info.board.serial)}}},
          {"chassis",
           {{"type", info.chassis.type},
            {"type_name", opt(info.chassis.type_name)},
            {"asset_tag", opt(info.chassis.asset_tag)},
            {"serial", opt(info.chassis.serial)}}},
          {"memory_devices", mem},
          {"memory_mib", info.memory_mib()},
          {"slots", {{"populated", info.populated_slots()}, {"total", info.memory.size()}}}};
}

Json cpu_part(const MachineRoot& root) {
  auto text = root.read("proc/cpuinfo");
  Json cpu = {{"model", nullptr},      {"vendor", nullptr}, {"family", nullptr},
              {"model_id", nullptr},   {"threads", 0},      {"cores", 0},
              {"flags", Json::array()}};
  if (!text) return cpu;
  std::istringstream in(*text);
  std::string line;
  int threads = 0;
  std::set<std::string> physical;
  int cores_per = 0;
  std::string flags;
  while (std::getline(in, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    while (!key.empty() && std::isspace(static_cast<unsigned char>(key.back()))) key.pop_back();
    std::string val = line.substr(colon + 1);
    while (!val.empty() && std::isspace(static_cast<unsigned char>(val.front())))
      val.erase(val.begin());
    if (key == "processor") ++threads;
    if (key == "model name" && cpu["model"].is_null()) cpu["model"] = val;
    if (key == "vendor_id" && cpu["vendor"].is_null()) cpu["vendor"] = val;
    if (key == "cpu family" && cpu["family"].is_null()) cpu["family"] = std::atoi(val.c_str());
    if (key == "model" && cpu["model_id"].is_null()) cpu["model_id"] = std::atoi(val.c_str());
    if (key == "physical id") physical.insert(val);
    if (key == "cpu cores") cores_per = std::atoi(val.c_str());
    if (key == "flags" && flags.empty()) flags = val;
  }
  cpu["threads"] = threads;
  cpu["cores"] = cores_per > 0
                     ? cores_per * static_cast<int>(std::max<std::size_t>(1, physical.size()))
                     : threads;
  // Only the flags grading and Windows 11 readiness look at (the full list is long).
  static const char* const kInteresting[] = {"lm",  "sse4_2", "popcnt", "avx",       "avx2",
                                             "aes", "vmx",    "svm",    "hypervisor"};
  std::istringstream fs(flags);
  std::set<std::string> have;
  for (std::string f; fs >> f;) have.insert(f);
  for (const char* f : kInteresting) {
    if (have.count(f)) cpu["flags"].push_back(f);
  }
  return cpu;
}

// A sysfs value written as hex bytes ("0x01 0x02"): byte `index`, or nullopt.
std::optional<int> hex_byte(const std::string& text, std::size_t index) {
  std::istringstream in(text);
  std::string word;
  for (std::size_t i = 0; i <= index; ++i) {
    if (!(in >> word)) return std::nullopt;
  }
  int value = -1;
  const char* first = word.data() + (word.rfind("0x", 0) == 0 ? 2 : 0);
  const auto [end, ec] = std::from_chars(first, word.data() + word.size(), value, 16);
  if (ec != std::errc() || end != word.data() + word.size() || value < 0 || value > 255)
    return std::nullopt;
  return value;
}

// An eMMC's own wear estimates (JEDEC eMMC 5.0, EXT_CSD 267-269; the kernel shows them in the
// card's sysfs directory): the device life used of its two memory types in tenths (1: 0-10%
// ... 10: 90-100%, 11: past its rated life, 0: not given) and how much of its reserve of
// blocks is used (1 normal, 2 warning: 80%, 3 urgent). SMART does not reach an eMMC, so this
// is all it says of its health; null when it says nothing (older cards).
Json emmc_health(const MachineRoot& root, const std::string& device) {
  const std::string life = root.line(device + "life_time");
  const std::string eol = root.line(device + "pre_eol_info");
  Json h = Json::object();
  const auto known = [](std::optional<int> v, int most) { return v && *v >= 1 && *v <= most; };
  if (auto a = hex_byte(life, 0); known(a, 11)) h["life_time_a"] = *a;
  if (auto b = hex_byte(life, 1); known(b, 11)) h["life_time_b"] = *b;
  if (auto e = hex_byte(eol, 0); known(e, 3)) h["pre_eol"] = *e;
  return h.empty() ? Json() : h;
}

Json disks_part(const MachineRoot& root, Exec& exec, std::vector<std::string>& warnings) {
  Json disks = Json::array();
  for (const auto& name : root.list("sys/block")) {
    if (!is_reported_block_device(name)) continue;
    const std::string base = "sys/block/" + name + "/";
    Json d;
    d["name"] = name;
    const long long sectors = root.number(base + "size", -1);
    d["size_bytes"] = sectors >= 0 ? Json(sectors * 512) : Json();
    d["logical_sector"] = root.number(base + "queue/logical_block_size", -1);
    d["physical_sector"] = root.number(base + "queue/physical_block_size", -1);
    const long long rot = root.number(base + "queue/rotational", -1);
    d["rotational"] = rot < 0 ? Json() : Json(rot == 1);
    d["removable"] = root.number(base + "removable", 0) == 1;
    // sys/block/X links into the device tree: the path says how the disk is attached.
    std::error_code ec;
    const std::string devpath =
        std::filesystem::read_symlink(root.path() / "sys/block" / name, ec).string();
    std::string transport = "SATA";
    if (name.rfind("nvme", 0) == 0) transport = "NVMe";
    if (name.rfind("mmcblk", 0) == 0) transport = "eMMC";
    if (devpath.find("/usb") != std::string::npos) transport = "USB";
    d["transport"] = transport;
    d["model"] = opt(root.line(base + "device/model"));
    d["serial"] = opt(root.line(base + "device/serial"));
    if (transport == "eMMC") {
      d["model"] = opt(root.line(base + "device/name"));
      d["serial"] = opt(root.line(base + "device/serial"));
      d["emmc_health"] = emmc_health(root, base + "device/");
    }
    // SMART through smartctl; a USB bridge may not pass it through: then it is unknown.
    auto r = exec.run({"smartctl", "-j", "-a", "/dev/" + name}, 120);
    if (r) {
      d["smart"] = parse_smartctl(r->out, r->exit_code);
      const Json& sm = d["smart"];
      if (d["serial"].is_null() && sm.contains("serial")) d["serial"] = sm["serial"];
      if (d["model"].is_null() && sm.contains("model")) d["model"] = sm["model"];
    } else {
      d["smart"] = {{"available", false}, {"error", r.error().message}};
      warnings.push_back("SMART of " + name + ": " + r.error().message);
    }
    disks.push_back(std::move(d));
  }
  return disks;
}

Json batteries_part(const MachineRoot& root) {
  Json out = Json::array();
  for (const auto& name : root.list("sys/class/power_supply")) {
    const std::string base = "sys/class/power_supply/" + name + "/";
    if (root.line(base + "type") != "Battery") continue;
    // energy_* in µWh, or charge_* in µAh with the design voltage in µV.
    double design = -1, full = -1;
    if (root.exists(base + "energy_full_design")) {
      design = static_cast<double>(root.number(base + "energy_full_design")) / 1e6;
      full = static_cast<double>(root.number(base + "energy_full")) / 1e6;
    } else if (root.exists(base + "charge_full_design")) {
      const double volts = static_cast<double>(root.number(base + "voltage_min_design", 0)) / 1e6;
      design = static_cast<double>(root.number(base + "charge_full_design")) / 1e6 * volts;
      full = static_cast<double>(root.number(base + "charge_full")) / 1e6 * volts;
    }
    Json b = {{"name", name},
              {"manufacturer", opt(root.line(base + "manufacturer"))},
              {"model", opt(root.line(base + "model_name"))},
              {"technology", opt(root.line(base + "technology"))},
              {"status", opt(root.line(base + "status"))}};
    b["design_wh"] = design > 0 ? Json(design) : Json();
    b["full_wh"] = full >= 0 && design > 0 ? Json(full) : Json();
    b["health_pct"] =
        design > 0 && full >= 0 ? Json(std::round(1000.0 * full / design) / 10.0) : Json();
    const long long cycles = root.number(base + "cycle_count", 0);
    b["cycle_count"] = cycles > 0 ? Json(cycles) : Json();  // 0 means the firmware does not know
    out.push_back(std::move(b));
  }
  return out;
}

Json nics_part(const MachineRoot& root) {
  Json out = Json::array();
  for (const auto& name : root.list("sys/class/net")) {
    if (name == "lo") continue;
    const std::string base = "sys/class/net/" + name + "/";
    if (!root.exists(base + "device")) continue;  // virtual interfaces
    const long long speed = root.number(base + "speed", -1);
    out.push_back({{"name", name},
                   {"mac", opt(root.line(base + "address"))},
                   {"driver", opt(root.link_target(base + "device/driver"))},
                   {"speed_mbps", speed > 0 ? Json(speed) : Json()},
                   {"wireless", root.exists(base + "wireless") || root.exists(base + "phy80211")}});
  }
  return out;
}

Json gpus_part(const MachineRoot& root) {
  Json out = Json::array();
  for (const auto& dev : root.list("sys/bus/pci/devices")) {
    const std::string base = "sys/bus/pci/devices/" + dev + "/";
    if (root.line(base + "class").rfind("0x03", 0) != 0) continue;
    out.push_back({{"pci", dev},
                   {"vendor_id", opt(root.line(base + "vendor"))},
                   {"device_id", opt(root.line(base + "device"))},
                   {"driver", opt(root.link_target(base + "driver"))}});
  }
  return out;
}

}  // namespace

Json parse_smartctl(const std::string& text, int exit_code) {
  Json j = Json::parse(text, nullptr, false);
  Json out = {{"available", false}};
  // smartctl's exit status is a bit mask: bits 0-1 mean it could not talk to the device.
  if (j.is_discarded() || !j.is_object() || (exit_code & 0x03)) {
    out["error"] = j.is_object() && j.contains("smartctl") && j["smartctl"].contains("messages") &&
                           !j["smartctl"]["messages"].empty()
                       ? j["smartctl"]["messages"][0].value("string", "smartctl failed")
                       : std::string("smartctl gave no usable answer (exit ") +
                             std::to_string(exit_code) + ")";
    return out;
  }
  out["available"] = j.contains("smart_status");
  if (j.contains("model_name")) out["model"] = j["model_name"];
  if (j.contains("serial_number")) out["serial"] = j["serial_number"];
  if (j.contains("smart_status") && j["smart_status"].contains("passed"))
    out["passed"] = j["smart_status"]["passed"];
  if (j.contains("power_on_time") && j["power_on_time"].contains("hours"))
    out["power_on_hours"] = j["power_on_time"]["hours"];
  if (j.contains("ata_smart_attributes") && j["ata_smart_attributes"].contains("table")) {
    Json attrs = Json::object();
    for (const auto& a : j["ata_smart_attributes"]["table"]) {
      const int id = a.value("id", 0);
      if (id == 5 || id == 187 || id == 188 || id == 197 || id == 198) {
        attrs[std::to_string(id)] = a.contains("raw") ? a["raw"].value("value", 0) : 0;
      }
    }
    out["ata_attributes"] = attrs;
  }
  if (j.contains("nvme_smart_health_information_log")) {
    const Json& n = j["nvme_smart_health_information_log"];
    out["nvme"] = {{"critical_warning", n.value("critical_warning", 0)},
                   {"percentage_used", n.value("percentage_used", 0)},
                   {"media_errors", n.value("media_errors", 0)}};
    if (!out.contains("power_on_hours") && n.contains("power_on_hours"))
      out["power_on_hours"] = n["power_on_hours"];
  }
  return out;
}

long long meminfo_kib(const MachineRoot& root, const std::string& key) {
  auto text = root.read("proc/meminfo");
  if (!text) return -1;
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) == 0) return std::atoll(line.c_str() + key.size() + 1);
  }
  return -1;
}

Json collect_inventory(const MachineRoot& root, Exec& exec) {
  std::vector<std::string> warnings;
  Json inv;
  inv["smbios"] = smbios_part(root, warnings);
  inv["cpu"] = cpu_part(root);
  const long long total_kib = meminfo_kib(root, "MemTotal");
  inv["memory"] = {{"total_mib", total_kib >= 0 ? Json(total_kib / 1024) : Json()},
                   {"installed_mib", inv["smbios"].value("memory_mib", 0)}};
  inv["disks"] = disks_part(root, exec, warnings);
  mark_boot_stick(root, exec, inv["disks"], warnings);
  inv["storage_controllers"] = storage_controllers(root);
  inv["batteries"] = batteries_part(root);
  inv["nics"] = nics_part(root);
  inv["gpus"] = gpus_part(root);
  const long long tpm = root.number("sys/class/tpm/tpm0/tpm_version_major", -1);
  inv["tpm"] = {{"present", root.exists("sys/class/tpm/tpm0")},
                {"version", tpm > 0 ? Json(tpm) : Json()}};
  const bool uefi = root.exists("sys/firmware/efi");
  Json secure_boot;
  if (uefi) {
    auto v = root.read("sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c");
    if (v && v->size() >= 5) secure_boot = (*v)[4] == 1;  // 4 attribute bytes, then the value
  }
  inv["firmware"] = {{"mode", uefi ? "uefi" : "legacy"}, {"secure_boot", secure_boot}};
  inv["warnings"] = warnings;
  return inv;
}

Json identity_of(const Json& inv) {
  const Json sys =
      inv.contains("smbios") ? inv["smbios"].value("system", Json::object()) : Json::object();
  auto s = [&](const char* k) {
    return sys.contains(k) && sys[k].is_string() ? sys[k].get<std::string>() : std::string();
  };
  // Lenovo puts the marketing name in "version" and the machine type in "product".
  std::string model = s("product");
  if (s("vendor") == "LENOVO" && !s("version").empty())
    model = s("version") + " (" + s("product") + ")";
  return {{"system_uuid", s("uuid")},
          {"serial", s("serial")},
          {"model", model},
          {"vendor", s("vendor")}};
}

std::optional<std::string> pick_internal_disk(const Json& inventory) {
  // NVMe first (the system disk of nearly every laptop that has one), then SATA, then eMMC;
  // never removable or USB-attached media (the volunteer's stick, an external drive).
  std::optional<std::string> best;
  int best_rank = 99;
  for (const auto& d : inventory.value("disks", Json::array())) {
    if (!d.is_object() || !d.value("name", Json()).is_string()) continue;
    if (d.value("removable", Json(false)) == Json(true)) continue;
    const std::string transport =
        d.value("transport", Json("")).is_string() ? d["transport"].get<std::string>() : "";
    const int rank = transport == "NVMe"   ? 0
                     : transport == "SATA" ? 1
                     : transport == "eMMC" ? 2
                                           : 99;
    const Json size = d.value("size_bytes", Json());
    if (rank >= best_rank || !size.is_number_integer() || size.get<long long>() <= 0) continue;
    best_rank = rank;
    best = d["name"].get<std::string>();
  }
  return best;
}

}  // namespace revive::agent
