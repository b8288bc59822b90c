#pragma once
// What the scheduler remembers about one deploying laptop between events. Internal to
// revive_sched (public only so the Scheduler can hold it by value and tests can reach it).

#include <algorithm>
#include <optional>
#include <string>

#include "revive/sched/chunk_ranges.hpp"
#include "revive/sched/config.hpp"

namespace revive::sched::detail {

struct Laptop {
  LaptopId id = 0;
  std::string image;
  ImageShape shape;
  bool can_relay = false;

  ChunkRanges held;
  Seconds held_at = 0;  ///< when `held` was reported
  std::uint64_t bytes_received = 0;
  Seconds joined_at = 0;
  Seconds last_progress_at = 0;  ///< held or bytes grew, or its source changed (a fresh start)
  /// The agent has been told its current source: the answer to each of its reports carries
  /// the assignment as planned after that report, so a change made on another laptop's event
  /// reaches it only with its next answer.
  bool source_told = false;
  /// Its reports measured wholly on its current source, and whether the plan ever moved it
  /// since it joined: the first interval after a move can still hold a request that waited on
  /// the old source, so only a settled laptop's rate is believed from one report.
  int told_reports = 0;
  bool moved = false;
  bool settled() const { return !moved || told_reports >= 2; }

  BytesPerSecond link = 0;             ///< stored bytes/s its port takes (estimate)
  bool link_known = false;             ///< said at joining, or measured since (not the default)
  std::optional<BytesPerSecond> disk;  ///< raw bytes/s its disk writes (estimate)
  BytesPerSecond planned_intake = 0;   ///< intake() when it was last placed
  BytesPerSecond planned_share = 0;    ///< what the plan gave it (0: queued, stalled)
  /// Reports in a row that found it slower than offered while its source had more to give,
  /// and the best of them: one report can be a transient (its parent busy with a move).
  int slow_reports = 0;
  BytesPerSecond slow_best = 0;
  /// The same for reports faster than its estimate, and the least of them.
  int fast_reports = 0;
  BytesPerSecond fast_least = 0;

  bool finished = false;
  Seconds finished_at = 0;   ///< when it reported holding everything (`finished`)
  Seconds relay_linger = 0;  ///< how long after `finished_at` it stops relaying at the latest
  bool stalled = false;
  std::string stall_reason;    ///< why it was marked stalled, for the dashboard
  bool replace = true;         ///< re-place it on the next plan (new, rebooted, changed speed)
  bool source_broken = false;  ///< its source restarted, fell behind it or failed: not "current"
  std::string pending_reason;  ///< why its source is about to change, for the dashboard

  Seconds relay_down_until = 0;  ///< not a parent before this (reported dead or stalled)
  int relay_strikes = 0;

  /// Stored bytes/s it can take in: its port, or its disk converted to stored bytes.
  BytesPerSecond intake() const { return intake_with(link); }
  /// intake() with `port` for its link (a guess for a laptop not measured yet).
  BytesPerSecond intake_with(BytesPerSecond port) const {
    BytesPerSecond r = port;
    if (disk) r = std::min(r, *disk * shape.stored_per_raw());
    return r;
  }
  std::uint64_t held_chunks() const { return std::min(held.count(), shape.data_chunks); }
  /// Every chunk verified (it finishes the step next): it needs no source, and can relay.
  bool holds_everything() const { return held_chunks() == shape.data_chunks; }
  /// Chunks it probably holds at `now`: reports from different laptops are up to a report
  /// interval apart, and a chain's neighbours differ by less than that, so comparing raw
  /// reports would see parents "fall behind" their children. Extrapolated at its measured
  /// rate for at most `horizon` seconds. The planned rate, not the measured one: every
  /// laptop is extrapolated alike (a measured rate lags, and includes pipeline filling).
  double held_chunks_at(Seconds now, Seconds horizon) const {
    const double reported = static_cast<double>(held_chunks());
    if (finished || stalled) return reported;
    const Seconds since = std::clamp(now - held_at, 0.0, horizon);
    return std::min(static_cast<double>(shape.data_chunks),
                    reported + planned_share * since / shape.stored_chunk());
  }
};

/// What the laptop's parent looked like when the report came (for the rate estimate).
struct ParentView {
  bool holds_everything = false;     ///< the server or a finished laptop
  double held_chunks = 0;            ///< as last reported (older than the child's report)
  BytesPerSecond planned_share = 0;  ///< what the plan expected this laptop to receive
};

/// Folds a progress report's measured rates into the laptop's link and disk estimates.
/// `parent` is empty when the receive rate says nothing about the laptop: it is queued, or
/// the interval measured began before its current source was in use (connecting, filling
/// the pipeline). Returns true when its intake moved by more than `rate_change` since it
/// was placed.
bool update_estimates(Laptop& laptop, std::optional<BytesPerSecond> receive_rate,
                      std::optional<BytesPerSecond> disk_rate,
                      const std::optional<ParentView>& parent, const Config& config);

}  // namespace revive::sched::detail
