#pragma once
// The one chunk pipeline behind every reader of an image's chunks (export, verify, the agent's
// deploy): worker threads each claim the next chunk, fetch its frame from a ChunkSource, decode
// it, check its SHA-256 and hand the bytes to a ChunkSink. Whatever the source, a chunk reaches
// the sink only after its hash matched. Memory is one chunk buffer (4096-aligned, for direct
// I/O) and one frame buffer per worker, whatever the image's size.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "revive/error.hpp"
#include "revive/manifest.hpp"
#include "revive/sha256.hpp"

namespace revive {

/// Where compressed chunks come from (the store's files, the server over HTTP, later multicast
/// and peers). Thread-safe: each worker fetches one chunk at a time.
class ChunkSource {
 public:
  virtual ~ChunkSource() = default;
  /// The stored zstd frame of chunk `d` into `out`; error naming the chunk otherwise.
  /// Errc::io means "the source is unreachable or busy, try again later" (a network cut, a
  /// restarting server, a 5xx); any other error is about this chunk (absent, short, refused).
  virtual Result<void> fetch(const Digest& d, std::vector<std::byte>& out) = 0;
  /// Compressed bytes fetched so far (never fails).
  virtual std::uint64_t bytes_fetched() const = 0;
  /// Told by the worker that fetched `d`, before it fetches again, that the frame it returned
  /// failed to decode or to match its hash (`why`): a source with several origins (peers) can
  /// blame the one that served it. The chunk is then fetched again as a wrong answer. Never
  /// fails; the default does nothing.
  virtual void rejected(const Digest& d, const Error& why) {
    (void)d;
    (void)why;
  }
};

/// Where checked chunks go (an output file, a disk, nothing when only verifying).
/// Thread-safe: several workers put at once, each its own chunk.
class ChunkSink {
 public:
  virtual ~ChunkSink() = default;
  /// Takes the decoded bytes of the chunk at `offset` (hash already checked); an error (naming
  /// what and where) stops the pipeline and is returned as it is.
  virtual Result<void> put(std::uint64_t offset, std::span<const std::byte> data) = 0;
};

/// Ranges [first, last] of item numbers: positions in the pipeline's list of extents.
using ChunkRanges = std::vector<std::pair<std::size_t, std::size_t>>;

struct ChunkPipelineOptions {
  unsigned workers = 4;  ///< chunks in flight (at least 1)
  /// Per chunk, re-fetches after a wrong answer (bad frame, bad hash, absent) before it fails.
  int chunk_retries = 0;
  /// How long the source may stay unreachable (Errc::io) while every worker waits with
  /// backoff, spending no retries. Zero: an unreachable source is a wrong answer like any other
  /// (a local store has no outages worth waiting for).
  std::chrono::milliseconds outage_timeout{0};
  /// Called once when the source becomes unreachable and once when it answers again.
  std::function<void(bool reachable, const std::string& why)> on_outage{};
  /// Items already done (a checkpoint): neither fetched nor put, counted as skipped.
  ChunkRanges skip{};
  /// Record a chunk that fails for good and go on with the others (verify), instead of
  /// stopping every worker at the first such chunk (export, deploy).
  bool keep_going = false;
  const std::atomic<bool>* stop = nullptr;  ///< set to stop early (Errc::cancelled)
  /// Called by the worker after the sink took item `item`, with the frame its chunk came in
  /// (valid only during the call): a relay keeps a copy to serve peers. Empty (the default):
  /// nothing is called and nothing is copied.
  std::function<void(std::size_t item, std::span<const std::byte> frame)> after_put{};
};

/// A chunk that failed for good (keep_going only).
struct ChunkFailure {
  std::size_t extent = 0;  ///< index into the manifest's extents
  std::uint64_t offset = 0;
  Digest sha256{};
  Error error;  ///< why, naming the chunk (not its offset)
};

struct ChunkPipelineReport {
  std::uint64_t chunks = 0;            ///< chunks fetched, checked and put
  std::uint64_t bytes = 0;             ///< their decoded bytes
  std::uint64_t retries = 0;           ///< re-fetches after wrong answers
  std::uint64_t skipped = 0;           ///< items in `skip`
  std::uint64_t skipped_bytes = 0;     ///< their decoded bytes
  std::uint64_t outages = 0;           ///< times the source became unreachable and came back
  std::vector<ChunkFailure> failures;  ///< keep_going: chunks that failed, in item order
};

/// One run of the pipeline over some of a manifest's data extents.
class ChunkPipeline {
 public:
  /// `extents`: indices into `m.extents` of data extents (no holes: those are the caller's),
  /// in the order workers claim them. `m` must outlive the pipeline.
  ChunkPipeline(const Manifest& m, std::vector<std::size_t> extents, ChunkPipelineOptions opts);
  ~ChunkPipeline();
  ChunkPipeline(const ChunkPipeline&) = delete;
  ChunkPipeline& operator=(const ChunkPipeline&) = delete;

  /// Runs every item not skipped from `source` to `sink` while the calling thread calls `tick`
  /// about every 100 ms (not after a failure). Returns the report; or the first chunk that
  /// failed for good ("at offset N: ..."), the sink's error, io when the source stayed
  /// unreachable past outage_timeout, cancelled when the stop flag was set. Runs once.
  Result<ChunkPipelineReport> run(ChunkSource& source, ChunkSink& sink,
                                  const std::function<void()>& tick = {});

  /// Decoded bytes through the pipeline so far (skipped and, with keep_going, failed items
  /// included); safe to call from `tick`. Never fails.
  std::uint64_t bytes_done() const;
  /// Decoded bytes of all items. Never fails.
  std::uint64_t bytes_total() const { return bytes_total_; }
  /// Items put or skipped so far, as ranges; safe to call from `tick`. Never fails.
  ChunkRanges done_ranges() const;

 private:
  class Run;

  const Manifest& m_;
  std::vector<std::size_t> extents_;
  ChunkPipelineOptions opts_;
  std::uint64_t bytes_total_ = 0;
  std::uint64_t skipped_ = 0;
  std::uint64_t skipped_bytes_ = 0;
  std::unique_ptr<std::atomic<bool>[]> done_;  // per item: put (released after the put) or skipped
  std::atomic<std::uint64_t> bytes_done_{0};
  bool ran_ = false;
};

}  // namespace revive
