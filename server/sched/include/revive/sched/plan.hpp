#pragma once
// The scheduler's output: for each laptop its source (the server, a named peer, or a place in
// the server's queue), whom it serves, and a reason for the dashboard; diffed so the server
// answers only the laptops whose assignment changed.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "revive/error.hpp"
#include "revive/sched/config.hpp"

namespace revive::sched {

enum class SourceKind { none, server, peer, queued };

/// Where a laptop fetches chunks from.
struct Source {
  SourceKind kind = SourceKind::none;  ///< none: it fetches nothing (finished)
  LaptopId peer = 0;                   ///< for kind == peer
  int place = 0;                       ///< for kind == queued: 1 = next in line

  static Source server() { return {SourceKind::server, 0, 0}; }
  static Source from_peer(LaptopId id) { return {SourceKind::peer, id, 0}; }
  static Source queued(int place) { return {SourceKind::queued, 0, place}; }
  bool operator==(const Source&) const = default;
};

/// "server", "peer 12", "queued: 3rd", "none".
std::string to_string(const Source& source);
/// "1st", "2nd", "3rd", "11th"...
std::string ordinal(int n);

enum class Role {
  deploying,  ///< fetching from its source
  stalled,    ///< no progress: keeps a live parent as source, else the server; serves nobody,
              ///< costs no budget
  finished,   ///< holds every chunk; serves its children
};

struct Assignment {
  Role role = Role::deploying;
  Source source;
  std::vector<LaptopId> serves;     ///< its children, ascending (the peers it must answer)
  BytesPerSecond planned_rate = 0;  ///< stored bytes/s the plan expects it to receive
  int depth = 0;                    ///< hops from a source holding everything (server: 1)
  Seconds eta = 0;                  ///< estimated finish (caller's clock)
  double held = 0;                  ///< chunks the plan counted it holding (report, extrapolated)
  bool relays = false;              ///< may serve peers now (relay address, not banned or cooling)
  bool may_leave = false;           ///< finished and no longer needed as a relay
  std::string reason;               ///< for the dashboard: "peer 12", "queued: 3rd, ..."

  /// What the laptop or the dashboard must be told about (not the estimates).
  bool same_decision(const Assignment& o) const {
    return role == o.role && source == o.source && serves == o.serves && may_leave == o.may_leave &&
           reason == o.reason;
  }
};

struct Plan {
  std::map<LaptopId, Assignment> laptops;
  std::vector<LaptopId> server_admitted;  ///< laptops the server's port sends to
  std::vector<LaptopId> server_queue;     ///< waiting, next first
  BytesPerSecond server_committed = 0;    ///< planned use of the server's port
};

/// One laptop whose decision changed; `before`/`after` empty when it was not / is no longer
/// in the plan.
struct PlanChange {
  LaptopId laptop = 0;
  std::optional<Assignment> before;
  std::optional<Assignment> after;
};
using PlanDiff = std::vector<PlanChange>;

/// The laptops whose decision differs between two plans, ascending by id.
PlanDiff diff(const Plan& before, const Plan& after);

/// Checks that sources form a forest rooted at the server or finished laptops: every peer
/// source exists, serves lists match sources, no cycles. Returns internal naming the laptop
/// otherwise (the scheduler REVIVE_CHECKs it after every re-plan).
Result<void> check_forest(const Plan& plan);

}  // namespace revive::sched
