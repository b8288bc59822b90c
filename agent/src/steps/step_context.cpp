#include <fmt/core.h>

#include <algorithm>

#include "step.hpp"

namespace revive::agent::steps {

void StepContext::progress(const std::string& stage, double done, double total) const {
  protocol::ProgressReport report;
  report.step = step.id;
  report.progress.stage = stage;
  if (total > 0) {
    report.progress.bytes_done = done;
    report.progress.bytes_total = total;
  }
  (void)server.progress(report);
  // A bar the volunteer can read from across the room.
  std::string bar;
  if (total > 0) {
    const auto fill = static_cast<std::size_t>(std::clamp(20 * done / total, 0.0, 20.0));
    bar += '[';
    bar.append(fill, '#');
    bar.append(20 - fill, '.');
    bar += "] ";
  }
  log(fmt::format("  {} {}{}", protocol::to_string(step.kind), bar, stage));
}

void StepContext::log(const std::string& line) const {
  if (opts.log) opts.log(line);
}

bool StepContext::stopped() const { return opts.stop != nullptr && opts.stop->load(); }

}  // namespace revive::agent::steps
