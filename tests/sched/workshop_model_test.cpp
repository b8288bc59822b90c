// The simulation harness's fluid model, checked on cases simple enough to compute by hand.
// (Its predictions for real workshops are benchmarks: bench/workshop_sim.sh.)

#include <gtest/gtest.h>

#include "sim/scenarios.hpp"
#include "sim/workshop_model.hpp"

namespace revive::bench {
namespace {

// 100 chunks, 1 MB stored / 3 MB raw each, on 100 Mbit/s ports: a chunk-time is 80 ms.
Scenario small(int laptops, double disk = 1e9) {
  Scenario s;
  s.server_port = kFastEthernet;
  s.laptop_port = kFastEthernet;
  s.image = ImageSpec{100, 100e6, 300e6};
  for (int i = 1; i <= laptops; ++i) {
    LaptopSpec l;
    l.id = i;
    l.label = "fast";
    l.link = kFastEthernet;
    l.disk = DiskModel{disk, 0, disk};
    s.laptops.push_back(l);
  }
  return s;
}

TEST(WaterFill, SharesMaxMinFairly) {
  struct Case {
    double capacity;
    std::vector<double> caps;
    std::vector<double> rates;
  };
  for (const Case& c :
       {Case{10, {20, 20}, {5, 5}}, Case{10, {2, 20}, {2, 8}}, Case{10, {2, 3}, {2, 3}},
        Case{9, {1, 10, 10}, {1, 4, 4}}, Case{0, {5}, {0}}}) {
    const std::vector<double> r = water_fill(c.capacity, c.caps);
    ASSERT_EQ(r.size(), c.rates.size());
    for (std::size_t i = 0; i < r.size(); ++i) EXPECT_NEAR(r[i], c.rates[i], 1e-9);
  }
}

TEST(WorkshopModel, OneLaptopAloneFinishesAtStoredBytesOverItsLink) {
  for (Mode mode : {Mode::scheduled, Mode::unicast}) {
    const Outcome o = run_model(small(1), mode);
    ASSERT_TRUE(o.completed);
    EXPECT_NEAR(o.makespan, 100e6 / kFastEthernet, 0.02 * 8) << "8 s: the link is the bound";
    EXPECT_NEAR(o.server_bytes, 100e6, 1e3);
    EXPECT_NEAR(o.bound_makespan, 8.0, 1e-9);
  }
}

TEST(WorkshopModel, ADiskBoundLaptopFinishesAtRawBytesOverItsDisk) {
  const Outcome o = run_model(small(1, 20e6), Mode::unicast);  // 300 MB at 20 MB/s
  EXPECT_NEAR(o.makespan, 15.0, 0.15);
  EXPECT_NEAR(o.bound_makespan, 15.0, 1e-9);
}

TEST(WorkshopModel, UnicastFromOnePortTakesNTimesAsLong) {
  const Outcome o = run_model(small(4), Mode::unicast);
  EXPECT_NEAR(o.makespan, 4 * 8.0, 0.3);
  EXPECT_NEAR(o.server_bytes, 4 * 100e6, 1e4);
}

// Store-and-forward at chunk granularity: each hop adds one chunk-time (80 ms here), and the
// server sends the image once.
TEST(WorkshopModel, AChainAddsAChunkTimePerHop) {
  const Outcome o = run_model(small(4), Mode::scheduled);
  ASSERT_TRUE(o.completed);
  EXPECT_NEAR(o.makespan, 8.0 + 3 * 0.08, 0.1);
  EXPECT_NEAR(o.server_bytes, 100e6, 1e5);
}

TEST(WorkshopModel, ADiskCacheRunsOutWhereTheModelSays) {
  const DiskModel qlc{450e6, 2e9, 90e6};
  EXPECT_DOUBLE_EQ(qlc.time_for(1e9), 1e9 / 450e6);
  EXPECT_DOUBLE_EQ(qlc.time_for(11e9), 2e9 / 450e6 + 9e9 / 90e6);
  LaptopSpec l;
  l.disk = qlc;
  EXPECT_DOUBLE_EQ(physical_bound(l, ImageSpec{10, 1e9, 11e9}), qlc.time_for(11e9));
}

}  // namespace
}  // namespace revive::bench
