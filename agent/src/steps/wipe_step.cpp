#include <fmt/core.h>

#include <chrono>
#include <vector>

#include "revive/agent/power.hpp"
#include "revive/agent/wipe_drive.hpp"
#include "revive/parallel.hpp"
#include "step.hpp"

namespace revive::agent::steps {

namespace {

// The drive as the inventory saw it (model, SMART before), or {} when it did not.
Json inventory_disk(const Json& disks, const std::string& name) {
  for (const auto& d : disks) {
    if (d.value("name", Json()) == Json(name)) return d;
  }
  return Json::object();
}

// What to wipe. In simulation: the file or loop device standing in for the laptop's first
// disk. Otherwise, failing closed: exactly the drives the server's job names, each by serial.
Result<std::vector<DriveWipeRequest>> wipe_targets(const StepContext& ctx) {
  const Json disks = ctx.inventory.value("disks", Json::array());
  std::vector<DriveWipeRequest> targets;
  if (ctx.opts.simulate) {
    if (ctx.opts.disk.empty()) return make_error(Errc::invalid_input, "no disk to wipe");
    DriveWipeRequest r;
    r.device = ctx.opts.disk;
    r.simulate = true;
    r.inventory_disk = disks.empty() ? Json::object() : disks[0];
    targets.push_back(r);
    return targets;
  }
  const Json drives = ctx.step.params.value("drives", Json::array());
  if (!drives.is_array() || drives.empty()) {
    return make_error(Errc::invalid_input,
                      "the server's wipe job names no drives (by name and serial); nothing was "
                      "written");
  }
  for (const auto& d : drives) {
    const std::string name = d.value("name", std::string());
    if (name.empty() || name.find('/') != std::string::npos ||
        name.find("..") != std::string::npos) {
      return make_error(Errc::invalid_input,
                        "the server's wipe job names a drive without a valid name; nothing was "
                        "written");
    }
    if (auto why = ctx.external("/dev/" + name)) return make_error(Errc::invalid_input, *why);
    DriveWipeRequest r;
    r.device = "/dev/" + name;
    r.expected_serial = d.value("serial", std::string());
    r.inventory_disk = inventory_disk(disks, name);
    targets.push_back(r);
  }
  return targets;
}

void log_evidence(const StepContext& ctx, const DriveWipeRequest& t, const Json& ev) {
  const std::string reason = ev["reason"].get<std::string>();
  ctx.log(fmt::format(
      "  {}: {} ({}), verification {} ({} samples, {:.1f}%): {}{}", t.device.string(),
      ev["method"].get<std::string>(), ev["nist_level"].get<std::string>(),
      ev["verification"]["method"].get<std::string>(),
      ev["verification"]["samples"].get<std::uint64_t>(),
      static_cast<double>(ev["verification"]["coverage_permille"].get<std::uint64_t>()) / 10.0,
      ev["result"].get<std::string>(), reason.empty() ? "" : " - " + reason));
}

}  // namespace

// The wipe step: every target with the strongest method it supports; the evidence goes back
// to the server, which issues the certificates. The agent never decides what they say.
std::optional<Outcome> battery_too_low_to_wipe(const StepContext& ctx) {
  if (ctx.opts.root == nullptr) return std::nullopt;
  const auto min_pct = ctx.step.params.find("min_battery_pct");
  double min = 25;
  if (min_pct != ctx.step.params.end()) {
    if (!min_pct->is_number()) return failed("the job's min_battery_pct is not a number");
    min = min_pct->get<double>();
  }
  const auto why = low_battery_refusal(read_power(*ctx.opts.root), min);
  if (!why) return std::nullopt;
  return failed(*why + "; nothing was written");
}

Outcome run_wipe_step(const StepContext& ctx) {
  const Json& params = ctx.step.params;
  const std::string pattern = params.value("pattern", std::string("zeros"));
  if (pattern != "zeros" && pattern != "prng")
    return failed("wipe pattern must be \"zeros\" or \"prng\"");
  auto targets = wipe_targets(ctx);
  if (!targets) return failed(targets.error().message);
  DriveWipeDeps deps;
  deps.system = ctx.opts.system;
  deps.exec = ctx.opts.simulate ? nullptr : ctx.opts.exec;
  Json evidence = Json::array();
  std::string failure;
  for (auto& t : *targets) {
    t.random_pattern = pattern == "prng";
    t.full_verify = params.value("full_verify", false);
    t.stop = ctx.opts.stop;
    t.progress = [&, gate = detail::RateGate(std::chrono::seconds(1))](
                     std::string_view stage, std::uint64_t done, std::uint64_t total) mutable {
      if (gate.due(done >= total))
        ctx.progress(t.device.filename().string() + ": " + std::string(stage),
                     static_cast<double>(done), static_cast<double>(total));
    };
    Json ev = wipe_drive(t, deps);
    log_evidence(ctx, t, ev);
    if (ev["result"] != "passed" && failure.empty()) {
      failure = "wipe of " + t.device.string() + " " + ev["result"].get<std::string>() + ": " +
                ev["reason"].get<std::string>();
    }
    evidence.push_back(std::move(ev));
    if (ctx.stopped()) break;
  }
  return {failure.empty(), {{"drives", evidence}}, failure};
}

}  // namespace revive::agent::steps
