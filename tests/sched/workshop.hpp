#pragma once
// A small driver for scheduler tests: a clock, a scheduler, and shorthands for the events a
// workshop produces and the questions tests ask of the plan.

#include <gtest/gtest.h>

#include <ostream>
#include <string>
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

class Workshop {
 public:
  explicit Workshop(Config c = test_config()) : s_(Scheduler::create(std::move(c)).value()) {}

  /// Sends an event at the current time; a failure fails the test.
  PlanDiff send(const Event& e) {
    auto r = s_.handle(e, now);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    EXPECT_TRUE(check_forest(s_.plan()).has_value());
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

 private:
  Scheduler s_;
};

}  // namespace revive::sched::testing
