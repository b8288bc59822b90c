#include "revive/zstd_codec.hpp"

#include <zstd.h>

#include <string>

namespace revive {

ZstdCompressor::ZstdCompressor(int level) : cctx_(ZSTD_createCCtx()), level_(level) {
  REVIVE_CHECK(cctx_ != nullptr);
}

ZstdCompressor::~ZstdCompressor() { ZSTD_freeCCtx(static_cast<ZSTD_CCtx*>(cctx_)); }

Result<void> ZstdCompressor::compress(std::span<const std::byte> in, std::vector<std::byte>& out) {
  out.resize(ZSTD_compressBound(in.size()));
  const std::size_t n = ZSTD_compressCCtx(static_cast<ZSTD_CCtx*>(cctx_), out.data(), out.size(),
                                          in.data(), in.size(), level_);
  if (ZSTD_isError(n)) {
    return make_error(Errc::internal, std::string("zstd compress: ") + ZSTD_getErrorName(n));
  }
  out.resize(n);
  return {};
}

ZstdDecompressor::ZstdDecompressor() : dctx_(ZSTD_createDCtx()) { REVIVE_CHECK(dctx_ != nullptr); }

ZstdDecompressor::~ZstdDecompressor() { ZSTD_freeDCtx(static_cast<ZSTD_DCtx*>(dctx_)); }

Result<void> ZstdDecompressor::decompress_exact(std::span<const std::byte> frame,
                                                std::span<std::byte> out) {
  const std::size_t frame_size = ZSTD_findFrameCompressedSize(frame.data(), frame.size());
  if (ZSTD_isError(frame_size)) {
    return make_error(Errc::corrupt,
                      std::string("not a complete zstd frame (truncated or damaged: ") +
                          ZSTD_getErrorName(frame_size) + ")");
  }
  if (frame_size != frame.size()) {
    return make_error(Errc::corrupt, "trailing bytes after the zstd frame (" +
                                         std::to_string(frame.size() - frame_size) + " bytes)");
  }
  const unsigned long long content = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (content != out.size()) {
    return make_error(Errc::corrupt,
                      "zstd frame holds " +
                          (content == ZSTD_CONTENTSIZE_UNKNOWN ? std::string("an unknown number of")
                                                               : std::to_string(content)) +
                          " bytes, expected " + std::to_string(out.size()));
  }
  const std::size_t n = ZSTD_decompressDCtx(static_cast<ZSTD_DCtx*>(dctx_), out.data(), out.size(),
                                            frame.data(), frame.size());
  if (ZSTD_isError(n)) {
    return make_error(Errc::corrupt, std::string("zstd: ") + ZSTD_getErrorName(n));
  }
  if (n != out.size()) {
    return make_error(Errc::corrupt, "zstd frame decoded to " + std::to_string(n) +
                                         " bytes, expected " + std::to_string(out.size()));
  }
  return {};
}

Result<void> ZstdDecompressor::decompress_frame(std::span<const std::byte> frame,
                                                std::vector<std::byte>& out, std::size_t max_size) {
  const unsigned long long content = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (content == ZSTD_CONTENTSIZE_ERROR) return make_error(Errc::corrupt, "not a zstd frame");
  if (content == ZSTD_CONTENTSIZE_UNKNOWN || content > max_size) {
    return make_error(Errc::corrupt, "zstd frame does not state a content size of at most " +
                                         std::to_string(max_size) + " bytes");
  }
  out.resize(static_cast<std::size_t>(content));
  return decompress_exact(frame, out);
}

}  // namespace revive
