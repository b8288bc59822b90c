#include <gtest/gtest.h>

#include "revive/sha256.hpp"
#include "revive/zstd_codec.hpp"
#include "test_files.hpp"

namespace revive {
namespace {

std::span<const std::byte> bytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(digest_hex(sha256(bytes("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(digest_hex(sha256(bytes(""))),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256, IncrementalMatchesOneShot) {
  const auto data = test::random_bytes(1 << 20, 1);
  Sha256 h;
  h.update(std::span(data).first(1000));
  h.update(std::span(data).subspan(1000));
  EXPECT_EQ(h.finish(), sha256(data));
}

TEST(Sha256, ParseDigest) {
  const auto d = sha256(bytes("abc"));
  EXPECT_EQ(parse_digest(digest_hex(d)), d);
  EXPECT_FALSE(parse_digest("abcd"));
  EXPECT_FALSE(parse_digest(std::string(64, 'g')));
}

TEST(Zstd, RoundTrip) {
  const auto data = test::compressible_bytes(3 << 20, 2);
  ZstdCompressor c;
  std::vector<std::byte> frame;
  ASSERT_TRUE(c.compress(data, frame));
  EXPECT_LT(frame.size(), data.size() / 2);
  ZstdDecompressor d;
  std::vector<std::byte> out(data.size());
  ASSERT_TRUE(d.decompress_exact(frame, out));
  EXPECT_EQ(out, data);
  std::vector<std::byte> out2;
  ASSERT_TRUE(d.decompress_frame(frame, out2, 4 << 20));
  EXPECT_EQ(out2, data);
}

TEST(Zstd, TruncatedFrameIsCorrupt) {
  const auto data = test::compressible_bytes(1 << 20, 3);
  ZstdCompressor c;
  std::vector<std::byte> frame;
  ASSERT_TRUE(c.compress(data, frame));
  frame.resize(frame.size() / 2);
  ZstdDecompressor d;
  std::vector<std::byte> out(data.size());
  auto r = d.decompress_exact(frame, out);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::corrupt);
  EXPECT_NE(r.error().message.find("truncated"), std::string::npos) << r.error().message;
}

TEST(Zstd, WrongSizeTrailingBytesAndGarbageAreCorrupt) {
  const auto data = test::random_bytes(100000, 4);
  ZstdCompressor c;
  std::vector<std::byte> frame;
  ASSERT_TRUE(c.compress(data, frame));
  ZstdDecompressor d;
  std::vector<std::byte> small(data.size() - 1);
  EXPECT_EQ(d.decompress_exact(frame, small).error().code, Errc::corrupt);
  auto longer = frame;
  longer.push_back(std::byte{0});
  std::vector<std::byte> out(data.size());
  EXPECT_EQ(d.decompress_exact(longer, out).error().code, Errc::corrupt);
  const auto garbage = test::random_bytes(5000, 5);
  EXPECT_EQ(d.decompress_exact(garbage, out).error().code, Errc::corrupt);
  std::vector<std::byte> any;
  EXPECT_EQ(d.decompress_frame(garbage, any, 1 << 20).error().code, Errc::corrupt);
  EXPECT_EQ(d.decompress_frame(frame, any, 1000).error().code, Errc::corrupt);  // over the bound
}

TEST(Zstd, FlippedByteIsDetectedByHashEvenIfFrameDecodes) {
  // zstd frames carry no checksum here; the chunk's SHA-256 is what proves integrity.
  const auto data = test::compressible_bytes(1 << 20, 6);
  ZstdCompressor c;
  std::vector<std::byte> frame;
  ASSERT_TRUE(c.compress(data, frame));
  ZstdDecompressor d;
  int detected = 0;
  for (std::size_t pos = 20; pos < frame.size(); pos += frame.size() / 17) {
    auto bad = frame;
    bad[pos] ^= std::byte{0x40};
    std::vector<std::byte> out(data.size());
    auto r = d.decompress_exact(bad, out);
    if (!r || sha256(out) != sha256(data)) ++detected;
  }
  EXPECT_EQ(detected, 17);
}

}  // namespace
}  // namespace revive
