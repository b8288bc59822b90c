#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "revive/agent/hwtests.hpp"
#include "revive/agent/inventory.hpp"
#include "revive/grading.hpp"
#include "step.hpp"

namespace revive::agent::steps {

namespace {

// Never enough to get the agent killed: the memory test holds two buffers of the size
// returned, together at most 5% of what the machine has available.
std::size_t memory_test_mib(const StepContext& ctx) {
  std::size_t mib = ctx.step.params.value("memory_mib", ctx.opts.memory_test_mib);
  const long long avail_kib = meminfo_kib(*ctx.opts.root, "MemAvailable");
  if (avail_kib > 0)
    mib = std::min<std::size_t>(mib, static_cast<std::size_t>(avail_kib / 1024 / 40));
  return std::max<std::size_t>(mib, 1);
}

// The test step's progress in planned milliseconds: each phase counts for its time budget, so
// the bar moves through the CPU test's two phases (most of the step) instead of sitting at
// zero through them. A phase that ends early (the memory test's passes) makes the bar jump.
class PlannedProgress {
 public:
  using Ms = std::chrono::duration<double, std::milli>;
  PlannedProgress(const StepContext& ctx, Ms total) : ctx_(ctx), total_(total) {}
  void start(const std::string& stage, Ms budget) {
    ctx_.progress(stage, done_.count(), total_.count());
    done_ += budget;
  }

 private:
  const StepContext& ctx_;
  Ms total_;
  Ms done_{0};
};

std::vector<std::string> smart_disks(const StepContext& ctx) {
  std::vector<std::string> names;
  for (const auto& d : ctx.inventory.value("disks", Json::array())) {
    if (d.value("smart", Json::object()).value("available", false))
      names.push_back(d["name"].get<std::string>());
  }
  return names;
}

// SMART short self-tests of the disks that have SMART; waits watch the stop flag.
Json smart_selftests(const StepContext& ctx, const std::vector<std::string>& disks,
                     std::chrono::seconds budget, PlannedProgress& progress) {
  Json results = Json::array();
  for (const auto& name : disks) {
    progress.start("SMART short self-test of " + name, budget);
    results.push_back(smart_selftest(*ctx.opts.exec, name, budget, [&](std::chrono::seconds s) {
      for (int i = 0; i < s.count() * 10 && !ctx.stopped(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }));
  }
  return results;
}

}  // namespace

// The test step: CPU, memory and disk read figures (and SMART self-tests on request), then
// the grade under the workshop's policy (or the built-in one).
Outcome run_test_step(const StepContext& ctx) {
  const Json& params = ctx.step.params;
  const std::chrono::milliseconds cpu_ms(params.value("cpu_ms", ctx.opts.cpu_test_ms));
  const std::chrono::milliseconds memory_ms(params.value("memory_ms", 1000));
  const std::chrono::milliseconds disk_ms(ctx.opts.disk.empty() ? 0
                                                                : params.value("disk_ms", 2000));
  const std::vector<std::string> smart =
      params.value("smart_selftest", false) ? smart_disks(ctx) : std::vector<std::string>{};
  const std::chrono::seconds smart_s(params.value("smart_selftest_s", 180));
  PlannedProgress progress(
      ctx, 2 * cpu_ms + memory_ms + disk_ms + smart_s * static_cast<std::int64_t>(smart.size()));

  Json tests;
  progress.start("CPU test, one core", cpu_ms);
  tests["cpu"] = cpu_test(cpu_ms, std::max(1u, std::thread::hardware_concurrency()),
                          [&] { progress.start("CPU test, all cores", cpu_ms); });
  progress.start("memory test", memory_ms);
  tests["memory"] = memory_test(memory_test_mib(ctx), memory_ms);
  if (!ctx.opts.disk.empty()) {
    progress.start("disk read test", disk_ms);
    auto d = disk_read_test(ctx.opts.disk, params.value("disk_bytes", std::uint64_t{256} << 20),
                            disk_ms);
    tests["disk_read"] = d ? *d : Json{{"error", d.error().message}};
  }
  if (!smart.empty()) tests["smart_selftest"] = smart_selftests(ctx, smart, smart_s, progress);
  if (ctx.checks != nullptr && ctx.checks->is_object()) tests["checks"] = *ctx.checks;
  auto policy = params.contains("grading_policy") && params["grading_policy"].is_string()
                    ? parse_policy(params["grading_policy"].get<std::string>())
                    : parse_policy(default_policy_toml());
  if (!policy) return failed(policy.error().message, {{"tests", tests}});
  return succeeded({{"tests", tests}, {"grading", grade(ctx.inventory, tests, *policy)}});
}

}  // namespace revive::agent::steps
