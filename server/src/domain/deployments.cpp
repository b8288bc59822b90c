#include "domain/deployments.hpp"

#include <algorithm>

#include "domain/relay_address.hpp"

namespace revive::server {

using protocol::SourceAssignment;

namespace {

// What the agent acts on; a new reason alone (a dashboard's text) is no re-plan for it.
bool same_source(const SourceAssignment& a, const SourceAssignment& b) {
  return a.kind == b.kind && a.peer == b.peer && a.url == b.url && a.place == b.place;
}

sched::SourceFault fault_of(const protocol::SourceFailure& f) {
  if (f.bad_chunk) return sched::SourceFault::bad_chunk;
  return f.reason.starts_with("stalled") ? sched::SourceFault::stalled : sched::SourceFault::dead;
}

sched::ChunkRanges held_prefix(std::uint64_t chunks_held, const sched::ImageShape& shape) {
  return sched::ChunkRanges::first(std::min(chunks_held, shape.data_chunks));
}

}  // namespace

std::optional<double> wired_link_rate(const Json& inventory) {
  const Json nics = inventory.is_object() ? inventory.value("nics", Json()) : Json();
  if (!nics.is_array()) return std::nullopt;
  std::optional<double> fastest;
  for (const Json& n : nics) {
    if (!n.is_object() || n.value("wireless", Json(false)) != Json(false)) continue;
    const Json mbps = n.value("speed_mbps", Json());
    if (!mbps.is_number() || mbps.get<double>() <= 0) continue;
    const double rate = mbps.get<double>() * 1e6 / 8;
    fastest = std::max(fastest.value_or(0), rate);
  }
  return fastest;
}

Deployments::Deployments(DomainContext& ctx, LiveSteps& live, ImageLookup images,
                         MonotonicClock clock, DeploymentOptions opts)
    : ctx_(ctx),
      live_(live),
      images_(std::move(images)),
      clock_(std::move(clock)),
      opts_(opts),
      // Epochs count from the start time in microseconds, so they keep growing across a
      // server restart: an agent ignores an epoch older than the one it follows.
      epoch_(ctx.now() * 1'000'000) {
  sched::Config config;
  config.server_port_rate = opts_.server_port_rate;
  // Until measured, a laptop's port is taken to be as fast as the server's: a workshop's
  // switch usually runs every port at one speed.
  config.default_port_rate = opts_.server_port_rate;
  config.relay_allowed = opts_.relay;
  config.spare_finished_relays = std::max(0, opts_.spare_finished_relays);
  auto s = sched::Scheduler::create(config);
  if (s) {
    scheduler_.emplace(std::move(*s));
  } else {
    scheduler_missing_ = s.error().message;
  }
}

std::optional<SourceAssignment> Deployments::progress(std::int64_t device, std::int64_t step,
                                                      const protocol::DeployProgress& report,
                                                      const std::string& peer_ip) {
  std::lock_guard lock(mutex_);
  const LiveSteps::Live* running = live_.find(step, device);
  if (!running || running->kind != StepKind::deploy) return std::nullopt;
  const double now = clock_();
  auto it = members_.find(device);
  Member* m = nullptr;
  if (it != members_.end() && !restarted(it->second, step, report, peer_ip)) {
    m = &it->second;
    account_bytes(*m, report);
  } else {
    m = join(device, step, report, peer_ip, now);
  }
  m->last_heard = now;
  if (m->planned) feed_progress(device, *m, report, now);
  m->chunks_held = report.chunks_held;
  return answer(device, *m);
}

// A report that cannot come from the laptop's deploy as we know it: another step (a new run)
// or image, a restarted agent (its relay listens elsewhere, or it holds fewer chunks than it
// said: resumed from an older checkpoint), or a new attempt after its step ended.
bool Deployments::restarted(const Member& m, std::int64_t step,
                            const protocol::DeployProgress& report, const std::string& peer_ip) {
  return m.relaying || m.step != step || m.image_id != report.image_id || m.ip != peer_ip ||
         m.relay_port != report.relay_port || report.chunks_held < m.chunks_held;
}

Deployments::Member* Deployments::join(std::int64_t device, std::int64_t step,
                                       const protocol::DeployProgress& report,
                                       const std::string& peer_ip, double now) {
  Member fresh;
  fresh.step = step;
  fresh.image_id = report.image_id;
  fresh.ip = peer_ip;
  fresh.relay_port = report.relay_port;
  fresh.chunks_held = report.chunks_held;
  fresh.last_heard = now;
  bool was_planned = false;
  if (auto it = members_.find(device); it != members_.end()) {
    was_planned = it->second.planned;
    fresh.sent = it->second.sent;   // the epoch moves only if the answer changes
    if (it->second.step == step) {  // a restarted agent: the same deploy step goes on
      fresh.bytes_from_server = it->second.bytes_from_server;
      fresh.bytes_from_peers = it->second.bytes_from_peers;
      fresh.replans = it->second.replans;
    }
  }
  Member& m = members_[device] = std::move(fresh);
  if (auto why = plannable(m, step, report)) {
    m.unplanned_why = *why;
    if (was_planned) apply(sched::Left{device}, now);
    return &m;
  }
  // Joined again on a known laptop is a restart for the scheduler: its children move.
  const bool joined = apply(sched::Joined{.laptop = device,
                                          .image = report.image_id,
                                          .held = held_prefix(report.chunks_held, *m.shape),
                                          .disk_rate = disk_rate_of(device),
                                          .link_rate = slow_link_of(device),
                                          .can_relay = report.relay_port != 0},
                            now);
  if (!joined) {
    m.unplanned_why = "the scheduler refused it";
    if (was_planned) apply(sched::Left{device}, now);
    return &m;
  }
  m.planned = true;
  return &m;
}

// Why the scheduler cannot plan this laptop, or nullopt when it can. The image's shape is
// found either way (bytes by source are counted for every laptop).
std::optional<std::string> Deployments::plannable(Member& m, std::int64_t step,
                                                  const protocol::DeployProgress& report) {
  auto known = shapes_.find(report.image_id);
  if (known == shapes_.end()) {
    auto name = image_name_of(step);
    if (!name) return "its image cannot be looked up: " + name.error().message;
    if (!*name) return std::string("its deploy step names no image");
    auto facts = images_(**name);
    if (!facts) return "image " + **name + ": " + facts.error().message;
    if (facts->image_id != report.image_id)
      return "it deploys an earlier import of image " + **name + " than the store holds";
    known = shapes_.emplace(facts->image_id, facts->shape).first;
  }
  m.shape = known->second;
  if (!opts_.relay) return std::string("relay is off");
  if (!scheduler_) return "no scheduler: " + scheduler_missing_;
  if (report.chunk_count != m.shape->data_chunks) {
    return "it counts " + std::to_string(report.chunk_count) + " chunks, the manifest " +
           std::to_string(m.shape->data_chunks);
  }
  if (auto added = scheduler_->add_image(report.image_id, *m.shape); !added)
    return added.error().message;
  return std::nullopt;
}

// The image the deploy step installs: its own parameter, else its run's (the batch's) image.
Result<std::optional<std::string>> Deployments::image_name_of(std::int64_t step) {
  Storage& s = ctx_.storage();
  REVIVE_ASSIGN(row, s.runs().step(step));
  if (!row) return std::optional<std::string>();
  const Json image = row->params.is_object() ? row->params.value("image", Json()) : Json();
  if (image.is_string()) return std::optional<std::string>(image.get<std::string>());
  REVIVE_ASSIGN(run, s.runs().find(row->run_id));
  return run ? run->image : std::optional<std::string>();
}

// The disk's read rate from the laptop's latest test step: a first guess at what its disk
// takes (deploy progress reports measure the write rate later). nullopt when none is known.
std::optional<double> Deployments::disk_rate_of(std::int64_t device) {
  auto r = ctx_.storage().runs().latest_result(device, StepKind::test, StepStatus::ok);
  if (!r || !*r || !(*r)->result.is_object()) return std::nullopt;
  const Json tests = (*r)->result.value("tests", Json());
  if (!tests.is_object()) return std::nullopt;
  const Json disk = tests.value("disk_read", Json());
  if (!disk.is_object()) return std::nullopt;
  const Json mb_s = disk.value("mb_s", Json());
  if (!mb_s.is_number() || mb_s.get<double>() <= 0) return std::nullopt;
  return mb_s.get<double>() * 1e6;
}

// A NIC that negotiated less than the workshop's ports (a 100 Mbit/s laptop on a gigabit
// switch) limits the laptop from its first chunk: told at once, the scheduler puts it at a
// chain's tail from the start instead of letting it head a chain, and every laptop behind it
// crawl, until its first reports measure it. A faster NIC says nothing about the switch port,
// which the scheduler assumes is the server's port rate until measured.
std::optional<double> Deployments::slow_link_of(std::int64_t device) {
  auto inventory = ctx_.storage().devices().inventory(device);
  if (!inventory || !*inventory) return std::nullopt;
  const std::optional<double> nic = wired_link_rate(**inventory);
  if (!nic || *nic >= opts_.server_port_rate) return std::nullopt;
  return nic;
}

void Deployments::feed_progress(std::int64_t device, Member& m,
                                const protocol::DeployProgress& report, double now) {
  const sched::ImageShape& shape = *m.shape;
  const auto held = std::min(report.chunks_held, shape.data_chunks);
  apply(
      sched::Progressed{
          .laptop = device,
          .held = held_prefix(held, shape),
          .bytes_received =
              static_cast<std::uint64_t>(static_cast<double>(held) * shape.stored_chunk()),
          .receive_rate =
              report.receive_rate > 0 ? std::optional(report.receive_rate) : std::nullopt,
          .disk_rate = report.write_rate > 0 ? std::optional(report.write_rate) : std::nullopt},
      now);
  if (report.source_failed && report.source_failed->peer > 0) {
    const protocol::SourceFailure& f = *report.source_failed;
    // Agents repeat a failure until they are answered: only a failure of the peer it was told
    // to use counts, and a bad chunk once per peer (it bans the peer for good).
    const bool current =
        m.sent && m.sent->kind == SourceAssignment::Kind::peer && m.sent->peer == f.peer;
    const bool new_bad_chunk = f.bad_chunk && std::find(m.bad_peers.begin(), m.bad_peers.end(),
                                                        f.peer) == m.bad_peers.end();
    if (current || new_bad_chunk) {
      if (f.bad_chunk) m.bad_peers.push_back(f.peer);
      ++source_failures_;
      apply(sched::SourceFailed{.laptop = device, .peer = f.peer, .fault = fault_of(f)}, now);
    }
  }
  if (!m.finished && report.chunk_count > 0 && report.chunks_held >= report.chunk_count)
    finish(device, m, now);
}

// Chunks gained since the last report, at the image's average stored chunk, counted for the
// source the agent says it fetched from.
void Deployments::account_bytes(Member& m, const protocol::DeployProgress& report) {
  if (!m.shape || report.chunks_held <= m.chunks_held) return;
  const auto bytes = static_cast<std::uint64_t>(
      static_cast<double>(report.chunks_held - m.chunks_held) * m.shape->stored_chunk());
  if (report.source.starts_with("peer")) {
    bytes_from_peers_ += bytes;
    m.bytes_from_peers += bytes;
  } else {
    bytes_from_server_ += bytes;
    m.bytes_from_server += bytes;
  }
}

void Deployments::finish(std::int64_t device, Member& m, double now) {
  m.finished = true;
  apply(sched::Finished{.laptop = device, .relay_linger = relay_linger(m)}, now);
}

// How long the laptop goes on relaying once its deploy is done, at the least: the
// relay_linger_s of its run's finish step (unset, or the storage failed: the scheduler's
// default, which is the agent's). A run without a finish step ends when its last step does,
// and the agent's relay with it: nothing promised.
std::optional<double> Deployments::relay_linger(const Member& m) const {
  auto deploy = ctx_.storage().runs().step(m.step);
  if (!deploy || !*deploy) return std::nullopt;
  auto steps = ctx_.storage().runs().steps((*deploy)->run_id);
  if (!steps) return std::nullopt;
  for (const StepRow& s : *steps) {
    if (s.seq <= (*deploy)->seq || s.kind != StepKind::finish) continue;
    const auto linger = s.params.find("relay_linger_s");  // end() unless an object has it
    if (linger == s.params.end() || !linger->is_number()) return std::nullopt;
    return linger->get<double>();
  }
  return 0.0;
}

// Its deploy step is no longer running: done, it holds the image and may relay; otherwise
// (failed, timed out, skipped, cancelled) it is no source.
void Deployments::step_ended(std::int64_t device, Member& m, double now) {
  auto row = ctx_.storage().runs().step(m.step);
  if (!row) {
    ++scheduler_errors_;  // the storage failed: look again on the next tick
    return;
  }
  step_over(device, m, *row && (*row)->state == StepState::done, now);
}

void Deployments::step_over(std::int64_t device, Member& m, bool done, double now) {
  if (!done) {
    leave(device, true, now);
    return;
  }
  if (!m.planned || m.relay_port == 0) {
    leave(device, false, now);
    return;
  }
  if (!m.finished) finish(device, m, now);
  m.relaying = true;
  m.last_heard = now;  // its first relay report is a moment away
}

void Deployments::leave(std::int64_t device, bool failed, double now) {
  auto it = members_.find(device);
  if (it == members_.end()) return;
  if (it->second.planned) {
    if (failed) {
      apply(sched::Failed{device}, now);
    } else {
      apply(sched::Left{device}, now);
    }
  }
  members_.erase(it);
}

protocol::RelayAck Deployments::relay(std::int64_t device, const protocol::RelayReport& report,
                                      const std::string& peer_ip) {
  std::lock_guard lock(mutex_);
  const double now = clock_();
  auto it = members_.find(device);
  if (it == members_.end()) return {true};  // not in the plan: nobody fetches from it
  Member& m = it->second;
  const bool whole = m.shape && report.chunks_held >= m.shape->data_chunks;
  if (!m.planned || report.image_id != m.image_id || !whole) {
    leave(device, !whole, now);
    ++releases_;
    return {true};
  }
  if (!m.finished) finish(device, m, now);
  m.relaying = true;
  m.last_heard = now;
  // Its children are told the new address with their next answer.
  m.ip = peer_ip;
  m.relay_port = report.relay_port;
  const auto& plan = scheduler_->plan().laptops;
  auto a = plan.find(device);
  if (a != plan.end() && !a->second.may_leave && !image_done(m.image_id)) return {false};
  leave(device, false, now);
  ++releases_;
  return {true};
}

bool Deployments::image_done(const std::string& image_id) const {
  return std::none_of(members_.begin(), members_.end(), [&](const auto& kv) {
    const Member& o = kv.second;
    return o.image_id == image_id && !o.finished && !o.relaying;
  });
}

void Deployments::step_recorded(std::int64_t device, std::int64_t step, bool ok) {
  std::lock_guard lock(mutex_);
  auto it = members_.find(device);
  if (it == members_.end() || it->second.step != step || it->second.relaying) return;
  step_over(device, it->second, ok, clock_());
}

std::optional<Json> Deployments::delivery(std::int64_t device, std::int64_t step) const {
  std::lock_guard lock(mutex_);
  auto it = members_.find(device);
  if (it == members_.end() || it->second.step != step) return std::nullopt;
  const Member& m = it->second;
  return Json{{"bytes_from_server", m.bytes_from_server},
              {"bytes_from_peers", m.bytes_from_peers},
              {"replans", m.replans}};
}

void Deployments::server_sent(std::uint64_t bytes) {
  std::lock_guard lock(mutex_);
  server_port_bytes_ += bytes;
}

void Deployments::tick() {
  std::lock_guard lock(mutex_);
  const double now = clock_();
  std::vector<std::int64_t> devices;
  for (const auto& [device, m] : members_) devices.push_back(device);
  for (std::int64_t device : devices) {
    auto it = members_.find(device);
    if (it == members_.end()) continue;
    Member& m = it->second;
    if (!m.relaying && !live_.find(m.step, device)) {
      step_ended(device, m, now);
      continue;
    }
    const double silence = m.relaying ? opts_.relay_silence_s : opts_.deploy_silence_s;
    if (now - m.last_heard > silence) leave(device, false, now);
  }
  if (scheduler_ && opts_.relay) apply(sched::Tick{}, now);  // relay off: nothing to plan
}

// What the plan says the laptop fetches from now; nullopt when it fetches nothing (finished).
std::optional<SourceAssignment> Deployments::wanted(std::int64_t device, const Member& m) const {
  SourceAssignment a;  // the server
  if (!m.planned) {
    a.reason = m.unplanned_why;
    return a;
  }
  const auto& plan = scheduler_->plan().laptops;
  auto it = plan.find(device);
  if (it == plan.end()) {
    a.reason = "not in the plan";
    return a;
  }
  const sched::Source& s = it->second.source;
  a.reason = it->second.reason;
  switch (s.kind) {
    case sched::SourceKind::none:
      return std::nullopt;
    case sched::SourceKind::server:
      return a;
    case sched::SourceKind::queued:
      a.kind = SourceAssignment::Kind::queued;
      a.place = s.place;
      return a;
    case sched::SourceKind::peer:
      break;
  }
  auto parent = members_.find(s.peer);
  const std::string url =
      parent == members_.end() ? "" : relay_url(parent->second.ip, parent->second.relay_port);
  if (url.empty()) {
    a.reason = "server: peer " + std::to_string(s.peer) + " has no relay address";
    return a;
  }
  a.kind = SourceAssignment::Kind::peer;
  a.peer = s.peer;
  a.url = url;
  return a;
}

SourceAssignment Deployments::answer(std::int64_t device, Member& m) {
  auto want = wanted(device, m);
  if (!want) {
    if (m.sent) return *m.sent;  // finished: nothing more to fetch, keep what it had
    want = SourceAssignment{};
    want->reason = "done";
  }
  if (!m.sent || !same_source(*m.sent, *want)) {
    if (m.sent) ++m.replans;
    want->epoch = ++epoch_;
    m.sent = *want;
  } else {
    m.sent->reason = want->reason;
  }
  return *m.sent;
}

bool Deployments::apply(const sched::Event& event, double now) {
  if (!scheduler_) return false;
  auto r = scheduler_->handle(event, now);
  if (r) return true;
  ++scheduler_errors_;
  return false;
}

std::optional<SourceAssignment> Deployments::assignment_of(std::int64_t device) const {
  std::lock_guard lock(mutex_);
  auto it = members_.find(device);
  return it == members_.end() ? std::nullopt : it->second.sent;
}

DeploymentStats Deployments::stats() const {
  std::lock_guard lock(mutex_);
  DeploymentStats s;
  s.server_port_rate = opts_.server_port_rate;
  s.server_port_bytes = server_port_bytes_;
  s.bytes_from_server = bytes_from_server_;
  s.bytes_from_peers = bytes_from_peers_;
  s.source_failures = source_failures_;
  s.releases = releases_;
  s.scheduler_errors = scheduler_errors_;
  for (const char* kind : {"server", "peer", "queued", "finished"}) s.laptops[kind] = 0;
  if (scheduler_) {
    s.server_committed = scheduler_->plan().server_committed;
    s.scheduler = scheduler_->stats();
  }
  for (const auto& [device, m] : members_) {
    if (m.finished || m.relaying) {
      ++s.laptops["finished"];
    } else if (m.sent) {
      ++s.laptops[std::string(protocol::to_string(m.sent->kind))];
    }
  }
  return s;
}

}  // namespace revive::server
