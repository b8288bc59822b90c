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

TEST(Placement, AClearlySlowerIntakeGoesBehindWhatItHolds) {
  const std::vector<Node> nodes{deploying(1, 125e6, 0), deploying(2, 100e6, 40e6)};
  const Placement p = place_fresh(nodes, PlacementParams{.server_rate = 125e6});
  EXPECT_EQ(p.laptops.at(1).source, Source::server());
  EXPECT_EQ(p.laptops.at(2).source, Source::from_peer(1)) << "20% slower: the tail";
}

}  // namespace
}  // namespace revive::sched::detail
