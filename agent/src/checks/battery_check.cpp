// The battery under load: the charge it loses while every core is busy, as watts, and how long
// a full charge lasts at that drain. Only on battery power (a charger online feeds the load).

#include <fmt/core.h>

#include <atomic>
#include <cmath>
#include <thread>
#include <vector>

#include "revive/agent/checks/checks.hpp"
#include "revive/agent/power.hpp"

namespace revive::agent::checks {

namespace {

using Clock = InputSource::Clock;

Json not_checked(const std::string& why) { return {{"status", "not_checked"}, {"reason", why}}; }

// Every core busy until `how_long` has passed or the stop flag is set.
void burn_every_core(std::chrono::seconds how_long, const std::atomic<bool>* stop) {
  const auto end = Clock::now() + how_long;
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < cores; ++i) {
    threads.emplace_back([end, stop] {
      volatile double x = 1.0;
      while (Clock::now() < end && (stop == nullptr || !stop->load())) {
        for (int k = 0; k < 100000; ++k) x = std::sqrt(x + k);
      }
    });
  }
  for (auto& t : threads) t.join();
}

}  // namespace

Json battery_check(const CheckIo& io, seconds duration, double min_runtime_min) {
  const PowerState before = read_power(*io.root);
  if (!before.has_battery) return not_checked("the laptop has no battery");
  if (before.on_charger) return not_checked("on the charger: unplug it to measure the battery");
  if (!before.energy_wh || !before.full_wh || *before.full_wh <= 0)
    return not_checked("the battery does not report its charge");
  const auto now = [&] { return io.input != nullptr ? io.input->now() : Clock::now(); };
  const auto started = now();
  if (io.cpu_load) {
    io.cpu_load(duration);
  } else {
    burn_every_core(duration, io.stop);
  }
  const double hours = std::chrono::duration<double>(now() - started).count() / 3600;
  const PowerState after = read_power(*io.root);
  if (after.on_charger) return not_checked("the charger was plugged in during the measurement");
  if (!after.energy_wh || hours <= 0)
    return not_checked("the battery stopped reporting its charge");
  const double lost = *before.energy_wh - *after.energy_wh;
  if (lost <= 0) {
    return not_checked(fmt::format(
        "the charge did not drop in {} s (the firmware updates it rarely): measure for longer",
        duration.count()));
  }
  const double drain_w = lost / hours;
  const double full_min = *before.full_wh / drain_w * 60;
  Json r = {{"drain_w", std::round(drain_w * 10) / 10},
            {"runtime_full_min", std::lround(full_min)},
            {"remaining_min", std::lround(*after.energy_wh / drain_w * 60)},
            {"seconds", std::lround(hours * 3600)},
            {"full_wh", std::round(*before.full_wh * 10) / 10}};
  if (full_min >= min_runtime_min) {
    r["status"] = "passed";
  } else {
    r["status"] = "failed";
    r["reason"] = fmt::format("a full charge lasts {:.0f} min under load ({:.0f} W), {:.0f} wanted",
                              full_min, drain_w, min_runtime_min);
  }
  return r;
}

}  // namespace revive::agent::checks
