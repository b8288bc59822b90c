#pragma once
// Turns inventory + test results into a grade a workshop can act on (A, B, C or reject),
// every reason spelled out, a Windows 11 readiness verdict and a "suitable for" hint. The
// thresholds are a TOML policy (served by the server, editable per workshop); the default is
// documented in the README. In core because the agent grades with it and the server previews
// an edited policy with the same rules.

#include <nlohmann/json_fwd.hpp>

#include <array>
#include <string>
#include <string_view>

#include "revive/error.hpp"

namespace revive {

using Json = nlohmann::json;

/// Every grade grade() gives, best first (the pages filter and count by these).
inline constexpr std::array<std::string_view, 4> kGrades = {"A", "B", "C", "reject"};

struct GradingPolicy {
  double battery_b_below_pct = 80;  ///< health below this: at most B
  double battery_c_below_pct = 60;  ///< below this: at most C
  bool no_battery_is_b = true;
  long long ram_b_below_mib = 8192;
  long long ram_c_below_mib = 4096;
  long long ram_reject_below_mib = 2048;
  long long reallocated_b_above = 0;  ///< ATA 5 / 196-ish raw
  long long reallocated_c_above = 50;
  long long uncorrectable_c_above = 0;  ///< ATA 187/197/198, NVMe media errors
  long long nvme_used_c_above_pct = 90;
  long long disk_min_bytes = 100'000'000'000LL;  ///< smaller: at most C
  double cpu_c_below_score = 0;  ///< single-thread score below this: at most C (0 = off)
};

/// The default policy as TOML text (what `revivectl policy` shows and the README documents).
std::string default_policy_toml();

/// Parses a policy; unknown keys, wrong types and values out of range (a percentage outside
/// 0-100, a negative count, a C threshold milder than the B one) are invalid_input naming the
/// key. Shared by the agent (grading) and the server (the settings page's check and preview).
Result<GradingPolicy> parse_policy(const std::string& toml_text);

/// {grade, reasons[], reason_codes[], windows11: {ready, reasons[], reason_codes[]},
/// suitable_for}: reasons in English, reason_codes the same for other languages
/// (revive/grading_reasons.hpp).
Json grade(const Json& inventory, const Json& tests, const GradingPolicy& policy);

}  // namespace revive
