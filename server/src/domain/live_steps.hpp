#pragma once
// Running steps, in memory: progress reports are frequent and need no database write. A step's
// deadline is its last sign of life plus its kind's stall timeout; after a restart every
// running step starts a fresh one (the downtime was not the agent's fault).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "storage/rows.hpp"

namespace revive::server {

struct StallTimeouts {
  std::map<std::string, Seconds> per_kind;  ///< by step kind name
  Seconds fallback = 600;
  Seconds of(StepKind kind) const;
};

class LiveSteps {
 public:
  struct Live {
    std::int64_t device = 0;
    StepKind kind = StepKind::inventory;
    Seconds last_beat = 0;
    Json progress = Json::object();  ///< latest report as the agent sent it
  };

  /// Tracks a step from `now` (keeping its latest progress when it was tracked already).
  void track(std::int64_t step, std::int64_t device, StepKind kind, Seconds now);
  /// The step if it is running on this device.
  Live* find(std::int64_t step, std::int64_t device);
  void forget(std::int64_t step) { live_.erase(step); }
  void forget_device(std::int64_t device);
  /// Steps whose last sign of life is older than their stall timeout.
  std::vector<std::pair<std::int64_t, Live>> overdue(Seconds now,
                                                     const StallTimeouts& timeouts) const;
  /// The latest progress of a running step (an empty object when none).
  Json progress(std::int64_t step) const;

 private:
  std::map<std::int64_t, Live> live_;
};

}  // namespace revive::server
