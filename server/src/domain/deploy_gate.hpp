#pragma once
// The deploy gate, fail closed: no deploy step is handed out in a run that has a wipe step
// until that wipe step has left a passed laptop certificate. A skipped or failed wipe, or a
// certificate a second volunteer disputed later (the newest one counts), blocks the deploy.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "revive/error.hpp"
#include "storage/rows.hpp"

namespace revive::server {

/// The result ("passed", "failed", ...) of the newest laptop certificate a step produced, or
/// nullopt when it produced none.
using NewestLaptopResult = std::function<Result<std::optional<std::string>>(std::int64_t step)>;

/// Why `step` may not start yet, or nullopt when it may. Only deploy steps are gated. Errors
/// from the certificate lookup are returned as they are.
Result<std::optional<std::string>> deploy_blocked(const StepRow& step,
                                                  const std::vector<StepRow>& run_steps,
                                                  const NewestLaptopResult& newest_laptop_result);

}  // namespace revive::server
