// The scheduler's planning side: a snapshot of the laptops goes to the placement (kept and
// from scratch), the better one becomes the plan, and the plan is diffed against the last.

#include <algorithm>
#include <cstdio>
#include <functional>

#include "placement.hpp"
#include "revive/sched/scheduler.hpp"

namespace revive::sched {

using detail::Laptop;
using detail::Node;
using detail::Placement;

namespace {
// A measured link above this share of the configured port rate is that port's real goodput.
constexpr double kCalibratesAbove = 0.5;
}  // namespace

PlanDiff Scheduler::replan(Seconds now) {
  const std::vector<Node> nodes = snapshot(now);
  const detail::PlacementParams params{.now = now,
                                       .server_rate = config_.server_port_rate,
                                       .useful_share = config_.useful_share,
                                       .lag_chunks = config_.lag_chunks,
                                       .rate_bucket = config_.speed_step,
                                       .move_gain = config_.move_gain,
                                       .move_pad = 2 * config_.report_interval,
                                       .catch_up_share = config_.catch_up_share};
  Placement kept = detail::place_keeping(nodes, params);
  Placement fresh = detail::place_fresh(nodes, params);
  const bool adopt = detail::clearly_better(fresh, kept, nodes, now, config_.move_gain,
                                            config_.move_harm, params.move_pad);
  if (adopt) ++stats_.fresh_adopted;
  Plan next = build_plan(adopt ? fresh : kept, now);
  REVIVE_CHECK(check_forest(next).has_value());

  PlanDiff changes = diff(plan_, next);
  for (const PlanChange& c : changes) {
    if (!c.after || !c.before || c.before->source == c.after->source) continue;
    const auto started = [](const Source& s) {
      return s.kind == SourceKind::server || s.kind == SourceKind::peer;
    };
    if (started(c.before->source) && started(c.after->source)) ++stats_.moves;
    // A new source needs a moment to connect before silence counts as a stall.
    Laptop& moved = laptops_.at(c.laptop);
    moved.source_told = false;
    moved.told_reports = 0;
    if (started(c.before->source)) moved.moved = true;  // leaving a queue is a fresh start
    moved.last_progress_at = now;
  }
  plan_ = std::move(next);
  last_replan_ = now;
  ++stats_.replans;
  if (!changes.empty()) ++stats_.changes;
  for (auto& [id, l] : laptops_) {
    l.replace = false;
    l.source_broken = false;
    l.planned_intake = l.intake();
    l.planned_share = plan_.laptops.at(id).planned_rate;
    l.pending_reason.clear();
  }
  return changes;
}

// Chunks each laptop probably holds now: its report extrapolated at its planned rate, but
// never past what its parent holds (a child waiting on its parent does not gain chunks).
std::map<LaptopId, double> Scheduler::estimated_holdings(Seconds now) const {
  std::map<LaptopId, double> out;
  std::function<double(LaptopId, std::size_t)> held = [&](LaptopId id, std::size_t depth) {
    if (auto known = out.find(id); known != out.end()) return known->second;
    const Laptop& l = laptops_.at(id);
    double h = l.held_chunks_at(now, horizon());
    auto a = plan_.laptops.find(id);
    const bool fed_by_peer = a != plan_.laptops.end() && a->second.role == Role::deploying &&
                             a->second.source.kind == SourceKind::peer &&
                             laptops_.count(a->second.source.peer) != 0;
    if (fed_by_peer && depth <= laptops_.size()) {
      h = std::max(static_cast<double>(l.held_chunks()),
                   std::min(h, held(a->second.source.peer, depth + 1)));
    }
    out[id] = h;
    return h;
  };
  for (const auto& [id, l] : laptops_) held(id, 0);
  return out;
}

// What a laptop whose link was never measured is planned with: the fastest link measured on
// this network so far, never more than the configured default. Measured goodput is always
// below a port's nominal rate, so planning the unmeasured with the default made every newcomer
// look faster than the laptops already measured and put it ahead of them, though they held
// more (issue 14's relay_netns: the first laptop queued behind the second).
// A measurement far below the default calibrates nothing: it is a slow laptop (a 100 Mbit/s
// dongle, a bad cable). Taken as typical, one slow laptop measured first made the scheduler
// plan everyone at its rate and feed them side by side from the server, at a third of their
// speed each (workshop_sim "one 30 Mbit/s" with the slow laptop first: 2.9x T1).
BytesPerSecond Scheduler::typical_link() const {
  BytesPerSecond fastest = 0;
  for (const auto& [id, l] : laptops_) {
    if (l.link_known) fastest = std::max(fastest, l.link);
  }
  const BytesPerSecond nominal = config_.default_port_rate;
  if (fastest < kCalibratesAbove * nominal) return nominal;
  return std::min(fastest, nominal);
}

std::vector<Node> Scheduler::snapshot(Seconds now) const {
  const std::map<LaptopId, double> holdings = estimated_holdings(now);
  const BytesPerSecond typical = typical_link();
  std::map<std::string, int> image_index;
  for (const auto& [name, shape] : config_.images) {
    image_index.emplace(name, static_cast<int>(image_index.size()));
  }
  std::vector<Node> nodes;
  nodes.reserve(laptops_.size());
  for (const auto& [id, l] : laptops_) {
    Node n;
    n.id = id;
    n.image = image_index.at(l.image);
    n.complete = l.finished || l.holds_everything();
    n.needs_source = !n.complete && !l.stalled;
    n.can_parent = can_parent(l, now);
    n.keep_allowed = !l.replace;
    if (auto a = plan_.laptops.find(id); a != plan_.laptops.end()) {
      n.current = a->second.source;
      n.current_broken = l.source_broken;
      n.current_depth = a->second.depth;
    }
    n.chunk = l.shape.stored_chunk();
    const double held = holdings.at(id);
    n.held = held * n.chunk;
    n.remaining = (static_cast<double>(l.shape.data_chunks) - held) * n.chunk;
    const BytesPerSecond link = l.link_known ? l.link : typical;
    n.intake = l.intake_with(link);
    n.uplink = link;  // full-duplex port: it sends as fast as it receives
    n.joined_at = l.joined_at;
    if (l.finished) n.leaves_at = l.finished_at + l.relay_linger;
    nodes.push_back(n);
  }
  return nodes;
}

Plan Scheduler::build_plan(const Placement& placement, Seconds now) const {
  const std::map<LaptopId, double> holdings = estimated_holdings(now);
  Plan plan;
  for (const auto& [id, l] : laptops_) {
    Assignment a;
    a.held = holdings.at(id);
    a.relays = can_parent(l, now);
    auto before = plan_.laptops.find(id);
    if (l.finished) {
      a.role = Role::finished;
      a.eta = now;
    } else if (l.stalled) {
      a.role = Role::stalled;
      if (before != plan_.laptops.end()) a.source = before->second.source;
    } else if (l.holds_everything()) {
      a.eta = now;  // deploying still (fitting, provisioning), fetching nothing
    } else {
      const detail::Placed& p = placement.laptops.at(id);
      a.source = p.source;
      a.planned_rate = p.share;
      a.depth = p.depth;
      a.eta = p.eta;
    }
    plan.laptops.emplace(id, a);
  }
  // A stalled laptop keeps its source only while that source is still a live parent, else it
  // is pointed at the server, which can always serve (outside the budget: a stalled laptop
  // costs none). A dead relay's child is often suspected itself, because its own children
  // found it empty; left on the dead parent it only recovered once its agent gave up on the
  // peer by itself, seconds later (relay_netns, on a loaded CI machine: 8 s).
  for (auto& [id, a] : plan.laptops) {
    if (a.role != Role::stalled) continue;
    bool live_parent = false;
    if (a.source.kind == SourceKind::peer) {
      auto p = plan.laptops.find(a.source.peer);
      live_parent = p != plan.laptops.end() && p->second.role != Role::stalled;
    }
    if (live_parent) continue;
    a.source = laptops_.at(id).holds_everything() ? Source{} : Source::server();
  }
  for (const auto& [id, a] : plan.laptops) {  // ascending ids: serves lists come out sorted
    if (a.source.kind == SourceKind::peer) plan.laptops.at(a.source.peer).serves.push_back(id);
    if (a.role == Role::deploying && a.source.kind == SourceKind::server) {
      plan.server_admitted.push_back(id);
    }
  }
  plan.server_queue = placement.queue;
  plan.server_committed = placement.server_committed;
  mark_spare_relays(plan);
  for (auto& [id, a] : plan.laptops) {
    auto before = plan_.laptops.find(id);
    a.reason =
        reason(laptops_.at(id), a, before == plan_.laptops.end() ? nullptr : &before->second);
  }
  return plan;
}

// A finished laptop serving nobody may leave (reboot to its disk), except a few kept as idle
// relays while others still deploy its image: a late joiner or a re-parented child then gets
// a source that holds everything, instead of a tail that is still filling.
void Scheduler::mark_spare_relays(Plan& plan) const {
  std::map<std::string, int> spares_left;
  for (const auto& [id, l] : laptops_) {
    if (!l.finished) spares_left[l.image] = config_.spare_finished_relays;
  }
  for (auto& [id, a] : plan.laptops) {
    if (a.role != Role::finished || !a.serves.empty()) continue;
    const Laptop& l = laptops_.at(id);
    auto spare = spares_left.find(l.image);
    const bool useful = config_.relay_allowed && l.can_relay && banned_.count({id, l.image}) == 0 &&
                        spare != spares_left.end() && spare->second > 0;
    if (useful) {
      --spare->second;
    } else {
      a.may_leave = true;
    }
  }
}

std::string Scheduler::reason(const Laptop& l, const Assignment& a,
                              const Assignment* before) const {
  if (a.role == Role::finished) {
    if (a.may_leave) return "done";
    if (a.serves.empty()) return "done: kept as a spare relay";
    std::string s = "done: serving";
    for (std::size_t i = 0; i < a.serves.size() && i < 4; ++i) {
      s += (i ? ", " : " ") + std::to_string(a.serves[i]);
    }
    if (a.serves.size() > 4) s += " and " + std::to_string(a.serves.size() - 4) + " more";
    return s;
  }
  if (a.role == Role::stalled) return l.stall_reason;
  if (a.source.kind == SourceKind::none) return "holds every chunk: finishing";
  if (a.source.kind == SourceKind::queued) {
    return "queued: " + ordinal(a.source.place) +
           (config_.relay_allowed ? ", no source with upload to spare" : ", server port full");
  }
  const bool changed = !before || before->role != a.role || !(before->source == a.source);
  if (!changed) return before->reason;
  if (!l.pending_reason.empty()) return l.pending_reason;
  return to_string(a.source);
}

}  // namespace revive::sched
