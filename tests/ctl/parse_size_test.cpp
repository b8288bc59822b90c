#include <gtest/gtest.h>

#include "image_commands.hpp"

namespace revive::ctl {
namespace {

TEST(ParseSize, UnitsAndErrors) {
  EXPECT_EQ(parse_size("4M"), 4u << 20);
  EXPECT_EQ(parse_size("64K"), 64u << 10);
  EXPECT_EQ(parse_size("1GiB"), 1u << 30);
  EXPECT_EQ(parse_size("65536"), 65536u);
  EXPECT_FALSE(parse_size(""));
  EXPECT_FALSE(parse_size("M"));
  EXPECT_FALSE(parse_size("4X"));
  EXPECT_FALSE(parse_size("99999999999999999999999"));
}

}  // namespace
}  // namespace revive::ctl
