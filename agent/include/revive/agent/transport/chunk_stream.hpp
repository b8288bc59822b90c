#pragma once
// Reading a chunk stream's records (revive/chunk_stream.hpp) as the bytes arrive.

#include <cstddef>
#include <functional>
#include <span>
#include <vector>

#include "revive/chunk_stream.hpp"
#include "revive/error.hpp"

namespace revive::chunk_stream {

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
