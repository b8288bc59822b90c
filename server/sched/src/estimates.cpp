#include <algorithm>
#include <cmath>

#include "revive/sched/detail/laptop.hpp"

namespace revive::sched::detail {

namespace {

// A receive rate below this share of what the laptop was offered is believed from one report.
constexpr double kFarSlower = 0.5;

// The receive rate says something about the laptop itself only when its source had chunks
// to give: the server or a finished laptop, or a parent well ahead of it. A child waiting on
// its parent receives at the parent's pace, which is the parent's speed, not its own. The
// parent's count is from its last report, older than the child's: the gap is underestimated,
// never overestimated.
bool limited_by_itself(const Laptop& laptop, const ParentView& parent, const Config& config) {
  if (parent.holds_everything) return true;
  return parent.held_chunks - static_cast<double>(laptop.held_chunks()) >= config.lag_chunks;
}

// Slower than offered while its source had more: its port (or something in it) is slow,
// unless its disk explains the shortfall. Believed after two such reports in a row.
bool slower_than_offered(const Laptop& laptop, BytesPerSecond received,
                         std::optional<BytesPerSecond> disk_rate, const ParentView& parent,
                         const Config& config) {
  if (!limited_by_itself(laptop, parent, config)) return false;
  const BytesPerSecond offered = std::min(parent.planned_share, laptop.intake());
  if (received >= offered * (1 - config.rate_change)) return false;
  BytesPerSecond disk = laptop.disk.value_or(1e18);
  if (disk_rate) disk = std::min(disk, *disk_rate);
  return disk * laptop.shape.stored_per_raw() > received * (1 + config.rate_change);
}

void update_link(Laptop& laptop, BytesPerSecond received, std::optional<BytesPerSecond> disk_rate,
                 const ParentView& parent, const Config& config) {
  // Faster than we thought: the port takes at least the lower of two such reports in a row.
  // One can be a burst (a shaped port's token bucket, a backlog after a wait); believed at
  // once, it made that laptop the fastest, and the placement's speed steps count down from
  // the fastest: every laptop measured at the real rate looked a step slower.
  if (received > laptop.link * (1 + config.rate_change)) {
    laptop.slow_reports = 0;
    laptop.fast_least = laptop.fast_reports == 0 ? received : std::min(laptop.fast_least, received);
    if (++laptop.fast_reports >= 2) {
      laptop.link = laptop.fast_least;
      laptop.link_known = true;
      laptop.fast_reports = 0;
    }
    return;
  }
  laptop.fast_reports = 0;
  if (!slower_than_offered(laptop, received, disk_rate, parent, config)) {
    laptop.slow_reports = 0;
    // Took about what its port was thought to take while its source had more: confirmed. A
    // first measurement replaces the default (a nominal rate, which goodput never reaches):
    // kept, it made the first laptop measured the fastest, and every laptop measured after it
    // at the real goodput looked slower (bench/workshop.sh at 50 Mbit/s).
    if (limited_by_itself(laptop, parent, config) &&
        received >= laptop.link * (1 - config.rate_change)) {
      if (!laptop.link_known) laptop.link = std::min(laptop.link, received);
      laptop.link_known = true;
    }
    return;
  }
  laptop.slow_best = laptop.slow_reports == 0 ? received : std::max(laptop.slow_best, received);
  // Less than half of what was offered, on a source it has settled on, is no report noise:
  // believed at once, because every second a slow laptop heads a chain, the laptops behind it
  // run at its pace. Not on the first report behind a parent still receiving: that parent's
  // lead can be a burst it got in the same second, and the child took what it was sent.
  const BytesPerSecond offered = std::min(parent.planned_share, laptop.intake());
  const bool lead_is_real = parent.holds_everything || laptop.told_reports >= 2;
  const bool far_slower = laptop.settled() && lead_is_real && received < kFarSlower * offered;
  if (++laptop.slow_reports >= 2 || far_slower) {
    laptop.link = laptop.slow_best;
    laptop.link_known = true;
    laptop.slow_reports = 0;
  }
}

// A disk figure below the estimate is believed only when the disk, not the network, held the
// laptop back: its disk took clearly less than the plan offered, and either data arrived faster
// than it was written (a QLC cache ran out) or its source had more to give. A laptop starved by
// the network or waiting on its parent writes only what arrives; taking that as its disk's speed
// re-placed laptops as "slow disks" every report or two (issue 14). Raises need no such proof:
// a disk that wrote fast is fast.
bool disk_held_it_back(const Laptop& laptop, BytesPerSecond disk_rate,
                       std::optional<BytesPerSecond> received,
                       const std::optional<ParentView>& parent, const Config& config) {
  const double clearly = 1 - config.rate_change;
  const BytesPerSecond written = disk_rate * laptop.shape.stored_per_raw();
  const BytesPerSecond offered = std::min(laptop.planned_share, laptop.intake());
  if (written >= offered * clearly) return false;
  if (received && written < *received * clearly) return true;
  return parent && limited_by_itself(laptop, *parent, config);
}

void update_disk(Laptop& laptop, BytesPerSecond disk_rate, std::optional<BytesPerSecond> received,
                 const std::optional<ParentView>& parent, const Config& config) {
  const bool drop = !laptop.disk || disk_rate < *laptop.disk;
  if (drop && !disk_held_it_back(laptop, disk_rate, received, parent, config)) return;
  // Half-weight smoothing: one noisy report cannot move a laptop, two consistent ones do.
  // A change by more than 2x is a step (a QLC disk's cache ran out), not noise: taken as is.
  const bool step = !laptop.disk || disk_rate > 2 * *laptop.disk || 2 * disk_rate < *laptop.disk;
  laptop.disk = step ? disk_rate : 0.5 * *laptop.disk + 0.5 * disk_rate;
}

}  // namespace

bool update_estimates(Laptop& laptop, std::optional<BytesPerSecond> receive_rate,
                      std::optional<BytesPerSecond> disk_rate,
                      const std::optional<ParentView>& parent, const Config& config) {
  if (disk_rate && *disk_rate > 0) update_disk(laptop, *disk_rate, receive_rate, parent, config);
  // Receiving (next to) nothing says nothing about the link: it was starved or connecting.
  const bool informative = receive_rate && *receive_rate > 0.01 * config.default_port_rate;
  if (informative && parent) update_link(laptop, *receive_rate, disk_rate, *parent, config);
  const BytesPerSecond now = laptop.intake();
  const BytesPerSecond before = laptop.planned_intake;
  return before > 0 && std::abs(now - before) > config.rate_change * before;
}

}  // namespace revive::sched::detail
