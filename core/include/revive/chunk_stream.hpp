#pragma once
// The body of a chunk stream: a relay's (`GET /stream/{position}`) or the server's (`GET
// /api/v1/images/{name}/stream/{position}`): the chunks of the image from data extent `position`
// on, in the manifest's order, each sent once (a repeated chunk only the first time), as soon as
// the relay has verified it (the server has them all). One record per chunk:
//
//   32 bytes  SHA-256 of the chunk's raw content
//    4 bytes  length of the zstd frame that follows, big-endian
//    4 bytes  flags, big-endian (0 for a chunk)
//    n bytes  the frame
//
// While a relay waits for its next chunk it sends a keep-alive record about once a second: an
// all-zero digest, length 0, and flag kFilling when it gained chunks meanwhile (it is behind,
// not stuck). A chain's child thus gets chunk k one chunk-time after its parent verified it,
// with no request in between, on one connection whose TCP window stays open.
//
// The receiver trusts nothing in it: lengths are bounded, and every frame is checked against
// the signed manifest by the deploy pipeline like any other.

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "revive/error.hpp"
#include "revive/sha256.hpp"

namespace revive::chunk_stream {

inline constexpr std::size_t kHeaderSize = 40;
inline constexpr std::uint32_t kFilling = 1;

struct Header {
  Digest digest{};
  std::uint32_t length = 0;
  std::uint32_t flags = 0;
  bool keep_alive() const { return digest == Digest{} && length == 0; }
};

std::array<std::byte, kHeaderSize> encode(const Header& h);

/// Takes the stream's bytes as they come, in pieces of any size, and hands on each record.
class Parser {
 public:
  using OnChunk = std::function<Result<void>(const Digest&, std::vector<std::byte>&& frame)>;
  using OnKeepAlive = std::function<Result<void>(bool filling)>;

  /// Frames longer than `max_frame` are refused (corrupt) before any of them is buffered.
  Parser(std::size_t max_frame, OnChunk on_chunk, OnKeepAlive on_keep_alive);

  /// Consumes `piece`; the first error (a bad record, or one a callback returned) ends parsing.
  Result<void> feed(std::span<const std::byte> piece);
  /// True between records (a stream that ends elsewhere was cut off).
  bool at_record_boundary() const { return header_fill_ == 0 && !in_frame_; }

 private:
  Result<void> header_done();

  std::size_t max_frame_;
  OnChunk on_chunk_;
  OnKeepAlive on_keep_alive_;
  std::array<std::byte, kHeaderSize> header_{};
  std::size_t header_fill_ = 0;
  bool in_frame_ = false;
  Header current_;
  std::vector<std::byte> frame_;
};

}  // namespace revive::chunk_stream
