// The scheduler's event side: what each event changes in the laptops' state, and whether it
// calls for a re-plan. The re-planning itself is in scheduler_plan.cpp.

#include "revive/sched/scheduler.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <variant>

namespace revive::sched {

using detail::Laptop;

Result<Scheduler> Scheduler::create(Config config) {
  REVIVE_TRY(validate(config));
  return Scheduler(std::move(config));
}

Scheduler::Scheduler(Config config) : config_(std::move(config)) {}

Result<void> Scheduler::add_image(const std::string& name, const ImageShape& shape) {
  REVIVE_TRY(validate(name, shape));
  auto [it, inserted] = config_.images.emplace(name, shape);
  if (!inserted && !(it->second == shape)) {
    return make_error(Errc::conflict, "image " + name + " is known with another shape");
  }
  return {};
}

Result<PlanDiff> Scheduler::handle(const Event& event, Seconds now) {
  if (now < last_event_) {
    return make_error(Errc::invalid_input, "scheduler: event at " + std::to_string(now) +
                                               " s is before the previous one at " +
                                               std::to_string(last_event_) + " s");
  }
  auto due = std::visit([&](const auto& e) { return on(e, now); }, event);
  if (!due) return due.error();
  last_event_ = now;
  ++stats_.events;
  bool replan_due = *due;
  replan_due = detect_stalls(now) || replan_due;
  const bool deploying = std::any_of(laptops_.begin(), laptops_.end(),
                                     [](const auto& kv) { return !kv.second.finished; });
  if (deploying && now - last_replan_ >= config_.replan_interval) replan_due = true;
  PlanDiff diff;
  if (replan_due) diff = replan(now);
  mark_told(event);
  return diff;
}

// The laptop whose report (or join) this was gets the plan as it stands now in its answer.
void Scheduler::mark_told(const Event& event) {
  LaptopId id = 0;
  if (const auto* j = std::get_if<Joined>(&event)) id = j->laptop;
  if (const auto* p = std::get_if<Progressed>(&event)) id = p->laptop;
  if (auto it = laptops_.find(id); it != laptops_.end()) it->second.source_told = true;
}

Result<Laptop*> Scheduler::find(LaptopId id) {
  auto it = laptops_.find(id);
  if (it == laptops_.end()) {
    return make_error(Errc::not_found,
                      "scheduler: laptop " + std::to_string(id) + " is not deploying");
  }
  return &it->second;
}

Result<bool> Scheduler::on(const Joined& e, Seconds now) {
  auto image = config_.images.find(e.image);
  if (image == config_.images.end()) {
    return make_error(Errc::not_found, "scheduler: image " + e.image + " is not known");
  }
  auto [it, is_new] = laptops_.try_emplace(e.laptop);
  Laptop& l = it->second;
  if (!is_new) {
    // A reboot or a retried step: its relay restarted, so its children look elsewhere; its
    // strikes and bans stay (it is the same machine).
    orphan_children(e.laptop, "re-parented: peer " + std::to_string(e.laptop) + " restarted");
    l.pending_reason = "rejoined: resuming from its checkpoint";
  } else {
    l.joined_at = now;
    l.link = config_.default_port_rate;
  }
  l.id = e.laptop;
  l.image = e.image;
  l.shape = image->second;
  l.can_relay = e.can_relay;
  l.held = e.held;
  l.held_at = now;
  l.bytes_received = 0;
  l.last_progress_at = now;
  l.source_told = false;
  l.told_reports = 0;
  l.moved = false;
  if (e.link_rate) {
    l.link = *e.link_rate;
    l.link_known = true;
  }
  if (e.disk_rate) l.disk = *e.disk_rate;
  l.finished = false;
  l.stalled = false;
  l.replace = true;
  return true;
}

Result<bool> Scheduler::on(const Progressed& e, Seconds now) {
  auto found = find(e.laptop);
  if (!found) return found.error();
  Laptop& l = **found;
  if (l.finished) return false;  // a late report: it holds everything already
  const bool advanced = e.held.count() > l.held.count() || e.bytes_received > l.bytes_received;
  // Measured wholly on its current source only if it was told that source before this
  // interval began (in the answer to its previous report, or to its join).
  const bool steady = l.source_told;
  if (steady) ++l.told_reports;
  const bool had_everything = l.holds_everything();
  l.held = e.held;
  l.held_at = now;
  l.bytes_received = std::max(l.bytes_received, e.bytes_received);
  if (advanced) l.last_progress_at = now;
  bool due = !had_everything && l.holds_everything();  // needs no source: its share frees up
  if (l.stalled && advanced) {
    l.stalled = false;
    l.replace = true;
    l.pending_reason = "recovered: progressing again";
    due = true;
  }
  if (detail::update_estimates(l, e.receive_rate, e.disk_rate,
                               steady ? parent_view(l) : std::nullopt, config_)) {
    l.replace = true;
    l.pending_reason = speed_note(l);
    due = true;
  }
  return due;
}

// What a laptop's receive rate was measured against: empty when it had no source.
std::optional<detail::ParentView> Scheduler::parent_view(const Laptop& l) const {
  auto a = plan_.laptops.find(l.id);
  if (a == plan_.laptops.end() || a->second.role != Role::deploying) return std::nullopt;
  const Source& s = a->second.source;
  if (s.kind == SourceKind::server) return detail::ParentView{true, 0, a->second.planned_rate};
  if (s.kind != SourceKind::peer) return std::nullopt;
  auto p = laptops_.find(s.peer);
  if (p == laptops_.end()) return std::nullopt;
  const Laptop& parent = p->second;
  return detail::ParentView{parent.finished || parent.holds_everything(),
                            static_cast<double>(parent.held_chunks()), a->second.planned_rate};
}

// "moved: its disk writes 85 MB/s": what limits it now.
std::string Scheduler::speed_note(const Laptop& l) {
  const bool disk_limits = l.disk && *l.disk * l.shape.stored_per_raw() < l.link;
  char note[96];
  std::snprintf(note, sizeof note, "moved: its %s %.0f MB/s",
                disk_limits ? "disk writes" : "link takes", (disk_limits ? *l.disk : l.link) / 1e6);
  return note;
}

// A relay its child reports is taken out of the chain at once: its children go to other
// sources and it goes to the back of the placement order, so the budget above it is free for
// them. Reported dead, or stalled while it held chunks the child lacked, it is suspected
// stalled until it reports progress again (a dead laptop never will); after a bad chunk it
// keeps deploying, but never relays again.
Result<bool> Scheduler::on(const SourceFailed& e, Seconds now) {
  auto found = find(e.laptop);
  if (!found) return found.error();
  if (!e.peer) return false;  // the server itself: there is no other source to move to
  const std::string image = (*found)->image;
  const std::string peer = "peer " + std::to_string(*e.peer);
  if (e.fault == SourceFault::bad_chunk) banned_.emplace(*e.peer, image);
  auto p = laptops_.find(*e.peer);
  if (p == laptops_.end()) return false;  // gone already: its children were moved then
  switch (e.fault) {
    case SourceFault::bad_chunk:
      orphan_children(*e.peer, "re-parented: " + peer + " served a bad chunk");
      p->second.replace = true;
      break;
    case SourceFault::dead:
      suspect(p->second, now, "re-parented: " + peer + " stopped answering",
              "stalled: laptop " + std::to_string(e.laptop) + " found it not answering");
      break;
    case SourceFault::stalled:
      // A relay whose own source died has nothing more for its child: the child goes
      // elsewhere, the relay is not to blame (it re-parents itself when it reports its source).
      if (p->second.held_chunks() <= (*found)->held_chunks() + config_.lag_chunks) {
        (*found)->pending_reason = "re-parented: " + peer + " had nothing more to send";
        (*found)->source_broken = true;
        break;
      }
      suspect(p->second, now, "re-parented: " + peer + " stalled",
              "stalled: laptop " + std::to_string(e.laptop) + " found it not sending");
      break;
  }
  return true;
}

void Scheduler::suspect(Laptop& l, Seconds now, const std::string& why,
                        const std::string& own_reason) {
  orphan_children(l.id, why);
  l.relay_down_until = now + config_.relay_cooldown;
  if (++l.relay_strikes >= config_.relay_strikes) banned_.emplace(l.id, l.image);
  if (l.finished) return;  // holds everything; just not a parent for a while
  l.stalled = true;
  l.stall_reason = own_reason;
  l.replace = true;
}

Result<bool> Scheduler::on(const Finished& e, Seconds now) {
  auto found = find(e.laptop);
  if (!found) return found.error();
  Laptop& l = **found;
  if (!l.finished) l.finished_at = now;
  l.finished = true;
  l.relay_linger = std::max(0.0, e.relay_linger.value_or(config_.finished_relay_linger));
  l.stalled = false;
  l.held = ChunkRanges::first(l.shape.data_chunks);
  return true;
}

Result<bool> Scheduler::on(const Failed& e, Seconds) { return remove(e.laptop, "failed"); }

Result<bool> Scheduler::on(const Left& e, Seconds) { return remove(e.laptop, "left"); }

Result<bool> Scheduler::on(const Tick&, Seconds) { return false; }

Result<bool> Scheduler::remove(LaptopId id, const std::string& why) {
  auto found = find(id);
  if (!found) return found.error();
  orphan_children(id, "re-parented: peer " + std::to_string(id) + " " + why);
  laptops_.erase(id);
  return true;
}

void Scheduler::orphan_children(LaptopId parent, const std::string& why) {
  auto a = plan_.laptops.find(parent);
  if (a == plan_.laptops.end()) return;
  for (LaptopId child : a->second.serves) {
    if (auto c = laptops_.find(child); c != laptops_.end()) {
      c->second.pending_reason = why;
      c->second.source_broken = true;
    }
  }
}

// No progress for about two chunk-times (never less than a few report intervals: progress
// is only seen when reported) while its source had chunks for it. Empty when its silence would
// mean nothing: not deploying from a source (queued, stalled, done), or waiting on a parent
// that has nothing more for it, which restarts its clock.
std::optional<bool> Scheduler::silent(Laptop& l, Seconds now) {
  if (l.finished || l.stalled) return std::nullopt;
  auto a = plan_.laptops.find(l.id);
  if (a == plan_.laptops.end() || a->second.role != Role::deploying) return std::nullopt;
  const Source& s = a->second.source;
  if (s.kind != SourceKind::server && s.kind != SourceKind::peer) return std::nullopt;
  const BytesPerSecond rate = std::max(a->second.planned_rate, 1.0);
  const Seconds timeout = std::max(config_.stall_reports * config_.report_interval,
                                   config_.stall_chunk_times * l.shape.stored_chunk() / rate);
  if (s.kind == SourceKind::peer) {
    auto p = laptops_.find(s.peer);
    const bool has_more =
        p != laptops_.end() && (p->second.finished || p->second.held_chunks() > l.held_chunks());
    if (!has_more) {
      l.last_progress_at = now;
      return std::nullopt;
    }
  }
  return now - l.last_progress_at > timeout;
}

// A dead relay silences its whole subtree: only the topmost silent laptop is to blame.
// Every watched laptop silent at once is nobody's fault among them: the server itself was held
// up (its disk busy under the database, a paused VM) or the whole network was, and no other
// source would do better. Blaming the head of the chain then tore a working workshop apart
// (bench/workshop.sh, slow scenario, with another job saturating the machine's disk: every agent
// and the server paused 4 s, the head was suspected and re-queued, and the others took 1.4x
// their clean time). A dead head is still found by its children (SourceFailed).
bool Scheduler::detect_stalls(Seconds now) {
  std::set<LaptopId> quiet;
  std::size_t watched = 0;
  for (auto& [id, l] : laptops_) {
    const std::optional<bool> s = silent(l, now);
    if (!s) continue;
    ++watched;
    if (*s) quiet.insert(id);
  }
  if (quiet.size() >= 2 && quiet.size() == watched) return false;
  bool any = false;
  for (LaptopId id : quiet) {
    const Source& s = plan_.laptops.at(id).source;
    if (s.kind == SourceKind::peer && quiet.count(s.peer) != 0) continue;
    Laptop& l = laptops_.at(id);
    char silence[64];
    std::snprintf(silence, sizeof silence, "stalled: no progress for %.1f s",
                  now - l.last_progress_at);
    suspect(l, now, "re-parented: peer " + std::to_string(id) + " stalled", silence);
    any = true;
  }
  return any;
}

bool Scheduler::can_parent(const Laptop& l, Seconds now) const {
  return config_.relay_allowed && l.can_relay && !l.stalled && now >= l.relay_down_until &&
         banned_.count({l.id, l.image}) == 0;
}

}  // namespace revive::sched
