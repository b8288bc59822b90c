#pragma once
// One zstd frame per chunk, with contexts reused per thread.

#include <cstddef>
#include <span>
#include <vector>

#include "revive/error.hpp"

namespace revive {

/// Compresses whole buffers into single zstd frames (content size recorded in the header).
class ZstdCompressor {
 public:
  explicit ZstdCompressor(int level = 3);
  ~ZstdCompressor();
  ZstdCompressor(const ZstdCompressor&) = delete;
  ZstdCompressor& operator=(const ZstdCompressor&) = delete;

  /// Compresses `in` into `out` (resized to the frame's size); internal error on failure.
  Result<void> compress(std::span<const std::byte> in, std::vector<std::byte>& out);

 private:
  void* cctx_;
  int level_;
};

/// Decompresses single zstd frames whose content size is known in advance.
class ZstdDecompressor {
 public:
  ZstdDecompressor();
  ~ZstdDecompressor();
  ZstdDecompressor(const ZstdDecompressor&) = delete;
  ZstdDecompressor& operator=(const ZstdDecompressor&) = delete;

  /// Decodes one frame into exactly `out.size()` bytes. corrupt when the frame is truncated,
  /// damaged, holds more than one frame or decodes to another size.
  Result<void> decompress_exact(std::span<const std::byte> frame, std::span<std::byte> out);

  /// Decodes one frame whose header states its content size (at most `max_size`) into `out`.
  Result<void> decompress_frame(std::span<const std::byte> frame, std::vector<std::byte>& out,
                                std::size_t max_size);

 private:
  void* dctx_;
};

}  // namespace revive
