#include <fmt/core.h>

#include <algorithm>

#include "revive/agent/disk_safety.hpp"
#include "revive/agent/screen/status_screen.hpp"
#include "step.hpp"

namespace revive::agent::steps {

void StepContext::progress(const std::string& stage, double done, double total) const {
  (void)progress(stage, done, total, std::nullopt);
}

std::optional<protocol::ProgressAck> StepContext::progress(
    const std::string& stage, double done, double total,
    std::optional<protocol::DeployProgress> deploy) const {
  protocol::ProgressReport report;
  report.step = step.id;
  report.progress.stage = stage;
  if (total > 0) {
    report.progress.bytes_done = done;
    report.progress.bytes_total = total;
  }
  report.progress.deploy = std::move(deploy);
  auto ack = server.progress(report);
  if (opts.screen != nullptr) opts.screen->progress(stage, done, total);
  // The plain log's bar (the serial console; the laptop's own screen draws its own).
  std::string bar;
  if (total > 0) {
    const auto fill = static_cast<std::size_t>(std::clamp(20 * done / total, 0.0, 20.0));
    bar += '[';
    bar.append(fill, '#');
    bar.append(20 - fill, '.');
    bar += "] ";
  }
  log(fmt::format("  {} {}{}", protocol::to_string(step.kind), bar, stage));
  if (!ack) return std::nullopt;
  return std::move(*ack);
}

std::optional<std::string> StepContext::external(const std::filesystem::path& disk) const {
  if (opts.simulate) return std::nullopt;
  if (opts.system == nullptr) {
    return "cannot tell whether " + disk.string() +
           " is the laptop's own drive (no system root): nothing was written";
  }
  // /dev/disk/by-id/... links and the like: the kernel's name decides.
  std::error_code ec;
  const std::filesystem::path real = std::filesystem::weakly_canonical(disk, ec);
  const std::filesystem::path& path = ec ? disk : real;
  if (path.parent_path() != "/dev")
    return disk.string() + " is not a block device in /dev: nothing was written";
  if (auto why = external_drive(*opts.system, path.filename().string()))
    return *why + "; nothing was written";
  return std::nullopt;
}

void StepContext::log(const std::string& line) const {
  if (opts.log) opts.log(line);
}

bool StepContext::stopped() const { return opts.stop != nullptr && opts.stop->load(); }

}  // namespace revive::agent::steps
