#pragma once
// The deployment scheduler: a pure state machine. The server feeds it typed events from the
// agents' reports with a timestamp from its own clock; after each event that matters it
// re-plans who fetches from whom and returns the laptops whose assignment changed, which the
// server hands back in the answers to their reports. See docs/scheduler.md.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "revive/error.hpp"
#include "revive/sched/config.hpp"
#include "revive/sched/detail/laptop.hpp"
#include "revive/sched/events.hpp"
#include "revive/sched/plan.hpp"

namespace revive::sched {

namespace detail {
struct Node;
struct Placement;
}  // namespace detail

struct SchedulerStats {
  std::uint64_t events = 0;
  std::uint64_t replans = 0;        ///< plans computed
  std::uint64_t changes = 0;        ///< plans that changed someone's decision
  std::uint64_t moves = 0;          ///< a laptop switched from one source to another
  std::uint64_t fresh_adopted = 0;  ///< re-plans from scratch that beat the kept plan
};

class Scheduler {
 public:
  /// A scheduler for `config`; fails (invalid_input) when the configuration cannot work.
  static Result<Scheduler> create(Config config);

  /// Registers an image laptops may deploy; fails (invalid_input) for an empty shape and
  /// (conflict) when the name is known with another shape.
  Result<void> add_image(const std::string& name, const ImageShape& shape);

  /// Applies `event` at `now` and re-plans when it matters (a join, finish, failure,
  /// departure, stall, a laptop turning out slower or faster, or `replan_interval` passing).
  /// Returns the laptops whose decision changed, empty when none did. Fails without changing
  /// anything: (not_found) for a laptop or image it does not know, (invalid_input) when `now`
  /// is earlier than the previous event's time.
  Result<PlanDiff> handle(const Event& event, Seconds now);

  /// The plan in force.
  const Plan& plan() const { return plan_; }
  /// Counters since creation (events, re-plans, moves), for /metrics and the simulation.
  const SchedulerStats& stats() const { return stats_; }
  /// The configuration, with the images added since.
  const Config& config() const { return config_; }

 private:
  explicit Scheduler(Config config);

  Result<bool> on(const Joined& e, Seconds now);
  Result<bool> on(const Progressed& e, Seconds now);
  Result<bool> on(const SourceFailed& e, Seconds now);
  Result<bool> on(const Finished& e, Seconds now);
  Result<bool> on(const Failed& e, Seconds now);
  Result<bool> on(const Left& e, Seconds now);
  Result<bool> on(const Tick& e, Seconds now);

  Result<detail::Laptop*> find(LaptopId id);
  std::optional<detail::ParentView> parent_view(const detail::Laptop& laptop) const;
  static std::string speed_note(const detail::Laptop& laptop);
  std::optional<bool> silent(detail::Laptop& laptop, Seconds now);
  bool detect_stalls(Seconds now);
  /// How far a laptop's holdings are extrapolated past its last report.
  Seconds horizon() const { return 2 * config_.report_interval; }
  void orphan_children(LaptopId parent, const std::string& why);
  void suspect(detail::Laptop& laptop, Seconds now, const std::string& why,
               const std::string& own_reason);
  Result<bool> remove(LaptopId id, const std::string& why);
  bool can_parent(const detail::Laptop& laptop, Seconds now) const;

  PlanDiff replan(Seconds now);
  void mark_told(const Event& event);
  std::map<LaptopId, double> estimated_holdings(Seconds now) const;
  std::vector<detail::Node> snapshot(Seconds now) const;
  BytesPerSecond typical_link() const;
  Plan build_plan(const detail::Placement& placement, Seconds now) const;
  void mark_spare_relays(Plan& plan) const;
  std::string reason(const detail::Laptop& laptop, const Assignment& now_a,
                     const Assignment* before) const;

  Config config_;
  std::map<LaptopId, detail::Laptop> laptops_;
  std::set<std::pair<LaptopId, std::string>> banned_;  ///< (laptop, image): served a bad chunk
  Plan plan_;
  Seconds last_event_ = 0;
  Seconds last_replan_ = 0;
  SchedulerStats stats_;
};

}  // namespace revive::sched
