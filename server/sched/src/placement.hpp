#pragma once
// Who fetches from whom (internal): from a snapshot of the laptops, a forest rooted at the
// server and at finished laptops, with each source's upload budget shared out.

#include <limits>
#include <map>
#include <vector>

#include "revive/sched/config.hpp"
#include "revive/sched/plan.hpp"

namespace revive::sched::detail {

/// One laptop as the placement sees it.
struct Node {
  LaptopId id = 0;
  int image = 0;                ///< laptops relay only to laptops deploying the same image
  bool complete = false;        ///< finished: a root holding everything, like the server
  bool needs_source = false;    ///< deploying and not stalled
  bool can_parent = false;      ///< may serve others now (relay-capable, healthy, not banned)
  bool keep_allowed = false;    ///< its current source may be kept (false: place it afresh)
  Source current{};             ///< its source in the plan in force
  bool current_broken = false;  ///< that source restarted or failed it: no longer "current"
  int current_depth = 0;
  double held = 0;            ///< stored bytes held
  double remaining = 0;       ///< stored bytes still to fetch
  double chunk = 0;           ///< stored bytes of one chunk of its image
  BytesPerSecond intake = 0;  ///< stored bytes/s it can take in
  BytesPerSecond uplink = 0;  ///< stored bytes/s it can send
  Seconds joined_at = 0;
  /// A complete laptop stops serving by then (a finished relay's linger ends); infinity: it
  /// is not known to leave (the server never does).
  Seconds leaves_at = std::numeric_limits<Seconds>::infinity();
};

/// Where one laptop was placed.
struct Placed {
  Source source{};           ///< server, peer, or queued with its place
  BytesPerSecond share = 0;  ///< of its source's upload (0 when queued)
  int depth = 0;             ///< hops from a source holding everything
  Seconds eta = 0;           ///< estimated finish
};

struct Placement {
  std::map<LaptopId, Placed> laptops;  ///< every node that needs a source
  std::vector<LaptopId> queue;         ///< queued, next first
  BytesPerSecond server_committed = 0;
};

struct PlacementParams {
  Seconds now = 0;
  BytesPerSecond server_rate = 0;
  double useful_share = 0.25;  ///< less than this fraction of its intake: queue instead
  double lag_chunks = 4;       ///< chunks held closer than this sort as equals
  double rate_bucket = 0.15;   ///< intakes within this factor sort as equals
  double move_gain = 0.10;     ///< a placed laptop moves only to finish this much sooner...
  Seconds move_pad = 2;        ///< ...relative to its remaining time plus this
  /// A new parent holding fewer chunks than its child (beyond `lag_chunks`) must make up the
  /// difference within this share of the child's remaining time (plus `move_pad`).
  double catch_up_share = 0.05;
};

/// Keeps every current source that still works (alive, allowed, budget left); a laptop whose
/// source is being re-placed or can no longer relay takes the place of that source under the
/// nearest kept ancestor (spliced out of the chain, not re-sorted). Then places the rest
/// greedily, and moves a placed laptop where a source with upload to spare would finish it
/// clearly sooner. Sources only change where they must or where it clearly pays. A re-placed
/// laptop that finds no new source it may have (every one with upload to spare holds fewer
/// chunks than it does) keeps its current one.
///
/// In both placements a laptop is never given a new parent that holds fewer chunks than it
/// does, beyond `lag_chunks` of report skew, unless that parent makes up the difference within
/// `catch_up_share` of its remaining time; one with no source left to keep (new, queued, its
/// source gone or failed) and no such parent waits behind the one that catches up soonest.
Placement place_keeping(const std::vector<Node>& nodes, const PlacementParams& params);

/// Places every laptop greedily from scratch; current sources only break ties.
Placement place_fresh(const std::vector<Node>& nodes, const PlacementParams& params);

/// True when `fresh` is clearly better than `kept`: no laptop finishes more than `harm`
/// later (relative to its remaining time plus `pad`), the total is lower, and some laptop
/// finishes at least `gain` sooner or the total is `gain` lower. Hysteresis: rate noise
/// must not flap sources.
bool clearly_better(const Placement& fresh, const Placement& kept, const std::vector<Node>& nodes,
                    Seconds now, double gain, double harm, Seconds pad);

}  // namespace revive::sched::detail
