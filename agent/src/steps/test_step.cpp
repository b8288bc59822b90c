#include <algorithm>
#include <chrono>
#include <thread>

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

// SMART short self-tests of every disk that has SMART; waits watch the stop flag.
Json smart_selftests(const StepContext& ctx) {
  const Json& params = ctx.step.params;
  Json results = Json::array();
  for (const auto& d : ctx.inventory.value("disks", Json::array())) {
    if (!d.value("smart", Json::object()).value("available", false)) continue;
    ctx.progress("SMART short self-test of " + d["name"].get<std::string>(), 2, 3);
    results.push_back(smart_selftest(
        *ctx.opts.exec, d["name"], std::chrono::seconds(params.value("smart_selftest_s", 180)),
        [&](std::chrono::seconds s) {
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
  Json tests;
  ctx.progress("CPU test", 0, 3);
  tests["cpu"] = cpu_test(std::chrono::milliseconds(params.value("cpu_ms", ctx.opts.cpu_test_ms)),
                          std::max(1u, std::thread::hardware_concurrency()));
  ctx.progress("memory test", 1, 3);
  tests["memory"] =
      memory_test(memory_test_mib(ctx), std::chrono::milliseconds(params.value("memory_ms", 1000)));
  ctx.progress("disk read test", 2, 3);
  if (!ctx.opts.disk.empty()) {
    auto d = disk_read_test(ctx.opts.disk, params.value("disk_bytes", std::uint64_t{256} << 20),
                            std::chrono::milliseconds(params.value("disk_ms", 2000)));
    tests["disk_read"] = d ? *d : Json{{"error", d.error().message}};
  }
  if (params.value("smart_selftest", false)) tests["smart_selftest"] = smart_selftests(ctx);
  if (ctx.checks != nullptr && ctx.checks->is_object()) tests["checks"] = *ctx.checks;
  auto policy = params.contains("grading_policy") && params["grading_policy"].is_string()
                    ? parse_policy(params["grading_policy"].get<std::string>())
                    : parse_policy(default_policy_toml());
  if (!policy) return failed(policy.error().message, {{"tests", tests}});
  return succeeded({{"tests", tests}, {"grading", grade(ctx.inventory, tests, *policy)}});
}

}  // namespace revive::agent::steps
