// The holdings rule: a laptop is never made the parent of one that holds more chunks, beyond
// report skew, unless it makes up the difference within catch_up_share of the child's
// remaining time (docs/scheduler.md, "Holdings before speed"). Rows from bench/workshop.sh's
// late and kill scenarios, where the scheduler put laptops holding 242 of 454 chunks behind a
// joiner that held none, and a head behind the tail.

#include <gtest/gtest.h>

#include <functional>

#include "revive/sched/scheduler.hpp"
#include "workshop.hpp"

namespace revive::sched {
namespace {

using testing::kPort;
using testing::Workshop;

// A chain of `n` on equal ports (fast disks), reporting for `seconds` seconds at 100 chunks
// a second, each laptop `behind` chunks after its parent; laptop 1 measured at 120 MB/s.
void chain(Workshop& w, LaptopId n, int seconds, std::uint64_t behind = 2) {
  for (LaptopId id = 1; id <= n; ++id) w.join(id, 2e9);
  for (int t = 1; t <= seconds; ++t) {
    w.now = t;
    for (LaptopId id = 1; id <= n; ++id) {
      const std::uint64_t held =
          100ULL * static_cast<std::uint64_t>(t) - behind * static_cast<std::uint64_t>(id - 1);
      w.progress(id, held, id == 1 ? std::optional<double>(120e6) : std::nullopt);
    }
  }
}

// `n` laptops, and laptop n+1 a second later; at second 3 the first n hold 300, 298, ...
// chunks (measured at `receive`, if given) and the joiner 100.
void joiner_behind(Workshop& w, LaptopId n, std::optional<double> receive = std::nullopt) {
  for (LaptopId id = 1; id <= n; ++id) w.join(id, 2e9);
  w.now = 2;
  w.join(n + 1, 2e9);
  w.now = 3;
  for (LaptopId id = 1; id <= n; ++id) w.progress(id, 300 - 2 * (id - 1), receive);
  w.progress(n + 1, 100);
}

struct Row {
  const char* what;
  std::function<void(Workshop&)> script;
  std::vector<std::pair<LaptopId, Source>> sources;  ///< expected at the end
};

TEST(HoldingsRule, NoLaptopWaitsBehindOneHoldingFewerChunks) {
  const std::vector<Row> rows{
      {"late joiner: a laptop ahead of it measured slow stays ahead of it (old: behind it, "
       "holding 590 chunks against its 100)",
       [](Workshop& w) {
         chain(w, 4, 4);
         w.join(5);  // holds nothing: the tail
         for (int t = 5; t <= 6; ++t) {
           w.now = t;
           const std::uint64_t head = 100ULL * static_cast<std::uint64_t>(t);
           w.progress(1, head, 120e6);
           w.progress(2, head - 10, 0.6 * kPort);  // its parent well ahead: its own port
           w.progress(3, head - 12);
           w.progress(4, head - 14);
           w.progress(5, 100ULL * static_cast<std::uint64_t>(t - 4));
         }
       },
       {{2, Source::from_peer(1)}, {5, Source::from_peer(4)}}},
      {"relay killed: the new head, measured slow on the server, lets 3 (2 chunks behind it) "
       "pass but stays ahead of a joiner far behind it (old: behind it, holding 298 chunks "
       "against its 100)",
       [](Workshop& w) {
         joiner_behind(w, 3, 120e6);
         w.now = 3.2;  // laptop 1 was killed: its child says so
         w.send(SourceFailed{.laptop = 2, .peer = 1, .fault = SourceFault::dead});
         EXPECT_EQ(w.source(2), Source::server()) << w.dump();
         for (int t = 4; t <= 6; ++t) {
           w.now = t;
           const std::uint64_t s = static_cast<std::uint64_t>(t - 3);
           w.progress(2, 298 + 75 * s, 0.6 * kPort);  // the server has it all: its own port
           w.progress(3, 296 + 75 * s);
           w.progress(4, 100 + 100 * s);
         }
       },
       {{3, Source::server()}, {2, Source::from_peer(3)}, {4, Source::from_peer(2)}}},
      {"a relay whose own source died is not blamed by its child for having nothing to send "
       "(it held no more than the child): once it reports the death it heads the chain from the "
       "server again; the old code barred it from relaying and sent it to the tail",
       [](Workshop& w) {
         chain(w, 4, 3);
         w.now = 3.3;  // laptop 1 died: 2 had nothing for 3, which said so first
         w.send(SourceFailed{.laptop = 3, .peer = 2, .fault = SourceFault::stalled});
         EXPECT_NE(w.source(3), Source::from_peer(2)) << w.dump();
         w.now = 3.4;
         w.send(SourceFailed{.laptop = 2, .peer = 1, .fault = SourceFault::dead});
         EXPECT_EQ(w.source(2), Source::server()) << w.dump();
         w.now = 4;
         w.progress(3, 300);
         w.progress(4, 294);
         w.progress(2, 360);
       },
       {{2, Source::server()}, {4, Source::from_peer(2)}, {3, Source::from_peer(4)}}},
      {"guard (the old code did it too): a restarted relay resuming with more chunks than the "
       "tail, a joiner holding 100, goes back to its place, not behind that joiner",
       [](Workshop& w) {
         joiner_behind(w, 4);
         w.now = 3.2;
         w.send(Joined{.laptop = 2,
                       .image = "img",
                       .held = ChunkRanges::first(298),
                       .disk_rate = 2e9,
                       .can_relay = true});
       },
       {{2, Source::from_peer(1)}, {3, Source::from_peer(2)}, {5, Source::from_peer(4)}}},
      {"guard, the catch-up exception: a slow disk 10 chunks ahead of the tail still goes to it "
       "(the tail "
       "catches up in 0.08 s, 0.2% of the slow laptop's remaining time)",
       [](Workshop& w) {
         chain(w, 5, 2, 5);
         w.now = 3;
         w.progress(3, 290, kPort, 80e6);  // its QLC cache ran out: 20 MB/s off the network
       },
       {{3, Source::from_peer(5)}, {4, Source::from_peer(2)}}},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.what);
    Workshop w;
    w.check_holdings = true;
    row.script(w);
    for (const auto& [id, source] : row.sources) {
      EXPECT_EQ(w.source(id), source) << "laptop " << id << "\n" << w.dump();
    }
  }
}

}  // namespace
}  // namespace revive::sched
