#pragma once
// Where an import cuts a disk into chunks when the cuts follow the content: at 4 KiB block
// boundaries, after a block whose fingerprint matches a pattern (about one block in
// chunk_size / 8 KiB does). A filesystem rebuilt with a few files more has most of its blocks
// again, shifted by whole blocks; fixed chunk boundaries then cut every later chunk
// differently, while content-chosen ones fall on the same blocks again after the change, so the
// chunks between them are found in the store. Runs of zero blocks long enough to be worth
// skipping become holes.
//
// ext4 directory blocks are cut out as pieces of their own: they hold inode numbers, and a
// filesystem made from a tree (mkfs.ext4 -d) numbers inodes in the order it walks the tree, so
// one file more shifts the numbers of every later one and changes every later directory block.
// Those sit between the files' data all over the disk (measured on debian-12-minimal with one
// package added: 2,126 of the 3,246 changed blocks, in 139 of its 190 4-MiB regions). Cut out,
// they change alone and the data around them is found again.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include "revive/error.hpp"
#include "revive/manifest.hpp"
#include "revive/parallel.hpp"

namespace revive {

/// The sizes that steer the cuts, all derived from the image's chunk size (its largest chunk).
struct ContentCutSizes {
  std::uint64_t min_chunk = 0;  ///< no cut before this many bytes (bounds the chunk count)
  std::uint64_t max_chunk = 0;  ///< a cut here at the latest (the buffers' size)
  std::uint64_t mean_gap = 0;   ///< blocks between fingerprint matches on average (power of 2)
  std::uint64_t min_hole = 0;   ///< zero runs this long (bytes) become holes, shorter ones data

  static ContentCutSizes for_chunk_size(std::uint64_t chunk_size);
};

/// The next piece of the disk: a chunk of data or a hole, starting at the cutter's position.
struct CutPiece {
  std::size_t length = 0;
  bool hole = false;
};

/// Finds the next piece in the bytes from the current position on, shown to it a little more at
/// a time. Remembers how far it has looked, so each byte is examined once; and whether the last
/// piece was a hole, so a hole that runs past one window goes on as a hole.
class ContentCutter {
 public:
  explicit ContentCutter(const ContentCutSizes& sizes) : sizes_(sizes) {}

  /// `have`: the bytes from the piece's start (the same ones as last call, plus more).
  /// `ends_image`: `have` runs to the end of the disk. Returns the piece once it is decided
  /// (and starts afresh for the next); nullopt while it needs more bytes (never when
  /// `ends_image`, nor once `have` holds max_chunk bytes).
  std::optional<CutPiece> next(std::span<const std::byte> have, bool ends_image);

  /// A hole the caller found without reading (a sparse file's): the next piece starts after it.
  void skipped_hole() {
    in_hole_ = true;
    reset();
  }

 private:
  CutPiece finish(std::size_t length, bool hole);
  void reset() {
    scanned_ = 0;
    zero_run_ = 0;
    directories_ = false;
  }

  ContentCutSizes sizes_;
  std::size_t scanned_ = 0;   // bytes of the piece already looked at (whole blocks)
  std::size_t zero_run_ = 0;  // zero bytes ending at scanned_
  bool directories_ = false;  // the piece so far is directory blocks
  bool in_hole_ = false;      // the last piece was a hole: zeros here continue it
};

/// A disk read front to back and cut by a ContentCutter, for several workers: one at a time
/// takes the next piece into its own buffer (holes a sparse file reports are not read). Reads
/// go in 256 KiB steps, so little is read past a cut; what is, is kept for the next piece.
class ContentChunker {
 public:
  struct Piece {
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
    bool hole = false;
    bool read = true;  ///< false: a hole the disk reported, not read (may exceed the buffer)
  };
  /// Fills the span with the disk's bytes at the offset (called with increasing offsets, each
  /// where the last read ended).
  using ReadFn = std::function<Result<void>(std::span<std::byte> out, std::uint64_t at)>;
  /// Bytes from the offset on known to be zeros without reading them (0 when unknown).
  using KnownZerosFn = std::function<std::uint64_t(std::uint64_t at)>;

  ContentChunker(std::uint64_t disk_size, const ContentCutSizes& sizes, ReadFn read,
                 KnownZerosFn known_zeros = {})
      : size_(disk_size),
        cutter_(sizes),
        read_(std::move(read)),
        known_zeros_(std::move(known_zeros)) {}

  /// The next piece into `buf` (at least max_chunk bytes); nullopt after the last. A read
  /// error is returned to this caller and every later one.
  Result<std::optional<Piece>> next(std::span<std::byte> buf);

 private:
  static constexpr std::size_t kReadStep = 256u << 10;

  std::mutex mu_;
  std::uint64_t size_;
  std::uint64_t pos_ = 0;         // where the next piece starts
  std::vector<std::byte> carry_;  // bytes from pos_ on read for an earlier piece
  ContentCutter cutter_;
  ReadFn read_;
  KnownZerosFn known_zeros_;
  std::optional<Error> failed_;
};

/// An ext4 directory block with metadata checksums (mkfs.ext4's default): it ends in the
/// 12-byte tail entry (inode 0, rec_len 12, name_len 0, type 0xde) before its checksum.
bool is_directory_block(std::span<const std::byte, kCutBlock> block);

/// A block's fingerprint: a mix of some of its 8-byte words (the first and the middle 64
/// bytes), cheap next to hashing and compressing it. Never matches for a block that is zero
/// where it looks.
std::uint64_t block_fingerprint(std::span<const std::byte, kCutBlock> block);

// ---- implementation (inline: one small translation unit uses it, the import)

inline ContentCutSizes ContentCutSizes::for_chunk_size(std::uint64_t chunk_size) {
  // chunk_size is a power of two of at least 64 KiB (checked by the import), so every size here
  // is a whole number of blocks and mean_gap a power of two of at least 8.
  ContentCutSizes s;
  s.max_chunk = chunk_size;
  s.min_chunk = chunk_size / 16;
  s.mean_gap = chunk_size / 2 / kCutBlock;
  s.min_hole = chunk_size / 4;
  return s;
}

inline std::uint64_t block_fingerprint(std::span<const std::byte, kCutBlock> block) {
  // Two spots of a block: a file's block differs from its neighbours at the start already, and
  // the middle keeps blocks that begin alike (headers, padding) apart.
  std::uint64_t h = 0;
  std::uint64_t any = 0;
  for (const std::size_t spot : {std::size_t{0}, kCutBlock / 2}) {
    for (std::size_t i = 0; i < 8; ++i) {
      std::uint64_t w = 0;
      std::memcpy(&w, block.data() + spot + 8 * i, sizeof w);
      any |= w;
      h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
      h ^= h >> 31;
    }
  }
  return any == 0 ? ~std::uint64_t{0} : h;
}

inline bool is_directory_block(std::span<const std::byte, kCutBlock> block) {
  static constexpr unsigned char kTail[8] = {0, 0, 0, 0, 12, 0, 0, 0xde};
  return std::memcmp(block.data() + kCutBlock - 12, kTail, sizeof kTail) == 0;
}

inline CutPiece ContentCutter::finish(std::size_t length, bool hole) {
  in_hole_ = hole;
  reset();
  return CutPiece{length, hole};
}

inline std::optional<CutPiece> ContentCutter::next(std::span<const std::byte> have,
                                                   bool ends_image) {
  const std::size_t window = std::min<std::size_t>(have.size(), sizes_.max_chunk);
  while (scanned_ + kCutBlock <= window) {
    const auto block = have.subspan(scanned_).first<kCutBlock>();
    const std::size_t at = scanned_;
    const bool zeros_so_far = zero_run_ == at;
    scanned_ += kCutBlock;
    if (detail::all_zero(block)) {
      if (directories_) return finish(at, false);
      zero_run_ += kCutBlock;
      // Data, then zeros long enough to skip: the data ends where they begin.
      if (!zeros_so_far && zero_run_ >= sizes_.min_hole) return finish(scanned_ - zero_run_, false);
      continue;
    }
    // Zeros, then data: the zeros are a hole if they go on one or are long enough to skip.
    if (zeros_so_far && zero_run_ > 0 && (in_hole_ || zero_run_ >= sizes_.min_hole)) {
      return finish(zero_run_, true);
    }
    zero_run_ = 0;
    const bool directory = is_directory_block(block);
    if (at == 0) directories_ = directory;
    if (directory != directories_) return finish(at, false);
    if (!directory && scanned_ >= sizes_.min_chunk &&
        (block_fingerprint(block) & (sizes_.mean_gap - 1)) == 0) {
      return finish(scanned_, false);
    }
  }
  if (scanned_ == sizes_.max_chunk) return finish(scanned_, zero_run_ == scanned_);
  if (!ends_image || have.size() > sizes_.max_chunk) return std::nullopt;
  // The disk's end, maybe inside a block: what is left is one piece.
  REVIVE_CHECK(!have.empty());
  const bool zeros = zero_run_ == scanned_ && detail::all_zero(have.subspan(scanned_));
  return finish(have.size(), zeros && (in_hole_ || have.size() >= sizes_.min_hole));
}

inline Result<std::optional<ContentChunker::Piece>> ContentChunker::next(std::span<std::byte> buf) {
  const std::lock_guard hold(mu_);
  if (failed_) return *failed_;
  if (pos_ == size_) return std::optional<Piece>{};
  if (carry_.empty() && known_zeros_) {
    std::uint64_t zeros = std::min(known_zeros_(pos_), size_ - pos_);
    if (pos_ + zeros != size_) zeros -= zeros % kCutBlock;
    if (zeros > 0) {
      cutter_.skipped_hole();
      const Piece hole{pos_, zeros, true, false};
      pos_ += zeros;
      return std::optional<Piece>{hole};
    }
  }
  std::copy(carry_.begin(), carry_.end(), buf.begin());
  std::size_t have = carry_.size();
  std::optional<CutPiece> cut;
  for (;;) {
    cut = cutter_.next(buf.first(have), pos_ + have == size_);
    if (cut) break;
    const auto step = static_cast<std::size_t>(
        std::min<std::uint64_t>({kReadStep, buf.size() - have, size_ - pos_ - have}));
    if (auto r = read_(buf.subspan(have, step), pos_ + have); !r) {
      failed_ = r.error();
      return r.error();
    }
    have += step;
  }
  carry_.assign(buf.begin() + static_cast<std::ptrdiff_t>(cut->length),
                buf.begin() + static_cast<std::ptrdiff_t>(have));
  const Piece piece{pos_, cut->length, cut->hole};
  pos_ += cut->length;
  return std::optional<Piece>{piece};
}

}  // namespace revive
