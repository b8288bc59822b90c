#include "revive/grading.hpp"
#include "revive/grading_reasons.hpp"

#include <fmt/core.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
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
nvme_used_c_above_pct = 90   # NVMe percentage used; an eMMC's life used (in tenths)
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

constexpr ReasonWording kWordings[] = {
    {"no_battery", "no battery found"},
    {"battery_health_unknown", "{name} health unknown (no design capacity reported)"},
    {"battery_worn", "{name} {pct}% of design < {limit}%"},
    {"ram_small", "RAM {mib} MiB < {limit} MiB"},
    {"memory_errors", "memory pattern test found {errors} errors"},
    {"no_internal_disk", "no internal disk found"},
    {"disk_small", "{name} is {gb} GB < {limit} GB"},
    {"smart_unavailable", "{name} SMART unavailable"},
    {"smart_unavailable_why", "{name} SMART unavailable ({why})"},
    {"smart_failed", "{name} SMART overall health FAILED"},
    {"smart_reallocated", "{name} SMART reallocated sectors {count}"},
    {"smart_attribute", "{name} SMART attribute {id} = {value}"},
    {"nvme_critical_warning", "{name} NVMe critical warning {warning}"},
    {"nvme_media_errors", "{name} NVMe media errors {count}"},
    {"nvme_endurance_used", "{name} NVMe {pct}% of rated endurance used"},
    {"emmc_life_used", "{name} eMMC {low}-{high}% of rated life used"},
    {"emmc_past_life", "{name} eMMC past its rated life"},
    {"emmc_reserve_warning", "{name} eMMC spare blocks 80% used"},
    {"emmc_reserve_urgent", "{name} eMMC spare blocks nearly used up"},
    {"smart_selftest_failed", "{name} SMART short self-test failed: {detail}"},
    {"cpu_slow", "CPU single-thread score {score} < {limit}"},
    {"part_not_checked", "not checked: {part} ({why})"},
    {"keys_not_working", "keys not working: {keys}"},
    {"speakers_not_heard", "speakers not heard: {channels}"},
    {"part_failed", "{part}: {why}"},
    {"part_not_found", "no {part} found"},
    {"w11_cpu", "CPU {model} is not on the Windows 11 list"},
    {"w11_no_tpm", "no TPM 2.0"},
    {"w11_legacy_boot", "legacy BIOS boot (UEFI needed)"},
    {"w11_ram", "less than 4 GiB RAM"},
    {"w11_disk", "no disk of 64 GB or more"},
};

constexpr ReasonWording kSuitable[] = {
    {"A", "school and office work, video calls"},
    {"B", "everyday use: browsing, email, documents"},
    {"C", "light use, or with a replaced part (see reasons)"},
    {"reject", "not for giving out: parts or recycling"},
    {"windows11", "{use}; Windows 11 ready"},
    {"linux", "{use}; Linux (e.g. Debian) or Windows 10 with ESU"},
};

// The English sentence of a grading reason (grading_reasons.hpp).
std::string english(std::string_view code, const Json& vars) {
  return worded(kWordings, code, vars);
}

long long whole(double v) { return std::llround(v); }

// Each reason twice: the English sentence and its code with the values (grading_reasons.hpp).
struct Reasons {
  Json sentences = Json::array();
  Json codes = Json::array();
  void add(std::string_view code, Json vars, const std::string& at_most = {}) {
    std::string sentence = english(code, vars);
    Json coded = {{"code", code}, {"vars", std::move(vars)}};
    if (!at_most.empty()) {
      sentence = (at_most == "reject" ? "reject: " : "at most " + at_most + ": ") + sentence;
      coded["at_most"] = at_most;
    }
    sentences.push_back(std::move(sentence));
    codes.push_back(std::move(coded));
  }
};

struct Grader {
  std::string grade = "A";
  Reasons reasons;
  void cap(const std::string& at_most, std::string_view code, Json vars = Json::object()) {
    reasons.add(code, std::move(vars), at_most);
    if (rank(at_most) > rank(grade)) grade = at_most;
  }
  // A fact for the reader that caps nothing (a check nobody answered is not a fault).
  void note(std::string_view code, Json vars) { reasons.add(code, std::move(vars)); }
};

std::string joined(const Json& list) {
  std::string out;
  for (const auto& v : list) {
    if (!v.is_string()) continue;
    out += (out.empty() ? "" : ", ") + v.get<std::string>();
  }
  return out;
}

// A check's part and its own reason: the English `why`, and where the agent sent one, the
// reason's code and values (`why_code`, `why_vars`: a page words it as ui.check_reason.<code>).
Json why_vars(const std::string& part, const Json& result, const char* fallback) {
  Json vars = {{"part", part}, {"why", result.value("reason", std::string(fallback))}};
  const auto code = result.find("reason_code");
  if (code == result.end() || !code->is_string()) return vars;
  vars["why_code"] = *code;
  const auto values = result.find("reason_vars");
  vars["why_vars"] = values != result.end() && values->is_object() ? *values : Json::object();
  return vars;
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
      g.note("part_not_checked", why_vars(name, r, "no answer"));
    } else if (status == "failed" && name == "keyboard") {
      g.cap("C", "keys_not_working", {{"keys", joined(r.value("missing", Json::array()))}});
    } else if (status == "failed" && name == "speakers") {
      g.cap("C", "speakers_not_heard", {{"channels", joined(r.value("not_heard", Json::array()))}});
    } else if (status == "failed") {
      g.cap("C", "part_failed", why_vars(name, r, "failed the check"));
    } else if (status == "not_found") {
      g.cap("B", "part_not_found", {{"part", name}});
    }
  }
}

long long num(const Json& j, const char* key, long long fallback = -1) {
  return j.is_object() && j.contains(key) && j[key].is_number() ? j[key].get<long long>()
                                                                : fallback;
}

// An eMMC's own wear estimates, in place of the SMART that does not reach one (emmc_health,
// agent/src/inventory.cpp): life used in tenths (11: past its rated life) against the same
// limit as an NVMe's percentage used, and the reserve of spare blocks. False when it gave none.
bool grade_emmc(Grader& g, const std::string& n, const Json& health, const GradingPolicy& p) {
  const long long tenths = std::max(num(health, "life_time_a", 0), num(health, "life_time_b", 0));
  const long long reserve = num(health, "pre_eol", 0);
  if (tenths >= 11) {
    g.cap("reject", "emmc_past_life", {{"name", n}});
  } else if (tenths >= 1 && (tenths - 1) * 10 >= p.nvme_used_c_above_pct) {
    g.cap("C", "emmc_life_used", {{"name", n}, {"low", (tenths - 1) * 10}, {"high", tenths * 10}});
  }
  if (reserve >= 3) {
    g.cap("reject", "emmc_reserve_urgent", {{"name", n}});
  } else if (reserve == 2) {
    g.cap("C", "emmc_reserve_warning", {{"name", n}});
  }
  return tenths > 0 || reserve > 0;
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
    if (p.no_battery_is_b) g.cap("B", "no_battery");
  }
  for (const auto& b : bats) {
    if (!b.is_object()) continue;
    const std::string name = b.value("name", std::string("battery"));
    // find(), not a const operator[]: a battery reported without the key is not read past the
    // end of the object (the server grades inventories it was sent, in its policy preview).
    const auto health = b.find("health_pct");
    if (health == b.end() || !health->is_number()) {
      g.cap("B", "battery_health_unknown", {{"name", name}});
      continue;
    }
    const double h = health->get<double>();
    const auto worn = [&](double limit) {
      return Json{{"name", name}, {"pct", whole(h)}, {"limit", whole(limit)}};
    };
    if (h < p.battery_c_below_pct) {
      g.cap("C", "battery_worn", worn(p.battery_c_below_pct));
    } else if (h < p.battery_b_below_pct) {
      g.cap("B", "battery_worn", worn(p.battery_b_below_pct));
    }
  }
  // Memory
  long long ram = num(inv.value("memory", Json::object()), "installed_mib", 0);
  if (ram <= 0) ram = num(inv.value("memory", Json::object()), "total_mib", 0);
  const auto ram_below = [&](long long limit) { return Json{{"mib", ram}, {"limit", limit}}; };
  if (ram < p.ram_reject_below_mib) {
    g.cap("reject", "ram_small", ram_below(p.ram_reject_below_mib));
  } else if (ram < p.ram_c_below_mib) {
    g.cap("C", "ram_small", ram_below(p.ram_c_below_mib));
  } else if (ram < p.ram_b_below_mib) {
    g.cap("B", "ram_small", ram_below(p.ram_b_below_mib));
  }
  if (tests.is_object() && tests.contains("memory") && num(tests["memory"], "errors", 0) > 0) {
    g.cap("reject", "memory_errors", {{"errors", num(tests["memory"], "errors", 0)}});
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
  if (internal.empty()) g.cap("reject", "no_internal_disk");
  for (const auto& d : internal) {
    const std::string n = d.value("name", std::string("disk"));
    const long long size = num(d, "size_bytes", 0);
    if (size > 0 && size < p.disk_min_bytes)
      g.cap("C", "disk_small",
            {{"name", n}, {"gb", size / 1000000000}, {"limit", p.disk_min_bytes / 1000000000}});
    const Json s = d.value("smart", Json::object());
    if (!s.value("available", false)) {
      if (grade_emmc(g, n, d.value("emmc_health", Json::object()), p)) continue;
      if (s.contains("error") && s["error"].is_string())
        g.cap("B", "smart_unavailable_why", {{"name", n}, {"why", s["error"]}});
      else
        g.cap("B", "smart_unavailable", {{"name", n}});
      continue;
    }
    if (s.contains("passed") && !s["passed"].get<bool>())
      g.cap("reject", "smart_failed", {{"name", n}});
    const Json a = s.value("ata_attributes", Json::object());
    const long long realloc = num(a, "5", 0);
    const Json reallocated = {{"name", n}, {"count", realloc}};
    if (realloc > p.reallocated_c_above) {
      g.cap("C", "smart_reallocated", reallocated);
    } else if (realloc > p.reallocated_b_above) {
      g.cap("B", "smart_reallocated", reallocated);
    }
    for (const char* id : {"187", "197", "198"}) {
      const long long v = num(a, id, 0);
      if (v > p.uncorrectable_c_above)
        g.cap("C", "smart_attribute", {{"name", n}, {"id", id}, {"value", v}});
    }
    if (s.contains("nvme")) {
      const Json& nv = s["nvme"];
      if (num(nv, "critical_warning", 0) != 0)
        g.cap("reject", "nvme_critical_warning",
              {{"name", n}, {"warning", fmt::format("0x{:02x}", num(nv, "critical_warning", 0))}});
      if (num(nv, "media_errors", 0) > p.uncorrectable_c_above)
        g.cap("C", "nvme_media_errors", {{"name", n}, {"count", num(nv, "media_errors", 0)}});
      if (num(nv, "percentage_used", 0) > p.nvme_used_c_above_pct)
        g.cap("C", "nvme_endurance_used", {{"name", n}, {"pct", num(nv, "percentage_used", 0)}});
    }
  }
  if (tests.is_object() && tests.contains("smart_selftest") && tests["smart_selftest"].is_array()) {
    for (const auto& st : tests["smart_selftest"]) {
      if (st.value("result", std::string()) == "failed") {
        g.cap("reject", "smart_selftest_failed",
              {{"name", st.value("device", std::string("disk"))},
               {"detail", st.value("detail", std::string())}});
      }
    }
  }
  // CPU
  if (p.cpu_c_below_score > 0 && tests.is_object() && tests.contains("cpu")) {
    const double sc = tests["cpu"].value("single_score", 0.0);
    if (sc < p.cpu_c_below_score)
      g.cap("C", "cpu_slow", {{"score", whole(sc)}, {"limit", whole(p.cpu_c_below_score)}});
  }

  grade_checks(g, tests);

  // Windows 11 readiness
  Reasons w;
  const Json cpu = inv.value("cpu", Json::object());
  if (!win11_cpu(cpu)) w.add("w11_cpu", {{"model", cpu.value("model", std::string("unknown"))}});
  const Json tpm = inv.value("tpm", Json::object());
  if (num(tpm, "version", 0) < 2) w.add("w11_no_tpm", Json::object());
  const Json fw = inv.value("firmware", Json::object());
  if (fw.value("mode", std::string()) != "uefi") w.add("w11_legacy_boot", Json::object());
  if (ram < 4096) w.add("w11_ram", Json::object());
  long long biggest = 0;
  for (const auto& d : internal) biggest = std::max(biggest, num(d, "size_bytes", 0));
  if (biggest < 64'000'000'000LL) w.add("w11_disk", Json::object());
  const bool ready = w.sentences.empty();

  const std::string suitable = worded(kSuitable, ready ? "windows11" : "linux",
                                      {{"use", worded(kSuitable, g.grade, Json::object())}});
  return {{"grade", g.grade},
          {"reasons", g.reasons.sentences},
          {"reason_codes", g.reasons.codes},
          {"windows11", {{"ready", ready}, {"reasons", w.sentences}, {"reason_codes", w.codes}}},
          {"suitable_for", suitable}};
}

std::string worded(std::span<const ReasonWording> table, std::string_view code, const Json& vars) {
  const auto w = std::find_if(table.begin(), table.end(),
                              [&](const ReasonWording& r) { return r.code == code; });
  const std::string_view text = w == table.end() ? code : w->english;
  std::string out;
  for (std::size_t at = 0; at < text.size();) {
    const auto open = text.find('{', at);
    const auto close = open == std::string_view::npos ? open : text.find('}', open);
    if (close == std::string_view::npos) {
      out += text.substr(at);
      break;
    }
    out += text.substr(at, open - at);
    const auto value = vars.find(std::string(text.substr(open + 1, close - open - 1)));
    if (value == vars.end())
      out += text.substr(open, close - open + 1);
    else
      out += value->is_string() ? value->get<std::string>() : value->dump();
    at = close + 1;
  }
  return out;
}

std::span<const ReasonWording> reason_wordings() { return kWordings; }
std::span<const ReasonWording> suitable_wordings() { return kSuitable; }

}  // namespace revive
