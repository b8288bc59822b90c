#include "revive/sched/chunk_ranges.hpp"

#include <gtest/gtest.h>

namespace revive::sched {
namespace {

TEST(ChunkRanges, MergesWhatAgentsCheckpoint) {
  using R = ChunkRanges::Range;
  struct Case {
    std::vector<R> in;
    std::vector<R> merged;
    std::uint64_t count;
    std::uint64_t prefix;
  };
  const Case cases[] = {
      {{}, {}, 0, 0},
      {{{0, 9}}, {{0, 9}}, 10, 10},
      {{{0, 3}, {4, 7}}, {{0, 7}}, 8, 8},          // adjacent ranges join
      {{{5, 9}, {0, 2}}, {{0, 2}, {5, 9}}, 8, 3},  // out of order, a gap
      {{{0, 5}, {2, 3}, {4, 8}}, {{0, 8}}, 9, 9},  // overlapping
      {{{3, 4}, {0, 1}, {6, 6}, {2, 2}}, {{0, 4}, {6, 6}}, 6, 5},
      {{{1, 1}}, {{1, 1}}, 1, 0},  // nothing from chunk 0
  };
  for (const Case& c : cases) {
    auto r = ChunkRanges::from_inclusive(c.in);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->ranges(), c.merged);
    EXPECT_EQ(r->count(), c.count);
    EXPECT_EQ(r->prefix(), c.prefix);
  }
}

TEST(ChunkRanges, AnswersMembershipAndRefusesBackwardsRanges) {
  auto r = ChunkRanges::from_inclusive({{0, 2}, {10, 12}});
  ASSERT_TRUE(r);
  for (std::uint64_t k : {0, 2, 10, 12}) EXPECT_TRUE(r->contains(k)) << k;
  for (std::uint64_t k : {3, 9, 13}) EXPECT_FALSE(r->contains(k)) << k;
  EXPECT_EQ(ChunkRanges::first(4), *ChunkRanges::from_inclusive({{0, 3}}));
  auto bad = ChunkRanges::from_inclusive({{5, 4}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::invalid_input);
}

}  // namespace
}  // namespace revive::sched
