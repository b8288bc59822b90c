#include "revive/aligned_buffer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>

namespace revive {
namespace {

bool zeroed(AlignedBuffer& b) {
  const auto s = b.first(b.size());
  return std::all_of(s.begin(), s.end(), [](std::byte x) { return x == std::byte{0}; });
}

TEST(AlignedBuffer, ZeroedAndAlignedForDirectIo) {
  AlignedBuffer small(12288);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(small.data()) % 4096, 0u);
  EXPECT_EQ(small.size(), 12288u);
  EXPECT_TRUE(zeroed(small));
}

TEST(AlignedBuffer, HugePageBuffersStartOnA2MiBBoundary) {
  // 2 MiB aligned, so each 2 MiB piece can be one transparent huge page.
  AlignedBuffer big((std::size_t{4} << 20) + 4096, true);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(big.data()) % (std::size_t{2} << 20), 0u);
  EXPECT_TRUE(zeroed(big));
  // Below one huge page there is nothing to gain: an ordinary aligned buffer.
  AlignedBuffer below(65536, true);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(below.data()) % 4096, 0u);
  EXPECT_TRUE(zeroed(below));
}

}  // namespace
}  // namespace revive
