#include "revive/encoding.hpp"

#include <gtest/gtest.h>

namespace revive {
namespace {

TEST(Encoding, HexRoundTrip) {
  const std::vector<std::uint8_t> v{0x00, 0x01, 0xab, 0xff};
  EXPECT_EQ(to_hex(v), "0001abff");
  EXPECT_EQ(from_hex("0001ABff"), v);
}

TEST(Encoding, HexRejectsBadInput) {
  EXPECT_FALSE(from_hex("abc"));  // odd length
  EXPECT_FALSE(from_hex("zz"));   // not hex
  EXPECT_TRUE(from_hex("")->empty());
}

TEST(Encoding, Base64RoundTrip) {
  const std::vector<std::uint8_t> v{'h', 'e', 'l', 'l', 'o', '!'};
  EXPECT_EQ(to_base64(v), "aGVsbG8h");
  EXPECT_EQ(from_base64("aGVsbG8h"), v);
  EXPECT_EQ(to_base64(std::vector<std::uint8_t>{1}), "AQ==");
}

TEST(Encoding, Base64RejectsBadInput) {
  EXPECT_FALSE(from_base64("a$b="));
  EXPECT_FALSE(from_base64("aGVsbG8h trailing"));
}

}  // namespace
}  // namespace revive
