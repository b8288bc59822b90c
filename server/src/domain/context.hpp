#pragma once
// What every domain service shares: the storage, the clock, and where committed changes are
// announced (the HTTP layer wakes long-polls and feeds dashboards from these).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "revive/error.hpp"
#include "storage/storage.hpp"

namespace revive::server {

using Clock = std::function<Seconds()>;

/// Runs `work` on the blocking-work pool, then `done` back on the io thread. `work` must not
/// touch the storage (the io thread owns it).
using RunBlocking = std::function<void(std::function<void()> work, std::function<void()> done)>;

struct ChangeSink {
  /// A device's state changed (after the commit): dashboards and long-polls look again.
  std::function<void(std::int64_t device)> device_changed;
  /// A running step reported progress (kept in memory only).
  std::function<void(std::int64_t device, std::int64_t step, const Json& progress)> step_progress;
};

class DomainContext {
 public:
  DomainContext(Storage& storage, Clock clock) : storage_(storage), clock_(std::move(clock)) {}

  Storage& storage() { return storage_; }
  Seconds now() const { return clock_(); }
  ChangeSink& changes() { return changes_; }

  /// Announces a committed change of the device.
  void device_changed(std::int64_t device) const {
    if (changes_.device_changed) changes_.device_changed(device);
  }
  /// Appends to the event log (inside the caller's unit of work); io on a storage failure.
  Result<std::int64_t> log(std::optional<std::int64_t> device, const std::string& kind,
                           const Json& data) {
    return storage_.events().append(EventRow{0, now(), device, kind, data});
  }

 private:
  Storage& storage_;
  Clock clock_;
  ChangeSink changes_;
};

/// Assigns a Result's value to `var` or returns its error (domain and API code). `var` is a
/// name being declared, which parentheses would break.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define REVIVE_ASSIGN(var, expr)        \
  auto var##_r = (expr);                \
  if (!var##_r) return var##_r.error(); \
  auto& var = *var##_r
// NOLINTEND(bugprone-macro-parentheses)

}  // namespace revive::server
