#include "revive/agent/transport/chunk_stream.hpp"

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>

namespace revive::chunk_stream {

namespace {
std::uint32_t get_u32(const std::byte* at) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | std::to_integer<std::uint32_t>(at[i]);
  return v;
}
}  // namespace

Parser::Parser(std::size_t max_frame, OnChunk on_chunk, OnKeepAlive on_keep_alive)
    : max_frame_(max_frame),
      on_chunk_(std::move(on_chunk)),
      on_keep_alive_(std::move(on_keep_alive)) {}

Result<void> Parser::feed(std::span<const std::byte> piece) {
  while (!piece.empty()) {
    if (!in_frame_) {
      const std::size_t n = std::min(piece.size(), kHeaderSize - header_fill_);
      std::memcpy(header_.data() + header_fill_, piece.data(), n);
      header_fill_ += n;
      piece = piece.subspan(n);
      if (header_fill_ == kHeaderSize) REVIVE_TRY(header_done());
      continue;
    }
    const std::size_t n = std::min(piece.size(), current_.length - frame_.size());
    frame_.insert(frame_.end(), piece.begin(), piece.begin() + static_cast<std::ptrdiff_t>(n));
    piece = piece.subspan(n);
    if (frame_.size() == current_.length) {
      in_frame_ = false;
      REVIVE_TRY(on_chunk_(current_.digest, std::exchange(frame_, {})));
    }
  }
  return {};
}

Result<void> Parser::header_done() {
  header_fill_ = 0;
  std::memcpy(current_.digest.data(), header_.data(), current_.digest.size());
  current_.length = get_u32(header_.data() + 32);
  current_.flags = get_u32(header_.data() + 36);
  if (current_.keep_alive()) return on_keep_alive_((current_.flags & kFilling) != 0);
  if (current_.length == 0 || current_.length > max_frame_) {
    return make_error(Errc::corrupt, "chunk stream: a record announces a frame of " +
                                         std::to_string(current_.length) + " bytes");
  }
  frame_.clear();
  frame_.reserve(current_.length);
  in_frame_ = true;
  return {};
}

}  // namespace revive::chunk_stream
