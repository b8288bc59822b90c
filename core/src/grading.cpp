#include "revive/grading.hpp"

#include <fmt/core.h>
#include <toml++/toml.h>
#include <nlohmann/json.hpp>

namespace revive {

std::string default_policy_toml() {
  return R"(# Revive grading policy: each rule caps the grade (A best, then B, C, reject).
[battery]
b_below_pct = 80      # health (full / design capacity) below this: at most B
c_below_pct = 60      # below this: at most C
no_battery_is_b = true

[memory]
b_below_mib = 8192
c_below_mib = 4096
reject_below_mib = 2048

[disk]
reallocated_b_above = 0      # SMART 5 (reallocated / retired blocks)
reallocated_c_above = 50
uncorrectable_c_above = 0    # SMART 187/197/198, NVMe media errors
nvme_used_c_above_pct = 90   # NVMe percentage used
min_bytes = 100000000000     # smaller disks: at most C

[cpu]
c_below_score = 0            # single-thread score below this: at most C (0 = no rule)
)";
}

namespace {

Error out_of_range(const std::string& what) {
  return make_error(Errc::invalid_input, "grading policy: " + what);
}

// Values a workshop could not have meant: a thinner rule for a worse grade would make the worse
// grade unreachable, and a negative count or size matches nothing.
Result<void> check_policy(const GradingPolicy& p) {
  if (p.battery_b_below_pct < 0 || p.battery_b_below_pct > 100)
    return out_of_range("battery.b_below_pct must be from 0 to 100");
  if (p.battery_c_below_pct < 0 || p.battery_c_below_pct > 100)
    return out_of_range("battery.c_below_pct must be from 0 to 100");
  if (p.battery_c_below_pct > p.battery_b_below_pct)
    return out_of_range("battery.c_below_pct must not be above battery.b_below_pct");
  if (p.ram_reject_below_mib < 0)
    return out_of_range("memory.reject_below_mib must not be negative");
  if (p.ram_c_below_mib < p.ram_reject_below_mib)
    return out_of_range("memory.c_below_mib must not be below memory.reject_below_mib");
  if (p.ram_b_below_mib < p.ram_c_below_mib)
    return out_of_range("memory.b_below_mib must not be below memory.c_below_mib");
  const std::pair<const char*, long long> counts[] = {
      {"disk.reallocated_b_above", p.reallocated_b_above},
      {"disk.reallocated_c_above", p.reallocated_c_above},
      {"disk.uncorrectable_c_above", p.uncorrectable_c_above},
      {"disk.nvme_used_c_above_pct", p.nvme_used_c_above_pct},
      {"disk.min_bytes", p.disk_min_bytes}};
  for (const auto& [key, value] : counts) {
    if (value < 0) return out_of_range(std::string(key) + " must not be negative");
  }
  if (p.reallocated_c_above < p.reallocated_b_above)
    return out_of_range("disk.reallocated_c_above must not be below disk.reallocated_b_above");
  if (p.cpu_c_below_score < 0) return out_of_range("cpu.c_below_score must not be negative");
  return {};
}

}  // namespace

Result<GradingPolicy> parse_policy(const std::string& text) {
  toml::table t;
  try {
    t = toml::parse(text);
  } catch (const toml::parse_error& e) {
    return make_error(Errc::invalid_input, "grading policy line " +
                                               std::to_string(e.source().begin.line) + ": " +
                                               std::string(e.description()));
  }
  GradingPolicy p;
  struct Num {
    const char* section;
    const char* key;
    double* d;
    long long* i;
  };
  const Num nums[] = {{"battery", "b_below_pct", &p.battery_b_below_pct, nullptr},
                      {"battery", "c_below_pct", &p.battery_c_below_pct, nullptr},
                      {"memory", "b_below_mib", nullptr, &p.ram_b_below_mib},
                      {"memory", "c_below_mib", nullptr, &p.ram_c_below_mib},
                      {"memory", "reject_below_mib", nullptr, &p.ram_reject_below_mib},
                      {"disk", "reallocated_b_above", nullptr, &p.reallocated_b_above},
                      {"disk", "reallocated_c_above", nullptr, &p.reallocated_c_above},
                      {"disk", "uncorrectable_c_above", nullptr, &p.uncorrectable_c_above},
                      {"disk", "nvme_used_c_above_pct", nullptr, &p.nvme_used_c_above_pct},
                      {"disk", "min_bytes", nullptr, &p.disk_min_bytes},
                      {"cpu", "c_below_score", &p.cpu_c_below_score, nullptr}};
  for (auto&& [sk, sv] : t) {
    const auto* sec = sv.as_table();
    if (!sec)
      return make_error(Errc::invalid_input,
                        "grading policy: \"" + std::string(sk.str()) + "\" must be a section");
    for (auto&& [k, v] : *sec) {
      const std::string section(sk.str()), key(k.str());
      if (section == "battery" && key == "no_battery_is_b") {
        auto b = v.value<bool>();
        if (!b)
          return make_error(Errc::invalid_input,
                            "grading policy: battery.no_battery_is_b must be true or false");
        p.no_battery_is_b = *b;
        continue;
      }
      bool known = false;
      for (const auto& n : nums) {
        if (section != n.section || key != n.key) continue;
        known = true;
        auto d = v.value<double>();
        if (!d)
          return make_error(Errc::invalid_input,
                            "grading policy: " + section + "." + key + " must be a number");
        if (n.d) *n.d = *d;
        if (n.i) *n.i = static_cast<long long>(*d);
      }
      if (!known)
        return make_error(Errc::invalid_input,
                          "grading policy: unknown setting " + section + "." + key);
    }
  }
  REVIVE_TRY(check_policy(p));
  return p;
}

namespace {

int rank(const std::string& g) { return g == "A" ? 0 : g == "B" ? 1 : g == "C" ? 2 : 3; }

struct Grader {
  std::string grade = "A";
  Json reasons = Json::array();
  void cap(const std::string& at_most, const std::string& why) {
    reasons.push_back(at_most == "reject" ? "reject: " + why : "at most " + at_most + ": " + why);
    if (rank(at_most) > rank(grade)) grade = at_most;
  }
  // A fact for the reader that caps nothing (a check nobody answered is not a fault).
  void note(const std::string& what) { reasons.push_back(what); }
};

std::string joined(const Json& list) {
  std::string out;
  for (const auto& v : list) {
    if (!v.is_string()) continue;
    out += (out.empty() ? "" : ", ") + v.get<std::string>();
  }
  return out;
}

// What a volunteer found by hand (a checks step before the test step): a part that does not
// work caps at C, a part that is missing at B; one nobody answered is named, never passed.
void grade_checks(Grader& g, const Json& tests) {
  if (!tests.is_object() || !tests.contains("checks")) return;
  const Json parts = tests["checks"].value("parts", Json::object());
  if (!parts.is_object()) return;
  for (const auto& [name, r] : parts.items()) {
    if (!r.is_object()) continue;
    const std::string status = r.value("status", std::string());
    if (status == "not_checked") {
      g.note("not checked: " + name + " (" + r.value("reason", std::string("no answer")) + ")");
    } else if (status == "failed" && name == "keyboard") {
      g.cap("C", "keys not working: " + joined(r.value("missing", Json::array())));
    } else if (status == "failed" && name == "speakers") {
      g.cap("C", "speakers not heard: " + joined(r.value("not_heard", Json::array())));
    } else if (status == "failed") {
      g.cap("C", name + ": " + r.value("reason", std::string("failed the check")));
    } else if (status == "not_found") {
      g.cap("B", "no " + name + " found");
    }
  }
}

long long num(const Json& j, const char* key, long long fallback = -1) {
  return j.is_object() && j.contains(key) && j[key].is_number() ? j[key].get<long long>()
                                                                : fallback;
}

// Windows 11 CPU support, approximated from family/model (Intel 8th gen and later, AMD Zen+
// and later): https://learn.microsoft.com lists processors; this is the generational rule.
bool win11_cpu(const Json& cpu) {
  const std::string vendor = cpu.value("vendor", std::string());
  const long long family = num(cpu, "family"), model = num(cpu, "model_id");
  if (vendor == "GenuineIntel" && family == 6) {
    static const long long kModels[] = {142, 158, 102, 106, 108, 122, 125, 126, 140, 141, 143, 151,
                                        154, 156, 165, 166, 167, 170, 183, 186, 189, 191, 197, 198};
    for (long long m : kModels) {
      if (m == model) return true;
    }
    return false;
  }
  if (vendor == "AuthenticAMD") return family > 23 || (family == 23 && model >= 8);
  return false;
}

}  // namespace

Json grade(const Json& inv, const Json& tests, const GradingPolicy& p) {
  Grader g;
  // Battery
  const Json bats = inv.value("batteries", Json::array());
  if (bats.empty()) {
    if (p.no_battery_is_b) g.cap("B", "no battery found");
  }
  for (const auto& b : bats) {
    const std::string name = b.value("name", std::string("battery"));
    if (!b["health_pct"].is_number()) {
      g.cap("B", name + " health unknown (no design capacity reported)");
      continue;
    }
    const double h = b["health_pct"].get<double>();
    if (h < p.battery_c_below_pct) {
      g.cap("C", fmt::format("{} {:.0f}% of design < {:.0f}%", name, h, p.battery_c_below_pct));
    } else if (h < p.battery_b_below_pct) {
      g.cap("B", fmt::format("{} {:.0f}% of design < {:.0f}%", name, h, p.battery_b_below_pct));
    }
  }
  // Memory
  long long ram = num(inv.value("memory", Json::object()), "installed_mib", 0);
  if (ram <= 0) ram = num(inv.value("memory", Json::object()), "total_mib", 0);
  if (ram < p.ram_reject_below_mib) {
    g.cap("reject", fmt::format("RAM {} MiB < {} MiB", ram, p.ram_reject_below_mib));
  } else if (ram < p.ram_c_below_mib) {
    g.cap("C", fmt::format("RAM {} MiB < {} MiB", ram, p.ram_c_below_mib));
  } else if (ram < p.ram_b_below_mib) {
    g.cap("B", fmt::format("RAM {} MiB < {} MiB", ram, p.ram_b_below_mib));
  }
  if (tests.is_object() && tests.contains("memory") && num(tests["memory"], "errors", 0) > 0) {
    g.cap("reject",
          fmt::format("memory pattern test found {} errors", num(tests["memory"], "errors", 0)));
  }
  // Disks
  const Json disks = inv.value("disks", Json::array());
  const Json internal = [&] {
    Json out = Json::array();
    for (const auto& d : disks) {
      if (!d.value("removable", false) && d.value("transport", std::string()) != "USB")
        out.push_back(d);
    }
    return out;
  }();
  if (internal.empty()) g.cap("reject", "no internal disk found");
  for (const auto& d : internal) {
    const std::string n = d.value("name", std::string("disk"));
    const long long size = num(d, "size_bytes", 0);
    if (size > 0 && size < p.disk_min_bytes)
      g.cap("C", fmt::format("{} is {} GB < {} GB", n, size / 1000000000,
                             p.disk_min_bytes / 1000000000));
    const Json s = d.value("smart", Json::object());
    if (!s.value("available", false)) {
      g.cap("B",
            n + " SMART unavailable" +
                (s.contains("error") ? " (" + s["error"].get<std::string>() + ")" : std::string()));
      continue;
    }
    if (s.contains("passed") && !s["passed"].get<bool>())
      g.cap("reject", n + " SMART overall health FAILED");
    const Json a = s.value("ata_attributes", Json::object());
    const long long realloc = num(a, "5", 0);
    if (realloc > p.reallocated_c_above) {
      g.cap("C", fmt::format("{} SMART reallocated sectors {}", n, realloc));
    } else if (realloc > p.reallocated_b_above) {
      g.cap("B", fmt::format("{} SMART reallocated sectors {}", n, realloc));
    }
    for (const char* id : {"187", "197", "198"}) {
      const long long v = num(a, id, 0);
      if (v > p.uncorrectable_c_above)
        g.cap("C", fmt::format("{} SMART attribute {} = {}", n, id, v));
    }
    if (s.contains("nvme")) {
      const Json& nv = s["nvme"];
      if (num(nv, "critical_warning", 0) != 0)
        g.cap("reject",
              fmt::format("{} NVMe critical warning 0x{:02x}", n, num(nv, "critical_warning", 0)));
      if (num(nv, "media_errors", 0) > p.uncorrectable_c_above)
        g.cap("C", fmt::format("{} NVMe media errors {}", n, num(nv, "media_errors", 0)));
      if (num(nv, "percentage_used", 0) > p.nvme_used_c_above_pct)
        g.cap("C",
              fmt::format("{} NVMe {}% of rated endurance used", n, num(nv, "percentage_used", 0)));
    }
  }
  if (tests.is_object() && tests.contains("smart_selftest") && tests["smart_selftest"].is_array()) {
    for (const auto& st : tests["smart_selftest"]) {
      if (st.value("result", std::string()) == "failed") {
        g.cap("reject", st.value("device", std::string("disk")) +
                            " SMART short self-test failed: " + st.value("detail", std::string()));
      }
    }
  }
  // CPU
  if (p.cpu_c_below_score > 0 && tests.is_object() && tests.contains("cpu")) {
    const double sc = tests["cpu"].value("single_score", 0.0);
    if (sc < p.cpu_c_below_score)
      g.cap("C", fmt::format("CPU single-thread score {:.0f} < {:.0f}", sc, p.cpu_c_below_score));
  }

  grade_checks(g, tests);

  // Windows 11 readiness
  Json w = Json::array();
  const Json cpu = inv.value("cpu", Json::object());
  if (!win11_cpu(cpu))
    w.push_back("CPU " + cpu.value("model", std::string("unknown")) +
                " is not on the Windows 11 list");
  const Json tpm = inv.value("tpm", Json::object());
  if (num(tpm, "version", 0) < 2) w.push_back("no TPM 2.0");
  const Json fw = inv.value("firmware", Json::object());
  if (fw.value("mode", std::string()) != "uefi") w.push_back("legacy BIOS boot (UEFI needed)");
  if (ram < 4096) w.push_back("less than 4 GiB RAM");
  long long biggest = 0;
  for (const auto& d : internal) biggest = std::max(biggest, num(d, "size_bytes", 0));
  if (biggest < 64'000'000'000LL) w.push_back("no disk of 64 GB or more");
  const bool ready = w.empty();

  std::string suitable;
  if (g.grade == "A") suitable = "school and office work, video calls";
  if (g.grade == "B") suitable = "everyday use: browsing, email, documents";
  if (g.grade == "C") suitable = "light use, or with a replaced part (see reasons)";
  if (g.grade == "reject") suitable = "not for giving out: parts or recycling";
  suitable += ready ? "; Windows 11 ready" : "; Linux (e.g. Debian) or Windows 10 with ESU";
  return {{"grade", g.grade},
          {"reasons", g.reasons},
          {"windows11", {{"ready", ready}, {"reasons", w}}},
          {"suitable_for", suitable}};
}

}  // namespace revive
