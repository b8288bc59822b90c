#include "workshop_model.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <numeric>

#include "revive/sched/scheduler.hpp"

namespace revive::bench {

double DiskModel::time_for(double bytes) const {
  if (bytes <= cache_bytes) return bytes / fast;
  return cache_bytes / fast + (bytes - cache_bytes) / slow;
}

sched::ImageShape ImageSpec::shape() const {
  return {chunks, static_cast<std::uint64_t>(stored_bytes), static_cast<std::uint64_t>(raw_bytes)};
}

double physical_bound(const LaptopSpec& l, const ImageSpec& image) {
  return std::max({image.stored_bytes / l.link, l.disk.time_for(image.raw_bytes),
                   image.raw_bytes / l.decompress});
}

std::vector<double> water_fill(double capacity, const std::vector<double>& caps) {
  std::vector<std::size_t> order(caps.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](auto a, auto b) { return caps[a] < caps[b]; });
  std::vector<double> rates(caps.size(), 0);
  double left = std::max(0.0, capacity);
  for (std::size_t k = 0; k < order.size(); ++k) {
    const double fair = left / static_cast<double>(order.size() - k);
    rates[order[k]] = std::min(caps[order[k]], fair);
    left -= rates[order[k]];
  }
  return rates;
}

namespace {

// splitmix64: the same noise on every platform for a given seed.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  double uniform() {  // [0, 1)
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return static_cast<double>((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
  }

 private:
  std::uint64_t state_;
};

struct Agent {
  const LaptopSpec* spec = nullptr;
  bool joined = false;
  bool dead = false;
  bool finished = false;
  bool left = false;
  double received = 0;  // stored bytes
  double written = 0;   // raw bytes
  sched::Source source;
  double rate = 0;  // stored bytes/s this step
  double next_report = 0;
  double reported_received = 0;
  double reported_at = 0;
  double starving_since = -1;
  double finish = -1;

  bool active() const { return joined && !dead && !finished && !left; }
  bool serving() const { return joined && !dead && !left; }
};

class Simulation {
 public:
  Simulation(const Scenario& s, Mode mode, const ModelOptions& o)
      : s_(s), mode_(mode), o_(o), rng_(o.seed), agents_(s.laptops.size()) {
    for (std::size_t i = 0; i < agents_.size(); ++i) {
      agents_[i].spec = &s.laptops[i];
      index_[s.laptops[i].id] = i;
      // Staggered report phases, as real agents' are.
      agents_[i].next_report = s.laptops[i].join_at + o.report_interval * rng_.uniform();
    }
    if (mode == Mode::scheduled) {
      sched::Config c;
      c.server_port_rate = s.server_port;
      c.default_port_rate = s.laptop_port;
      c.relay_allowed = o.relay_allowed;
      c.report_interval = o.report_interval;
      c.images["image"] = s.image.shape();
      auto created = sched::Scheduler::create(c);
      if (!created) die("scheduler config: " + created.error().message);
      sched_.emplace(std::move(*created));
    }
  }

  Outcome run();

 private:
  [[noreturn]] static void die(const std::string& why) {
    std::fprintf(stderr, "workshop model: %s\n", why.c_str());
    std::abort();
  }

  void feed(const sched::Event& e, double t) {
    auto r = sched_->handle(e, t);
    if (!r) die(r.error().message);
    if (!o_.trace) return;
    for (const sched::PlanChange& c : *r) {
      std::fprintf(stderr, "%8.3f laptop %lld: %s -> %s (%s)\n", t,
                   static_cast<long long>(c.laptop),
                   c.before ? sched::to_string(c.before->source).c_str() : "-",
                   c.after ? sched::to_string(c.after->source).c_str() : "-",
                   c.after ? c.after->reason.c_str() : "gone");
    }
  }

  // The answer to a laptop's report carries its current assignment.
  void learn(Agent& a) {
    const auto& laptops = sched_->plan().laptops;
    auto it = laptops.find(a.spec->id);
    sched::Source next = it == laptops.end() ? sched::Source{} : it->second.source;
    if (!(next == a.source)) a.starving_since = -1;
    a.source = next;
  }

  std::size_t index_of(LaptopId id) const {
    auto it = index_.find(id);
    if (it == index_.end()) die("unknown laptop " + std::to_string(id));
    return it->second;
  }

  double noisy(double x) { return x * (1 + o_.noise * (2 * rng_.uniform() - 1)); }
  double verified_bytes(const Agent& a) const {
    if (a.finished) return s_.image.stored_bytes;
    const double chunks = std::floor(a.received / s_.image.stored_chunk() + 1e-9);
    return std::min(chunks * s_.image.stored_chunk(), s_.image.stored_bytes);
  }

  const Agent* parent_of(const Agent& a) const {
    if (a.source.kind != sched::SourceKind::peer) return nullptr;
    return &agents_[index_of(a.source.peer)];
  }

  void joins_and_deaths(double t);
  void control(double t);
  void report(Agent& a, double t);
  void detect_dead_source(Agent& a, double t);
  double demand(const Agent& a, double dt) const;
  void flows(double dt);
  void advance(double t, double dt);
  double pick_dt() const;
  bool done() const;
  Outcome outcome() const;

  const Scenario& s_;
  const Mode mode_;
  const ModelOptions o_;
  Rng rng_;
  std::vector<Agent> agents_;
  std::map<LaptopId, std::size_t> index_;
  std::optional<sched::Scheduler> sched_;
  double next_tick_ = 0;
  double server_bytes_ = 0;
};

void Simulation::joins_and_deaths(double t) {
  for (Agent& a : agents_) {
    if (!a.joined && t >= a.spec->join_at) {
      a.joined = true;
      a.reported_at = t;
      if (mode_ == Mode::unicast) {
        a.source = sched::Source::server();
      } else {
        sched::Joined j{.laptop = a.spec->id, .image = "image", .can_relay = a.spec->can_relay};
        if (a.spec->link_known) j.link_rate = a.spec->link;
        feed(j, t);
        learn(a);
      }
    }
    if (a.joined && !a.dead && a.spec->dies_at && t >= *a.spec->dies_at) a.dead = true;
  }
}

void Simulation::report(Agent& a, double t) {
  a.next_report += o_.report_interval;
  if (a.finished) {
    feed(sched::Progressed{.laptop = a.spec->id}, t);  // finished: only asks for its orders
    const auto& plan = sched_->plan().laptops;
    auto it = plan.find(a.spec->id);
    if (o_.leave_when_released && it != plan.end() && it->second.may_leave) {
      feed(sched::Left{a.spec->id}, t);
      a.left = true;
    }
    return;
  }
  sched::Progressed p{.laptop = a.spec->id};
  const auto chunks =
      static_cast<std::uint64_t>(std::llround(verified_bytes(a) / s_.image.stored_chunk()));
  p.held = sched::ChunkRanges::first(chunks);
  p.bytes_received = static_cast<std::uint64_t>(a.received);
  if (t > a.reported_at && a.received > a.reported_received) {
    p.receive_rate = noisy((a.received - a.reported_received) / (t - a.reported_at));
  }
  // Agents time their writes: bytes per busy second is the disk's rate, idle or not.
  if (a.written > 0) p.disk_rate = noisy(a.spec->disk.rate_at(a.written));
  a.reported_received = a.received;
  a.reported_at = t;
  feed(p, t);
  learn(a);
}

// A child notices a dead parent after about two chunk-times without data, reports it, and
// takes the source the answer names.
void Simulation::detect_dead_source(Agent& a, double t) {
  const Agent* p = parent_of(a);
  if (!p || p->serving()) return;
  if (a.starving_since < 0) a.starving_since = t;
  const double after =
      std::max(o_.detect_floor, o_.detect_chunk_times * s_.image.stored_chunk() / a.spec->link);
  if (t - a.starving_since < after) return;
  feed(sched::SourceFailed{a.spec->id, p->spec->id, sched::SourceFault::dead}, t);
  learn(a);
}

void Simulation::control(double t) {
  if (mode_ != Mode::scheduled) return;
  for (Agent& a : agents_) {
    if (a.active()) detect_dead_source(a, t);
    if (a.serving() && t >= a.next_report) report(a, t);
  }
  if (t >= next_tick_) {
    next_tick_ = t + o_.tick_interval;
    feed(sched::Tick{}, t);
  }
}

// What a child could take this step: its port, what its source has verified beyond what it
// holds, and the room left in its bounded pipeline (fetch -> verify -> decompress -> write).
double Simulation::demand(const Agent& a, double dt) const {
  double available = 0;
  if (a.source.kind == sched::SourceKind::server) {
    available = s_.image.stored_bytes;
  } else if (const Agent* p = parent_of(a); p && p->serving()) {
    available = verified_bytes(*p);
  }
  const double in_flight = a.received - a.written * s_.image.stored_bytes / s_.image.raw_bytes;
  const double room = o_.buffer_chunks * s_.image.stored_chunk() - in_flight;
  return std::max(0.0, std::min({a.spec->link, (available - a.received) / dt, room / dt}));
}

void Simulation::flows(double dt) {
  // Children grouped by source: [0] is the server, [i + 1] agent i.
  std::vector<std::vector<std::size_t>> children(agents_.size() + 1);
  std::vector<std::vector<double>> caps(agents_.size() + 1);
  for (std::size_t i = 0; i < agents_.size(); ++i) {
    Agent& a = agents_[i];
    a.rate = 0;
    if (!a.active()) continue;
    std::size_t src = 0;
    if (a.source.kind == sched::SourceKind::peer) {
      src = index_of(a.source.peer) + 1;
    } else if (a.source.kind != sched::SourceKind::server) {
      continue;  // queued
    }
    const double cap = demand(a, dt);
    if (cap <= 0) continue;
    children[src].push_back(i);
    caps[src].push_back(cap);
  }
  for (std::size_t src = 0; src < children.size(); ++src) {
    if (children[src].empty()) continue;
    const double server = s_.server_sends > 0 ? s_.server_sends : s_.server_port;
    const double uplink = src == 0 ? server : agents_[src - 1].spec->link;
    const std::vector<double> rates = water_fill(uplink, caps[src]);
    for (std::size_t k = 0; k < rates.size(); ++k) {
      agents_[children[src][k]].rate = rates[k];
      if (src == 0) server_bytes_ += rates[k] * dt;
    }
  }
}

void Simulation::advance(double t, double dt) {
  const double raw_per_stored = s_.image.raw_bytes / s_.image.stored_bytes;
  for (Agent& a : agents_) {
    if (!a.active()) continue;
    a.received = std::min(s_.image.stored_bytes, a.received + a.rate * dt);
    const double ready = verified_bytes(a) * raw_per_stored;
    const double can = std::min(a.spec->disk.rate_at(a.written), a.spec->decompress) * dt;
    a.written = std::min(a.written + can, std::max(a.written, ready));
    if (a.written >= s_.image.raw_bytes * (1 - 1e-12)) {
      a.finished = true;
      a.finish = t + dt;
      if (mode_ == Mode::scheduled) {
        feed(sched::Finished{a.spec->id}, t + dt);
        learn(a);
      }
    }
  }
}

// A tenth of the fastest flow's chunk-time: fine enough that one hop of store-and-forward is
// resolved, coarse enough that a 100-laptop unicast run stays quick.
double Simulation::pick_dt() const {
  double fastest = 0;
  for (const Agent& a : agents_) {
    if (a.active()) fastest = std::max(fastest, a.rate);
  }
  if (fastest <= 0) fastest = s_.laptop_port;
  return std::clamp(s_.image.stored_chunk() / fastest / 10, 1e-4, o_.report_interval / 20);
}

bool Simulation::done() const {
  return std::all_of(agents_.begin(), agents_.end(),
                     [](const Agent& a) { return a.joined && (a.finished || a.dead); });
}

Outcome Simulation::outcome() const {
  Outcome out;
  out.completed = true;
  for (const Agent& a : agents_) {
    LaptopOutcome l{
        a.spec->id, a.spec->label, a.spec->join_at, a.finish, physical_bound(*a.spec, s_.image),
        a.dead};
    if (!a.dead) {
      out.completed = out.completed && a.finished;
      out.makespan = std::max(out.makespan, a.finish);
      out.bound_makespan = std::max(out.bound_makespan, l.start + l.bound);
    }
    out.laptops.push_back(l);
  }
  out.server_bytes = server_bytes_;
  if (sched_) {
    out.replans = sched_->stats().replans;
    out.changes = sched_->stats().changes;
    out.moves = sched_->stats().moves;
    if (o_.trace) {
      std::fprintf(stderr, "fresh plans adopted: %llu\n",
                   static_cast<unsigned long long>(sched_->stats().fresh_adopted));
      for (const LaptopOutcome& l : out.laptops) {
        std::fprintf(stderr, "laptop %lld %-10s start %6.1f finish %7.1f bound %6.1f (%.2fx)\n",
                     static_cast<long long>(l.id), l.label.c_str(), l.start, l.finish, l.bound,
                     l.duration() / l.bound);
      }
    }
  }
  return out;
}

Outcome Simulation::run() {
  double t = 0;
  while (t < o_.time_limit) {
    joins_and_deaths(t);
    control(t);
    if (done()) break;
    const double dt = pick_dt();
    flows(dt);
    advance(t, dt);
    t += dt;
  }
  return outcome();
}

}  // namespace

Outcome run_model(const Scenario& scenario, Mode mode, const ModelOptions& options) {
  Simulation sim(scenario, mode, options);
  return sim.run();
}

}  // namespace revive::bench
