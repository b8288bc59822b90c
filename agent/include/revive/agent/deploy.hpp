#pragma once
// Deploy: write a signed image onto the laptop's disk. Chunks come through a ChunkSource (the
// server over HTTP today; multicast and peers later), every chunk is hash-checked whatever its
// source, decompressed and written at its offset through the BlockDevice seam (regular files in
// simulation and tests, block devices on laptops and loop devices in privileged tests).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "revive/error.hpp"
#include "revive/manifest.hpp"
#include "revive/sha256.hpp"

namespace revive::agent {

/// Where compressed chunks come from. Thread-safe: one fetch per worker at a time.
class ChunkSource {
 public:
  virtual ~ChunkSource() = default;
  /// The stored zstd frame of chunk `d` into `out`; error naming the chunk otherwise.
  /// Errc::io means "the source is unreachable or busy, try again later" (a network cut, a
  /// restarting server, a 5xx); any other error is about this chunk (absent, short, refused).
  virtual Result<void> fetch(const Digest& d, std::vector<std::byte>& out) = 0;
  /// Compressed bytes fetched so far.
  virtual std::uint64_t bytes_fetched() const = 0;
};

/// GET {server}/chunks/{sha256} with libcurl, one keep-alive connection per calling thread;
/// only a 200 with the announced length counts.
/// `max_rate` > 0 caps each connection's download rate in bytes/s (slow workshop links).
std::unique_ptr<ChunkSource> make_http_chunk_source(const std::string& server,
                                                    std::uint64_t max_rate = 0);

/// The disk the image goes to.
class BlockDevice {
 public:
  virtual ~BlockDevice() = default;
  /// Size in bytes.
  virtual std::uint64_t size() const = 0;
  /// Writes all of `data` at `offset`; error naming the device and offset.
  virtual Result<void> write_at(std::uint64_t offset, std::span<const std::byte> data) = 0;
  /// Makes every write durable (fdatasync).
  virtual Result<void> flush() = 0;
  /// Reads back (for verification).
  virtual Result<void> read_at(std::uint64_t offset, std::span<std::byte> out) = 0;
  /// Makes [offset, offset+length) read as zeros: punches a hole where the device guarantees
  /// zeros for it (files; block devices with WRITE ZEROES/deterministic discard), else zero-range,
  /// else writes zeros. Never a plain discard, which does not promise zeros.
  virtual Result<void> zero_range(std::uint64_t offset, std::uint64_t length) = 0;
};

struct DeviceOpenOptions {
  /// Aligned I/O bypasses the page cache (O_DIRECT) where the file system allows it; unaligned
  /// I/O and file systems without O_DIRECT (tmpfs) fall back to buffered I/O.
  bool direct = false;
  /// Nobody else may use the device meanwhile: O_EXCL on block devices (the kernel refuses a
  /// mounted or otherwise claimed device), flock on files. busy otherwise.
  bool exclusive = false;
};

/// Opens a regular file or a block device read-write; one code path for both.
Result<std::unique_ptr<BlockDevice>> open_block_device(const std::filesystem::path& path,
                                                       DeviceOpenOptions o = {});

/// Ranges [first, last] of data-extent numbers (the n-th non-hole extent) known to be on disk.
using DoneRanges = std::vector<std::pair<std::size_t, std::size_t>>;

struct DeployOptions {
  unsigned workers = 4;   ///< chunks in flight (fetch, verify, decompress, write)
  int chunk_retries = 3;  ///< per chunk, for answers that are wrong (bad hash, bad frame, 404)
  /// How long the source may stay unreachable (Errc::io) before the deploy gives up; workers
  /// wait with backoff meanwhile, and what is on disk stays checkpointed.
  std::chrono::seconds outage_timeout{600};
  /// Called once when the source becomes unreachable and once when it answers again.
  std::function<void(bool reachable, const std::string& why)> on_outage;
  DoneRanges already_done;  ///< from a checkpoint: skipped, not fetched again
  /// Called about every `checkpoint_every` with what is durably on disk (flushed first).
  std::function<void(const DoneRanges&)> checkpoint;
  std::chrono::milliseconds checkpoint_every{2000};
  std::function<void(std::uint64_t done, std::uint64_t total)> progress;  ///< ~2 per second
  const std::atomic<bool>* stop = nullptr;
  /// Make the image's holes read as zeros (a used disk has old data there), so the disk is
  /// bit-exact; off only when the disk is known to be zeroed already.
  bool zero_holes = true;
};

struct DeployReport {
  std::uint64_t chunks_written = 0;
  std::uint64_t bytes_written = 0;  ///< uncompressed
  std::uint64_t bytes_fetched = 0;  ///< compressed, from the source
  std::uint64_t chunk_retries = 0;
  std::uint64_t chunks_skipped = 0;  ///< already on disk according to the checkpoint
  std::uint64_t outages = 0;         ///< times the source became unreachable and came back
  std::uint64_t holes_zeroed_bytes = 0;
};

/// Writes every data extent of `m` to `dev` and (with zero_holes) zeroes its holes. Refuses before
/// writing anything when the device is smaller than the image's minimum disk size. A chunk that
/// keeps failing its hash fails the deploy, named.
Result<DeployReport> deploy_image(const Manifest& m, ChunkSource& source, BlockDevice& dev,
                                  const DeployOptions& opts);

/// Reads `samples` data extents back (chosen by a seeded generator, recorded) and checks their
/// hashes. {samples, seed, bad: [...]}.
Result<std::vector<std::string>> verify_sample(const Manifest& m, BlockDevice& dev,
                                               unsigned samples, std::uint64_t seed);

}  // namespace revive::agent
