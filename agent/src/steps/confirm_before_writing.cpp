#include <fmt/core.h>

#include "revive/agent/checks/input.hpp"
#include "revive/agent/screen/status_screen.hpp"
#include "revive/agent/write_countdown.hpp"
#include "step.hpp"

namespace revive::agent::steps {

namespace {

// A server asking for more than this is not asking for a countdown a person waits through.
constexpr int kLongestCountdownS = 3600;

std::string string_or_empty(const Json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// `name` as the countdown names it: with its model and size when the inventory saw it.
std::string describe(const Json& disks, const std::string& name) {
  for (const auto& d : disks) {
    if (!d.is_object() || d.value("name", Json()) != Json(name)) continue;
    std::optional<long long> size;
    if (auto it = d.find("size_bytes"); it != d.end() && it->is_number_integer())
      size = it->get<long long>();
    return drive_line(name, string_or_empty(d, "model"), size);
  }
  return drive_line(name, "", std::nullopt);
}

// The drives the step is about to write: the wipe job's list, else the disk a deploy (or a
// simulated laptop's wipe) writes.
std::vector<std::string> drives_written(const StepContext& ctx) {
  const Json disks = ctx.inventory.value("disks", Json::array());
  std::vector<std::string> out;
  if (ctx.step.kind == protocol::StepKind::wipe && !ctx.opts.simulate) {
    for (const auto& d : ctx.step.params.value("drives", Json::array())) {
      const std::string name = d.is_object() ? string_or_empty(d, "name") : std::string();
      if (!name.empty()) out.push_back(describe(disks, name));
    }
  } else if (!ctx.opts.disk.empty()) {
    out.push_back(describe(disks, ctx.opts.disk.filename().string()));
  }
  return out;
}

}  // namespace

std::optional<Outcome> confirm_before_writing(const StepContext& ctx) {
  const Json& params = ctx.step.params;
  auto it = params.find("confirm");
  if (it == params.end() || it->is_null()) return std::nullopt;
  // Fail closed: a countdown the server asked for and the agent cannot honour writes nothing.
  if (!it->is_object())
    return failed("the job's \"confirm\" is not an object; nothing was written");
  const auto given = it->find("countdown_s");
  if (given != it->end() && !given->is_number_integer())
    return failed("the job's countdown is not a whole number of seconds; nothing was written");
  const std::int64_t secs = given != it->end() ? given->get<std::int64_t>() : 30;
  if (secs < 1 || secs > kLongestCountdownS) {
    return failed(
        fmt::format("the job's countdown of {} s is not between 1 and {} s; nothing "
                    "was written",
                    secs, kLongestCountdownS));
  }
  checks::InputSource* input = ctx.opts.input;
  // A simulated laptop (demo, tests) has nobody in front of it, unless a test scripts one.
  if (ctx.opts.simulate && input == nullptr) {
    ctx.log(fmt::format("  countdown of {} s skipped: a simulated laptop has nobody at it", secs));
    return std::nullopt;
  }
  std::unique_ptr<checks::InputSource> keyboards;
  if (input == nullptr) {
    if (auto kb = checks::open_evdev_keyboards()) {
      keyboards = std::move(*kb);
      input = keyboards.get();
    } else {
      ctx.log("  countdown: " + kb.error().message);
    }
  }
  WriteNotice notice;
  notice.deploy = ctx.step.kind == protocol::StepKind::deploy;
  notice.workshop = string_or_empty(*it, "workshop");
  notice.batch = string_or_empty(*it, "batch");
  notice.drives = drives_written(ctx);
  // Said to the server too: the dashboard shows why nothing moves for a while.
  ctx.progress(fmt::format("countdown of {} s at the laptop before writing", secs), 0, 0);
  CountdownIo io;
  io.input = input;
  io.screen = ctx.opts.screen;
  io.words = ctx.opts.screen != nullptr ? &ctx.opts.screen->words() : nullptr;
  io.stop = ctx.opts.stop;
  io.log = [&ctx](const std::string& line) { ctx.log("  " + line); };
  switch (count_down_before_writing(io, notice, std::chrono::seconds(secs))) {
    case CountdownEnd::elapsed:
      return std::nullopt;
    case CountdownEnd::cancelled:
      return failed(
          "stopped by a person at the laptop during the countdown before the first write: "
          "nothing was written");
    case CountdownEnd::stopped:
      return failed("the agent stopped during the countdown: nothing was written");
  }
  return failed("the countdown ended in an unknown way: nothing was written");
}

}  // namespace revive::agent::steps
