#pragma once
// Content-addressed chunk files: chunks/ab/<sha256>.zst, one zstd frame each, named by the
// SHA-256 of the uncompressed bytes. A chunk becomes visible only complete (temp file, fsync,
// rename), so a killed writer never leaves a partial chunk under a real name.

#include <atomic>
#include <bitset>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <span>
#include <vector>

#include "revive/error.hpp"
#include "revive/file_util.hpp"
#include "revive/sha256.hpp"

namespace revive {

/// A stored chunk opened for reading, as it is on disk (one zstd frame).
struct OpenChunk {
  UniqueFd fd;
  std::uint64_t size = 0;  ///< bytes of the stored frame
};

/// A chunk written to a temp file but neither durable nor visible yet (ChunkStore::stage).
struct StagedChunk {
  Digest digest{};
  UniqueFd fd;
  std::filesystem::path tmp;
  std::uint64_t size = 0;  ///< bytes of the frame
};

class ChunkStore {
 public:
  /// `dir` holds the 256 prefix folders (created here); `tmp_dir` is on the same filesystem.
  static Result<ChunkStore> open(std::filesystem::path dir, std::filesystem::path tmp_dir);

  ChunkStore(ChunkStore&& o) noexcept : dir_(std::move(o.dir_)), tmp_dir_(std::move(o.tmp_dir_)) {}

  /// Path of the chunk's file (whether or not it exists).
  std::filesystem::path path_for(const Digest& d) const;

  /// Size of the stored frame; not_found when the chunk is absent.
  Result<std::uint64_t> stored_size(const Digest& d) const;

  /// Stores a frame under its digest unless present; returns true when it wrote a new file.
  /// The caller hashed the uncompressed data; this does not re-check.
  Result<bool> put(const Digest& d, std::span<const std::byte> frame);

  /// put() in two halves, so that a caller can flush on other threads while it compresses:
  /// writes the frame to a temp file and starts its write-back without waiting for it. The
  /// chunk is not visible under its name until commit(). io/no_space naming the chunk.
  Result<StagedChunk> stage(const Digest& d, std::span<const std::byte> frame);

  /// Makes a staged chunk durable (fdatasync) and then visible (rename); returns true when it
  /// is new, false when the chunk was stored meanwhile (the temp file is dropped). On failure
  /// the temp file is removed and the error names the chunk.
  Result<bool> commit(StagedChunk& c);

  /// Drops a staged chunk: closes and removes its temp file. Never fails.
  void discard(StagedChunk& c);

  /// fsyncs every prefix folder that put() renamed into since the last flush, so the new
  /// names survive power loss before a manifest refers to them.
  Result<void> flush();

  /// Reads the stored frame into `out` (resized). not_found when absent, io otherwise.
  Result<void> read(const Digest& d, std::vector<std::byte>& out, std::uint64_t max_size) const;

  /// Opens the stored frame for reading (to serve it as it is, e.g. with sendfile): the file
  /// never changes once visible. not_found when the chunk is absent, io otherwise.
  Result<OpenChunk> open_chunk(const Digest& d) const;

  /// Deletes a chunk file; missing is not an error.
  Result<void> remove(const Digest& d);

  /// Calls fn for every file under a chunk name; files that are not valid chunk names are
  /// reported to `stray` (may be null).
  Result<void> for_each(const std::function<void(const Digest&, std::uint64_t size)>& fn,
                        const std::function<void(const std::filesystem::path&)>& stray = {}) const;

 private:
  ChunkStore(std::filesystem::path dir, std::filesystem::path tmp_dir)
      : dir_(std::move(dir)), tmp_dir_(std::move(tmp_dir)) {}

  std::filesystem::path dir_;
  std::filesystem::path tmp_dir_;
  std::mutex dirty_mu_;
  std::bitset<256> dirty_;
};

}  // namespace revive
