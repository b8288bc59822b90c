#pragma once
// A small driver for scheduler tests: a clock, a scheduler, and shorthands for the events a
// workshop produces and the questions tests ask of the plan.

#include <gtest/gtest.h>

#include <algorithm>
#include <ostream>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "revive/sched/scheduler.hpp"

namespace revive::sched {
// Readable failures: "peer 3" rather than 24 bytes.
inline void PrintTo(const Source& s, std::ostream* os) { *os << to_string(s); }
inline void PrintTo(Role r, std::ostream* os) {
  *os << (r == Role::deploying ? "deploying" : r == Role::stalled ? "stalled" : "finished");
}
}  // namespace revive::sched

namespace revive::sched::testing {

inline constexpr double kPort = 125e6;  // 1 GbE, bytes/s

/// 1000 chunks of 4 MB raw, 1 MB stored each: a stored chunk takes 8 ms on a 1 GbE port, the
/// image 8 s (longer than the scheduler's 2 s of hysteresis padding).
inline ImageShape test_image(std::uint64_t chunks = 1000) {
  return ImageShape{chunks, chunks * 1'000'000, chunks * 4'000'000};
}

inline Config test_config(double server_rate = kPort, bool relay = true) {
  Config c;
  c.server_port_rate = server_rate;
  c.default_port_rate = kPort;
  c.relay_allowed = relay;
  c.images["img"] = test_image();
  return c;
}

/// The holdings rule (docs/scheduler.md): new parents made in the re-plan from `before` to
/// `after` that hold fewer chunks than their child beyond its exceptions: report skew
/// (`lag_chunks`), a parent that catches up within `catch_up_share` of the child's remaining
/// time, a child that had no source to keep (new, queued, stalled, or its source in
/// `lost_source`, gone, stalled, queued or no longer relaying), and a child that may not relay (a
/// leaf: keeping its source would take upload from laptops that pass chunks on). Kept sources are
/// not judged: the child fetches only from its parent, so a kept parent behind it is report skew.
/// Returns one line per breach.
inline std::vector<std::string> parents_behind(const Plan& before, const Plan& after,
                                               const Config& c,
                                               const std::set<LaptopId>& lost_source = {}) {
  const ImageShape& img = c.images.at("img");
  const double chunk = img.stored_chunk();
  std::vector<std::string> out;
  for (const auto& [id, a] : after.laptops) {
    if (a.role != Role::deploying || a.source.kind != SourceKind::peer) continue;
    const Assignment& p = after.laptops.at(a.source.peer);
    if (p.role == Role::finished || p.held >= static_cast<double>(img.data_chunks)) continue;
    const double gap = a.held - p.held;
    if (gap <= c.lag_chunks + 1e-9) continue;
    auto b = before.laptops.find(id);
    const bool kept = b != before.laptops.end() && b->second.role == Role::deploying &&
                      b->second.source == a.source;
    if (kept) continue;
    const double wait = gap * chunk / std::max(p.planned_rate, 1.0);
    const double left =
        (static_cast<double>(img.data_chunks) - a.held) * chunk / std::max(a.planned_rate, 1.0) +
        2 * c.report_interval;
    if (wait <= c.catch_up_share * left * (1 + 1e-9) || !a.relays) continue;
    bool had_source =
        b != before.laptops.end() && b->second.role == Role::deploying &&
        (b->second.source.kind == SourceKind::server || b->second.source.kind == SourceKind::peer);
    if (had_source && b->second.source.kind == SourceKind::peer) {
      const LaptopId q = b->second.source.peer;
      auto qa = after.laptops.find(q);
      const bool placed =
          qa != after.laptops.end() &&
          (qa->second.role == Role::finished ||
           (qa->second.role == Role::deploying && (qa->second.source.kind == SourceKind::server ||
                                                   qa->second.source.kind == SourceKind::peer)));
      had_source = lost_source.count(q) == 0 && placed && qa->second.relays;
    }
    if (had_source) {
      out.push_back("laptop " + std::to_string(id) + " (holds " + std::to_string(a.held) +
                    ") behind " + to_string(a.source) + " (holds " + std::to_string(p.held) + ")");
    }
  }
  return out;
}

class Workshop {
 public:
  explicit Workshop(Config c = test_config()) : s_(Scheduler::create(std::move(c)).value()) {}

  /// Sends an event at the current time; a failure fails the test. With `check_holdings`,
  /// every new parent must obey the holdings rule (parents_behind).
  PlanDiff send(const Event& e) {
    const Plan before = check_holdings ? s_.plan() : Plan{};
    const bool rejoin =
        std::holds_alternative<Joined>(e) && before.laptops.count(std::get<Joined>(e).laptop) != 0;
    auto r = s_.handle(e, now);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    EXPECT_TRUE(check_forest(s_.plan()).has_value());
    if (check_holdings) {
      // Laptops whose children this event took the source from: they may wait anywhere.
      std::set<LaptopId> lost;
      if (const auto* f = std::get_if<SourceFailed>(&e); f && f->peer) lost.insert(*f->peer);
      if (const auto* f = std::get_if<Failed>(&e)) lost.insert(f->laptop);
      if (const auto* l = std::get_if<Left>(&e)) lost.insert(l->laptop);
      if (rejoin) lost.insert(std::get<Joined>(e).laptop);
      for (const std::string& breach : parents_behind(before, s_.plan(), s_.config(), lost)) {
        ADD_FAILURE() << "at " << now << " s: " << breach << "\n" << dump();
      }
    }
    return r ? *r : PlanDiff{};
  }

  void join(LaptopId id, std::optional<double> disk = std::nullopt, bool relay = true,
            std::uint64_t held = 0) {
    send(Joined{.laptop = id,
                .image = "img",
                .held = ChunkRanges::first(held),
                .disk_rate = disk,
                .can_relay = relay});
  }

  /// A report: `held` chunks, with the given measured rates.
  PlanDiff progress(LaptopId id, std::uint64_t held, std::optional<double> receive = std::nullopt,
                    std::optional<double> disk = std::nullopt) {
    return send(Progressed{.laptop = id,
                           .held = ChunkRanges::first(held),
                           .bytes_received = held * 1'000'000,
                           .receive_rate = receive,
                           .disk_rate = disk});
  }

  const Assignment& at(LaptopId id) const { return s_.plan().laptops.at(id); }
  Source source(LaptopId id) const { return at(id).source; }

  /// Laptops from the server down, following each laptop's only child (a chain).
  std::vector<LaptopId> chain_from_server() const {
    std::vector<LaptopId> out;
    const auto& admitted = s_.plan().server_admitted;
    if (admitted.size() != 1) return out;
    LaptopId at_id = admitted.front();
    for (;;) {
      out.push_back(at_id);
      const auto& serves = at(at_id).serves;
      if (serves.size() != 1) break;
      at_id = serves.front();
    }
    return out;
  }

  /// The plan, one laptop a line: "3 <- peer 1 (depth 2, 125 MB/s): peer 1".
  std::string dump() const {
    std::string out;
    for (const auto& [id, a] : s_.plan().laptops) {
      out += std::to_string(id) + " <- " + to_string(a.source) + " (depth " +
             std::to_string(a.depth) + ", " + std::to_string(a.planned_rate / 1e6) +
             " MB/s): " + a.reason + "\n";
    }
    return out;
  }

  Scheduler& scheduler() { return s_; }
  const Plan& plan() const { return s_.plan(); }

  double now = 0;
  bool check_holdings = false;

 private:
  Scheduler s_;
};

}  // namespace revive::sched::testing
