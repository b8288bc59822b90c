// The chunk stream's records (revive/chunk_stream.hpp), fed in pieces of every size.
#include "revive/agent/transport/chunk_stream.hpp"

#include <gtest/gtest.h>

#include <string>

namespace revive::chunk_stream {
namespace {

std::vector<std::byte> bytes(const std::string& s) {
  const auto b = std::as_bytes(std::span(s.data(), s.size()));
  return {b.begin(), b.end()};
}

void append(std::vector<std::byte>& to, const Header& h, const std::vector<std::byte>& frame) {
  const auto head = encode(h);
  to.insert(to.end(), head.begin(), head.end());
  to.insert(to.end(), frame.begin(), frame.end());
}

struct Seen {
  std::vector<std::pair<Digest, std::vector<std::byte>>> chunks;
  std::vector<bool> keep_alives;
};

Parser parser_into(Seen& seen, std::size_t max_frame = 1024) {
  return Parser(
      max_frame,
      [&seen](const Digest& d, std::vector<std::byte>&& f) -> Result<void> {
        seen.chunks.emplace_back(d, std::move(f));
        return {};
      },
      [&seen](bool filling) -> Result<void> {
        seen.keep_alives.push_back(filling);
        return {};
      });
}

TEST(ChunkStream, RecordsComeOutWholeHoweverTheBytesAreSplit) {
  const Digest a = sha256(bytes("a")), b = sha256(bytes("b"));
  std::vector<std::byte> wire;
  append(wire, {a, 5, 0}, bytes("first"));
  append(wire, {{}, 0, kFilling}, {});
  append(wire, {{}, 0, 0}, {});
  append(wire, {b, 6, 0}, bytes("second"));
  for (std::size_t piece = 1; piece <= wire.size(); ++piece) {
    Seen seen;
    Parser p = parser_into(seen);
    for (std::size_t at = 0; at < wire.size(); at += piece) {
      ASSERT_TRUE(p.feed(std::span(wire).subspan(at, std::min(piece, wire.size() - at))));
      EXPECT_EQ(p.at_record_boundary(), at + piece >= wire.size() || at + piece == 45 ||
                                            at + piece == 85 || at + piece == 125)
          << "piece " << piece << " at " << at;
    }
    ASSERT_EQ(seen.chunks.size(), 2u) << "pieces of " << piece;
    EXPECT_EQ(seen.chunks[0].first, a);
    EXPECT_EQ(seen.chunks[0].second, bytes("first"));
    EXPECT_EQ(seen.chunks[1].first, b);
    EXPECT_EQ(seen.chunks[1].second, bytes("second"));
    EXPECT_EQ(seen.keep_alives, (std::vector<bool>{true, false}));
  }
}

TEST(ChunkStream, AnOversizedOrEmptyFrameIsRefusedBeforeAnyOfItIsKept) {
  for (const std::uint32_t length : {std::uint32_t{1025}, std::uint32_t{0xffffffff}}) {
    Seen seen;
    Parser p = parser_into(seen);
    const auto head = encode({sha256(bytes("x")), length, 0});
    auto r = p.feed(head);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::corrupt);
    EXPECT_NE(r.error().message.find(std::to_string(length)), std::string::npos);
  }
  Seen seen;
  Parser p = parser_into(seen);
  EXPECT_FALSE(p.feed(encode({sha256(bytes("x")), 0, 0})));  // a chunk with no frame
  EXPECT_TRUE(seen.chunks.empty());
}

TEST(ChunkStream, ACallbacksErrorStopsTheParse) {
  int calls = 0;
  Parser p(
      1024,
      [&](const Digest&, std::vector<std::byte>&&) -> Result<void> {
        ++calls;
        return make_error(Errc::cancelled, "enough");
      },
      [](bool) -> Result<void> { return {}; });
  std::vector<std::byte> wire;
  append(wire, {sha256(bytes("a")), 1, 0}, bytes("a"));
  append(wire, {sha256(bytes("b")), 1, 0}, bytes("b"));
  auto r = p.feed(wire);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::cancelled);
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace revive::chunk_stream
