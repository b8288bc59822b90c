#include "domain/deploy_gate.hpp"

namespace revive::server {

Result<std::optional<std::string>> deploy_blocked(const StepRow& step,
                                                  const std::vector<StepRow>& run_steps,
                                                  const NewestLaptopResult& newest_laptop_result) {
  if (step.kind != StepKind::deploy) return std::optional<std::string>();
  for (const auto& w : run_steps) {
    if (w.kind != StepKind::wipe) continue;
    auto result = newest_laptop_result(w.id);
    if (!result) return result.error();
    if (!*result || **result != "passed") {
      return std::optional<std::string>(
          "the deploy needs a passed erasure certificate from this run's wipe step first (the "
          "wipe was skipped or did not pass)");
    }
  }
  return std::optional<std::string>();
}

}  // namespace revive::server
