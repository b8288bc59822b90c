// The placement's ordering rules, on nodes given directly (no scheduler, no estimates).
#include <gtest/gtest.h>

#include "placement.hpp"

namespace revive::sched::detail {
namespace {

Node deploying(LaptopId id, BytesPerSecond intake, double held) {
  return Node{.id = id,
              .needs_source = true,
              .can_parent = true,
              .held = held,
              .remaining = 100e6 - held,
              .chunk = 1e6,
              .intake = intake,
              .uplink = 125e6};
}

// Intakes within rate_bucket of each other sort as equals wherever they fall: buckets on an
// absolute scale had a boundary at 118.6 MB/s, so a laptop at 117 MB/s that held more went
// behind one at 125 (6% faster) that held less, and in bench/workshop.sh a laptop measured a
// little low was sent from the head of its chain to the tail.
TEST(Placement, IntakesWithinTheRateBucketOfTheFastestSortByWhatTheyHold) {
  const std::vector<Node> nodes{deploying(1, 125e6, 0), deploying(2, 117e6, 40e6)};
  const Placement p = place_fresh(nodes, PlacementParams{.server_rate = 125e6});
  EXPECT_EQ(p.laptops.at(2).source, Source::server()) << "the one holding more heads the chain";
  EXPECT_EQ(p.laptops.at(1).source, Source::from_peer(2));
}

// A clearly slower laptop goes behind a faster one only if that one makes up its lead in time
// (catch_up_share of its remaining time): 2 chunks, yes; 40 chunks (0.32 s against 0.6 s
// left), no: it would idle that long, so it heads the chain and the faster one follows it.
TEST(Placement, AClearlySlowerIntakeGoesBehindOnlyWhatCatchesUpWithIt) {
  struct Case {
    double slow_holds;
    bool slow_heads;
  };
  for (const Case& c : {Case{2e6, false}, Case{40e6, true}}) {
    const std::vector<Node> nodes{deploying(1, 125e6, 0), deploying(2, 100e6, c.slow_holds)};
    const Placement p = place_fresh(nodes, PlacementParams{.server_rate = 125e6});
    const LaptopId head = c.slow_heads ? 2 : 1;
    const LaptopId tail = c.slow_heads ? 1 : 2;
    EXPECT_EQ(p.laptops.at(head).source, Source::server()) << c.slow_holds;
    EXPECT_EQ(p.laptops.at(tail).source, Source::from_peer(head)) << c.slow_holds;
  }
}

}  // namespace
}  // namespace revive::sched::detail
