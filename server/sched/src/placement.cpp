// Topology: pipelined chains, generalised as a forest with upload budgets.
//
// On a switch every port is full duplex, so a laptop's uplink is idle unless it relays. A chain
// server -> A -> B -> C, where each laptop forwards a chunk as soon as it has verified it, uses
// every port about 1x in and 1x out, makes the server send the image once, and finishes in
// about T1 + (depth - 1) chunk-times. Chains generalise to a forest: every source (the server,
// a finished laptop, a placed relaying laptop) has an upload budget (its port rate), and each
// laptop takes a share of one source's budget. So a server port k times a laptop's feeds k
// chains; an equal one feeds one.
//
// Laptops are placed in order of (can relay, intake rate, chunks held) descending: in a chain
// sorted by speed every laptop runs at its own rate, so slow disks and links end up at the
// tails where they hold nobody back, and a late joiner (holding nothing) follows the laptops
// that are ahead of it. Each takes the source that gives it the earliest estimated finish:
//   eta = max(now + wait + remaining / share, parent's eta + one chunk-time)
// (wait: the time a parent behind it needs to catch up). A source holding everything has no
// second term. Behind a slower parent, a laptop counts on being moved when the first relay
// finishes (eta_after_switch), so a slow laptop's idle uplink is worth taking for the catch-up.
// Ties go to the current source, then to a peer over the server (its port is the scarce one),
// then to the shallower source (shorter chains, smaller blast radius when a relay dies). That
// last rule differs from "prefer the tail": with a fast server port it spreads laptops over k
// balanced chains instead of growing one. With equal ports only a chain's tail has budget, so
// chains form either way.
//
// A laptop offered less than `useful_share` of its intake is queued rather than slowing a
// source's other children; it gets a source when a share frees up (a finish, a departure).
// Stability: place_keeping keeps current sources while they work and splices failed or
// re-placed relays out of their chains; clearly_better lets a re-plan from scratch replace
// the kept plan only when it is clearly better for someone and clearly worse for nobody.

#include "placement.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <set>
#include <tuple>

namespace revive::sched::detail {

namespace {

constexpr Seconds kNever = 1e15;

// A source with upload budget: the server, a finished laptop, or a placed relaying laptop.
struct Slot {
  std::optional<LaptopId> laptop{};  // empty: the server
  int image = -1;                    // -1: the server, which serves every image
  BytesPerSecond capacity = 0;
  BytesPerSecond committed = 0;
  bool complete = false;    // holds every chunk
  double held = 0;          // stored bytes held (incomplete slots)
  BytesPerSecond rate = 0;  // how fast it gains chunks (incomplete slots)
  Seconds eta = 0;          // when it holds everything
  int depth = 0;
  Seconds leaves_at = std::numeric_limits<Seconds>::infinity();  // a finished relay's linger ends
};

struct Offer {
  std::size_t slot = 0;
  BytesPerSecond share = 0;
  Seconds eta = 0;
};

class Placer {
 public:
  // `from_scratch`: a placement to be weighed against the kept one (place_fresh).
  Placer(const std::vector<Node>& nodes, const PlacementParams& params, bool prefer_current,
         bool from_scratch = false)
      : params_(params), prefer_current_(prefer_current), from_scratch_(from_scratch) {
    slots_.push_back(Slot{.capacity = params.server_rate, .complete = true});
    for (const Node& n : nodes) {
      by_id_[n.id] = &n;
      if (n.needs_source) {
        ordered_.push_back(&n);
        top_intake_ = std::max(top_intake_, n.intake);
      }
      if (n.complete && n.can_parent) {
        slot_of_[n.id] = slots_.size();
        slots_.push_back(Slot{.laptop = n.id,
                              .image = n.image,
                              .capacity = n.uplink,
                              .complete = true,
                              .leaves_at = n.leaves_at});
      }
    }
    std::sort(ordered_.begin(), ordered_.end(),
              [this](const Node* a, const Node* b) { return order_key(*a) < order_key(*b); });
    holdings_first();
  }

  // In the order of the old forest (shallow first): a laptop keeps its source if that source
  // is kept too; if its source is stalled, gone or barred from relaying, it takes that
  // source's place under the nearest kept ancestor (its grandparent, usually), which holds
  // more than it does. So it does when its source is re-placed as clearly slower than itself;
  // re-placed otherwise (a new estimate, no slower), both go to the greedy pass. A laptop
  // whose ancestors are still undecided waits for the next round.
  void keep_current_sources() {
    std::vector<const Node*> by_depth;
    for (const Node* n : ordered_) {
      if (n->keep_allowed && n->current.kind != SourceKind::queued &&
          n->current.kind != SourceKind::none) {
        by_depth.push_back(n);
      }
    }
    // Siblings in ascending demand: each keeps what it takes (a slow disk a small share), the
    // fastest gets what is left (water-filling), as before the re-plan.
    std::stable_sort(by_depth.begin(), by_depth.end(), [](const Node* a, const Node* b) {
      return std::make_pair(a->current_depth, a->intake) <
             std::make_pair(b->current_depth, b->intake);
    });
    for (bool progress = true; progress;) {
      progress = false;
      for (const Node* n : by_depth) {
        if (settled(*n) || gave_up_.count(n->id) != 0) continue;
        const Anchor a = kept_ancestor(*n);
        if (a.undecided) continue;
        // An ancestor taking a spliced child in is a new parent: the holdings rule applies.
        const std::optional<Offer> o = a.slot ? offer(*n, *a.slot) : std::nullopt;
        if (o) {
          settle(*n, *o);
        } else {
          gave_up_.insert(n->id);  // the greedy pass places it
        }
        progress = true;
      }
    }
  }

  // `wait_behind`: a laptop whose every offer is from a parent holding fewer chunks that would
  // not catch up in time takes the one that catches up soonest (it has nowhere better: queued,
  // it would wait for a share to free up, which is later). Without it, such a laptop queues and
  // is listed as stranded (place_keeping then keeps its current source).
  // A laptop whose current parent is placed in this pass too (re-placed) waits for it: that
  // parent may land where the laptop can follow it, and then keeps it as its source.
  void place_the_rest(bool wait_behind = true) {
    std::vector<const Node*> pending;
    for (const Node* n : ordered_) {
      if (!settled(*n)) pending.push_back(n);
    }
    for (bool progress = true; progress;) {
      progress = false;
      std::vector<const Node*> waiting;
      for (const Node* n : pending) {
        if (place_one(*n, wait_behind, /*may_wait=*/true)) {
          progress = true;
        } else {
          waiting.push_back(n);
        }
      }
      pending = std::move(waiting);
    }
    for (const Node* n : pending) place_one(*n, wait_behind, /*may_wait=*/false);
  }

  // Places `n` (or queues it); false, doing nothing, when `may_wait` and only a parent holding
  // fewer chunks has room while its current parent is still to be placed.
  bool place_one(const Node& n, bool wait_behind, bool may_wait) {
    std::optional<Offer> best = best_offer(n, /*behind_ok=*/false);
    if (!best && may_wait && parent_unplaced(n)) return false;
    if (!best) {
      // From scratch, only a laptop with no source to keep may wait behind: one that has a
      // source queues instead, so that plan loses to the kept one.
      std::optional<Offer> behind = best_offer(n, /*behind_ok=*/true);
      const bool may = wait_behind && (!from_scratch_ || !has_working_source(n));
      if (behind && may) best = behind;
      if (behind && !wait_behind) stranded_.insert(n.id);
    }
    if (best) {
      settle(n, *best);
    } else {
      out_.queue.push_back(n.id);
    }
    return true;
  }

  // Its current source still serves: the server, or a live peer that may relay.
  bool has_working_source(const Node& n) const {
    if (n.current_broken) return false;
    if (n.current.kind == SourceKind::server) return true;
    if (n.current.kind != SourceKind::peer) return false;
    auto p = by_id_.find(n.current.peer);
    return p != by_id_.end() && p->second->can_parent &&
           (p->second->complete || p->second->needs_source);
  }

  bool parent_unplaced(const Node& n) const {
    if (n.current_broken || n.current.kind != SourceKind::peer) return false;
    auto p = by_id_.find(n.current.peer);
    return p != by_id_.end() && p->second->needs_source && p->second->can_parent &&
           !settled(*p->second);
  }

  // A placed laptop moves to a source holding everything (the server, a finished relay) with
  // upload to spare when that would finish it clearly sooner than staying where it is: a
  // finished relay freed up while it crawls behind a slow parent. Its subtree follows it.
  // One fed by a finished relay that leaves before it is done moves for any gain at all (its
  // move is due anyway; now, the relay can go home and the child is not cut off at its end).
  void improve() {
    for (const Node* n : ordered_) {
      auto it = out_.laptops.find(n->id);
      if (it == out_.laptops.end()) continue;  // queued
      const std::size_t from = slot_index(it->second.source);
      std::optional<Offer> best;
      for (std::size_t i = 0; i < slots_.size(); ++i) {
        if (i == from || !slots_[i].complete || below(i, n->id)) continue;
        const std::optional<Offer> o = offer(*n, i);
        if (o && (!best || better(*n, *o, *best))) best = o;
      }
      const Seconds stay = staying_eta(*n, it->second, from);
      const double gain = slots_[from].leaves_at < stay ? 0.0 : params_.move_gain;
      const Seconds left = stay - params_.now + params_.move_pad;
      if (!best || best->eta - params_.now + params_.move_pad > (1 - gain) * left) continue;
      slots_[from].committed -= it->second.share;
      if (from == 0) out_.server_committed -= it->second.share;
      out_.laptops.erase(it);
      settle(*n, *best, /*add_slot=*/false);
    }
  }

  /// Laptops that found only parents holding fewer chunks than they do (place_the_rest(false)).
  const std::set<LaptopId>& stranded() const { return stranded_; }

  Placement result() {
    // A queued laptop starts when a share frees up: roughly the k-th earliest finish.
    std::vector<Seconds> frees;
    for (const auto& [id, p] : out_.laptops) frees.push_back(p.eta);
    std::sort(frees.begin(), frees.end());
    for (std::size_t k = 0; k < out_.queue.size(); ++k) {
      const Node& n = *node(out_.queue[k]);
      const Seconds start = k < frees.size() ? std::max(params_.now, frees[k]) : kNever;
      out_.laptops[n.id] = Placed{.source = Source::queued(static_cast<int>(k) + 1),
                                  .eta = start + n.remaining / std::max(n.intake, 1.0)};
    }
    return std::move(out_);
  }

 private:
  // Sorts ascending; every "descending" field is negated.
  using OrderKey = std::tuple<bool, long, long, int, Seconds, LaptopId>;
  OrderKey order_key(const Node& n) const {
    // Speed in steps of `rate_bucket` down from the fastest laptop: buckets fixed on an
    // absolute scale put a boundary between 11.0 and 11.5 MB/s, and a laptop measured 4% below
    // its unmeasured child was sent to the tail (bench/workshop.sh, N=4 clean: 1.74x T1).
    const double log_step = std::log1p(params_.rate_bucket);
    const long slower_steps = std::lround(
        std::floor(std::log(std::max(top_intake_, 1.0) / std::max(n.intake, 1.0)) / log_step));
    // Chunks held in steps of `lag_chunks`: neighbours in a chain report at different times.
    const double step = std::max(params_.lag_chunks, 1.0) * std::max(n.chunk, 1.0);
    const long held_bucket = std::lround(std::floor(n.held / step));
    const int depth = n.current_depth > 0 ? n.current_depth : std::numeric_limits<int>::max();
    return std::make_tuple(!n.can_parent, slower_steps, -held_bucket, depth, n.joined_at, n.id);
  }

  // Speed orders a chain, but not at the price of a laptop idling behind one that holds clearly
  // fewer chunks: a child gets nothing until its parent has what it lacks, and can never pass
  // it. So X goes before Y, whatever their speeds, when Y would not make up X's lead in time
  // (catches_up); a slow laptop still goes behind faster ones that are only a little behind it.
  // Insertion sort: the order is a speed order with those pairs swapped, deterministic.
  void holdings_first() {
    for (std::size_t i = 1; i < ordered_.size(); ++i) {
      for (std::size_t j = i; j > 0 && must_precede(*ordered_[j], *ordered_[j - 1]); --j) {
        std::swap(ordered_[j], ordered_[j - 1]);
      }
    }
  }

  bool must_precede(const Node& x, const Node& y) const {
    if (!x.can_parent || !y.can_parent || x.image != y.image) return false;
    return !catches_up(x, y.held, y.intake, x.intake);
  }

  // Whether a parent holding `parent_held` stored bytes and gaining `parent_rate` has what
  // `child` lacks soon enough: within report skew (`lag_chunks`), or making up the difference
  // within `catch_up_share` of the child's remaining time at `share`. The child idles meanwhile.
  bool catches_up(const Node& child, double parent_held, BytesPerSecond parent_rate,
                  BytesPerSecond share) const {
    const double gap = child.held - parent_held;
    if (gap <= std::max(params_.lag_chunks, 0.0) * child.chunk) return true;
    const Seconds wait = gap / std::max(parent_rate, 1.0);
    const Seconds left = child.remaining / std::max(share, 1.0) + params_.move_pad;
    return wait <= params_.catch_up_share * left;
  }

  std::optional<Offer> best_offer(const Node& n, bool behind_ok) const {
    std::optional<Offer> best;
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      const std::optional<Offer> o = offer(n, i, behind_ok);
      if (o && (!best || better(n, *o, *best))) best = o;
    }
    return best;
  }

  const Node* node(LaptopId id) const {
    for (const Node* n : ordered_) {
      if (n->id == id) return n;
    }
    REVIVE_CHECK(false);
    return nullptr;
  }

  bool settled(const Node& n) const { return out_.laptops.count(n.id) != 0; }

  struct Anchor {
    std::optional<std::size_t> slot;  // empty: none (the laptop goes to the greedy pass)
    bool undecided = false;           // an ancestor may still be kept: ask again later
  };

  // The slot `n` hangs from if kept: its source's slot, or the nearest ancestor's (old forest)
  // that has one. Ancestors that will not get a slot this pass are stepped over.
  Anchor kept_ancestor(const Node& n) const {
    Source s = n.current;
    bool skip = n.current_broken;  // its direct source failed it: start above it
    for (std::size_t steps = 0; steps <= by_id_.size(); ++steps) {
      if (s.kind == SourceKind::server) return skip ? Anchor{} : Anchor{0, false};
      if (s.kind != SourceKind::peer) return Anchor{};
      if (auto slot = slot_of_.find(s.peer); slot != slot_of_.end() && !skip) {
        return Anchor{slot->second, false};
      }
      auto p = by_id_.find(s.peer);
      if (p == by_id_.end()) return Anchor{};  // gone: nothing known above it
      const Node& parent = *p->second;
      const bool may_be_kept = parent.needs_source && parent.keep_allowed && parent.can_parent &&
                               !settled(parent) && gave_up_.count(parent.id) == 0;
      if (may_be_kept && !skip) return Anchor{std::nullopt, true};
      // A healthy parent re-placed on a new estimate that is no slower than its child does
      // not hand its place to the child, which holds less: the greedy pass orders the two.
      const bool re_placed = parent.needs_source && parent.can_parent && !parent.keep_allowed;
      const bool slower = parent.intake < n.intake * (1 - params_.rate_bucket);
      if (re_placed && !slower && !skip && !settled(parent)) return Anchor{};
      skip = false;
      s = parent.current;
    }
    return Anchor{};  // a cycle in the old forest cannot happen; refuse to follow one
  }

  static bool is_current(const Node& n, const Slot& s) {
    if (n.current_broken) return false;
    if (!s.laptop) return n.current.kind == SourceKind::server;
    return n.current.kind == SourceKind::peer && n.current.peer == *s.laptop;
  }

  // What slot `i` can give `n`, and when `n` would finish with it; empty when not useful.
  // `behind_ok`: a new parent holding fewer chunks may offer even if it would not catch up.
  std::optional<Offer> offer(const Node& n, std::size_t i, bool behind_ok = false) const {
    const Slot& s = slots_[i];
    if (s.laptop && (s.image != n.image || *s.laptop == n.id)) return std::nullopt;
    const BytesPerSecond share = std::min(n.intake, s.capacity - s.committed);
    if (share <= 0 || share < params_.useful_share * n.intake) return std::nullopt;
    Seconds eta = params_.now + n.remaining / share;
    if (!s.complete) {
      // A current parent is ahead of the child, which fetches only from it: a gap here is
      // report skew. A new parent behind the child makes it wait, and is taken only if it
      // catches up in time (or, `behind_ok`, there is nothing better).
      const bool known_ahead = is_current(n, s);
      if (!known_ahead && !behind_ok && !catches_up(n, s.held, s.rate, share)) {
        return std::nullopt;
      }
      const double gap = known_ahead ? 0 : std::max(0.0, n.held - s.held);
      eta = std::max(eta + gap / s.rate, s.eta + n.chunk / share);
      if (gap <= 0) eta = std::min(eta, eta_after_switch(n, s, share));
    }
    return Offer{i, share, eta + leave_penalty(s, eta)};
  }

  // A laptop held back by a slower parent that is ahead of it is moved by a later re-plan
  // once a faster source frees up (a laptop finishes and holds everything): what it gets from
  // this parent until then is what counts. This makes an idle uplink of a slow laptop worth
  // taking for the catch-up alone (late joiners). Never for a parent behind the child: the
  // child would idle now on the promise of a move.
  Seconds eta_after_switch(const Node& n, const Slot& s, BytesPerSecond share) const {
    if (free_at_ >= kNever) return kNever;
    const Seconds until = std::max(0.0, free_at_ - params_.now);
    const double parent_then = s.held + s.rate * until;  // what the parent will have had
    const double gained = std::clamp(parent_then - n.held, 0.0, share * until);
    // At least a chunk-time after the switch: never better than following the parent.
    return free_at_ + std::max(n.chunk, n.remaining - gained) / n.intake;
  }

  bool better(const Node& n, const Offer& a, const Offer& b) const {
    if (std::abs(a.eta - b.eta) > 1e-6) return a.eta < b.eta;
    const Slot& sa = slots_[a.slot];
    const Slot& sb = slots_[b.slot];
    if (prefer_current_ && is_current(n, sa) != is_current(n, sb)) return is_current(n, sa);
    if (sa.laptop.has_value() != sb.laptop.has_value()) return sa.laptop.has_value();
    if (sa.depth != sb.depth) return sa.depth < sb.depth;
    return a.slot < b.slot;
  }

  // When `n` finishes if it never leaves its placed source (no hoped-for switch).
  Seconds staying_eta(const Node& n, const Placed& p, std::size_t from) const {
    const Slot& s = slots_[from];
    const Seconds own = params_.now + n.remaining / p.share;
    const Seconds eta = s.complete ? own : std::max(own, s.eta + n.chunk / p.share);
    return eta + leave_penalty(s, eta);
  }

  // A source that leaves before a child finishing at `eta` is done hands it over then: a
  // reconnect and a report interval (`move_pad`) lost, so a source that stays wins a tie.
  Seconds leave_penalty(const Slot& s, Seconds eta) const {
    return s.leaves_at < eta ? params_.move_pad : 0.0;
  }

  std::size_t slot_index(const Source& s) const {
    return s.kind == SourceKind::server ? 0 : slot_of_.at(s.peer);
  }

  // Whether slot `i` is `id` or hangs (through the new placement) below it: a cycle if `id`
  // took it as its source.
  bool below(std::size_t i, LaptopId id) const {
    std::optional<LaptopId> at = slots_[i].laptop;
    for (std::size_t steps = 0; at && steps <= out_.laptops.size(); ++steps) {
      if (*at == id) return true;
      auto p = out_.laptops.find(*at);
      if (p == out_.laptops.end() || p->second.source.kind != SourceKind::peer) return false;
      at = p->second.source.peer;
    }
    return at.has_value();  // a walk that long went round a cycle: treat as below
  }

  void settle(const Node& n, const Offer& o, bool add_slot = true) {
    Slot& s = slots_[o.slot];
    s.committed += o.share;
    const Placed p{.source = s.laptop ? Source::from_peer(*s.laptop) : Source::server(),
                   .share = o.share,
                   .depth = s.depth + 1,
                   .eta = o.eta};
    if (!s.laptop) out_.server_committed += o.share;
    out_.laptops[n.id] = p;
    if (n.can_parent) free_at_ = std::min(free_at_, o.eta);
    if (auto own = slot_of_.find(n.id); !add_slot && own != slot_of_.end()) {
      slots_[own->second].eta = o.eta;  // it moved: its children follow at its new pace
      slots_[own->second].rate = o.share;
      slots_[own->second].depth = p.depth;
      return;
    }
    if (n.can_parent) {
      const bool complete = n.remaining <= 0;
      slot_of_[n.id] = slots_.size();
      slots_.push_back(Slot{.laptop = n.id,
                            .image = n.image,
                            .capacity = n.uplink,
                            .complete = complete,
                            .held = n.held,
                            .rate = o.share,
                            .eta = o.eta,
                            .depth = p.depth});
    }
  }

  const PlacementParams& params_;
  const bool prefer_current_;
  const bool from_scratch_;
  std::vector<const Node*> ordered_;  // the laptops needing a source, in placement order
  BytesPerSecond top_intake_ = 0;     // the fastest of them: speed buckets count down from it
  std::map<LaptopId, const Node*> by_id_;
  std::vector<Slot> slots_;                  // [0] is the server
  std::map<LaptopId, std::size_t> slot_of_;  // laptop -> its slot
  std::set<LaptopId> gave_up_;               // could not be kept: placed greedily
  std::set<LaptopId> stranded_;              // only parents holding fewer chunks had room
  Seconds free_at_ = kNever;  // the first placed relay to hold everything (a source frees up)
  Placement out_;
};

}  // namespace

Placement place_keeping(const std::vector<Node>& nodes, const PlacementParams& params) {
  // A re-placed relaying laptop (rejoined, a new speed estimate) whose only new parents would
  // hold fewer chunks than it does keeps its current source: in the late-joiner bench, laptops
  // holding 242 of 454 chunks re-placed as slow went behind a joiner holding none and idled
  // until it caught up (the others took 41 s, not 28 s). A probe finds them. Whoever took its
  // place in the probe then hangs below it. Not one that may not relay: kept, it would take
  // that place's upload and leave the laptops below it queued; at the tail it blocks nobody.
  std::vector<Node> pinned = nodes;
  {
    Placer probe(nodes, params, /*prefer_current=*/true);
    probe.keep_current_sources();
    probe.place_the_rest(/*wait_behind=*/false);
    for (Node& n : pinned) {
      const bool has_source =
          n.current.kind == SourceKind::server || n.current.kind == SourceKind::peer;
      if (has_source && n.can_parent && probe.stranded().count(n.id) != 0) {
        n.keep_allowed = true;
      }
    }
  }
  Placer p(pinned, params, /*prefer_current=*/true);
  p.keep_current_sources();
  p.place_the_rest();
  p.improve();
  return p.result();
}

Placement place_fresh(const std::vector<Node>& nodes, const PlacementParams& params) {
  Placer p(nodes, params, /*prefer_current=*/true, /*from_scratch=*/true);
  p.place_the_rest();
  p.improve();
  return p.result();
}

bool clearly_better(const Placement& fresh, const Placement& kept, const std::vector<Node>& nodes,
                    Seconds now, double gain, double harm, Seconds pad) {
  double sum_fresh = 0;
  double sum_kept = 0;
  double best_gain = 0;
  double worst_harm = 0;
  bool differs = false;
  for (const Node& n : nodes) {
    if (!n.needs_source) continue;
    const Placed& f = fresh.laptops.at(n.id);
    const Placed& k = kept.laptops.at(n.id);
    differs = differs || !(f.source == k.source);
    // Padded: a move costs a reconnect and up to a report interval before the agent hears
    // of it, so a laptop about to finish gains nothing from one.
    const Seconds rf = f.eta - now + pad;
    const Seconds rk = k.eta - now + pad;
    sum_fresh += rf;
    sum_kept += rk;
    best_gain = std::max(best_gain, (rk - rf) / rk);
    worst_harm = std::max(worst_harm, (rf - rk) / rk);
  }
  if (!differs || sum_fresh >= sum_kept) return false;
  // Never at anyone's clear expense (a faster laptop inserted ahead of a slow one that holds
  // more would make it wait); then clearly better for someone, or clearly better in total.
  if (worst_harm > harm) return false;
  return best_gain >= gain || sum_fresh <= (1 - gain) * sum_kept;
}

}  // namespace revive::sched::detail
