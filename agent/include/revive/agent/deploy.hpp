#pragma once
// Deploy: write a signed image onto the laptop's disk. Chunks come through a ChunkSource (the
// server over HTTP today, agent/transport/; multicast and peers later) and run through the
// core chunk pipeline (every chunk hash-checked whatever its source, decompressed), which
// writes them at their offsets through the BlockDevice seam (regular files in simulation and
// tests, block devices on laptops and loop devices in privileged tests). Including this header
// gives the transport and the device too.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "revive/agent/block_device.hpp"
#include "revive/agent/transport/http_chunk_source.hpp"
#include "revive/chunk_pipeline.hpp"
#include "revive/error.hpp"
#include "revive/manifest.hpp"
#include "revive/sha256.hpp"

namespace revive::agent {

// The chunk source seam lives in core (export and verify read chunks through it too); the
// agent's own name for it stays valid.
using revive::ChunkSource;

/// Ranges [first, last] of data-extent numbers (the n-th non-hole extent) known to be on disk.
using DoneRanges = ChunkRanges;

/// How fast the disk writes when it writes: the time during which at least one write or flush
/// was under way (overlapping writes of the workers count once), and the bytes written. Bytes
/// over busy time is the disk's own speed; bytes over elapsed time would be the network's when
/// the network is slower (issue 14). Thread-safe.
class WriteMeter {
 public:
  struct Totals {
    std::uint64_t bytes = 0;
    double busy_seconds = 0;
  };
  /// Marks a write or flush under way while it lives.
  class Busy {
   public:
    Busy(WriteMeter* m, std::uint64_t bytes) : m_(m), bytes_(bytes) {
      if (m_ != nullptr) m_->begin();
    }
    ~Busy() {
      if (m_ != nullptr) m_->end(bytes_);
    }
    Busy(const Busy&) = delete;
    Busy& operator=(const Busy&) = delete;

   private:
    WriteMeter* m_;
    std::uint64_t bytes_;
  };
  Totals totals() const;

 private:
  void begin();
  void end(std::uint64_t bytes);
  mutable std::mutex mu_;
  int under_way_ = 0;
  std::chrono::steady_clock::time_point since_{};
  Totals done_;
};

/// The disk's write rate between two readings of a WriteMeter: bytes over busy time, or 0 (the
/// protocol's "unknown") when it wrote fewer than two chunks or was busy under 0.2 s in between:
/// one write's latency, or writes the page cache absorbed, say nothing about the disk.
double disk_write_rate(const WriteMeter::Totals& from, const WriteMeter::Totals& to,
                       std::uint64_t chunk_size);

/// How long after a checkpoint the next one is due, given how long its flush took: `every`, or
/// 20 flush-times where the disk flushes slowly, at most a minute (or `every` if longer). A
/// flush holds the disk's writes up while it runs (a virtual disk's flush is its host's fsync:
/// 0.5-0.8 s on the bench machine's, a quarter of the writing at one every 2 s; cheap eMMC and
/// USB disks are slow too), so checkpoints cost at most about 5 % of the writing; a restart
/// redoes at most that much more of the image.
std::chrono::milliseconds checkpoint_interval(std::chrono::milliseconds every,
                                              std::chrono::steady_clock::duration flush_took);

struct DeployOptions {
  unsigned workers = 4;   ///< chunks in flight (fetch, verify, decompress, write)
  int chunk_retries = 3;  ///< per chunk, for answers that are wrong (bad hash, bad frame, 404)
  /// How long the source may stay unreachable (Errc::io) before the deploy gives up; workers
  /// wait with backoff meanwhile, and what is on disk stays checkpointed.
  std::chrono::seconds outage_timeout{600};
  /// Called once when the source becomes unreachable and once when it answers again.
  std::function<void(bool reachable, const std::string& why)> on_outage;
  DoneRanges already_done;  ///< from a checkpoint: skipped, not fetched again
  /// Called about every `checkpoint_every` (longer on a disk that flushes slowly, see
  /// checkpoint_interval) with what is durably on disk (flushed first).
  std::function<void(const DoneRanges&)> checkpoint;
  std::chrono::milliseconds checkpoint_every{2000};
  /// Bytes on disk of the image's data bytes, from the calling thread about every 100 ms.
  std::function<void(std::uint64_t done, std::uint64_t total)> progress;
  const std::atomic<bool>* stop = nullptr;
  /// Called by a worker after data extent `item` (the n-th data extent) was written, with the
  /// frame it came in (valid only during the call): the relay keeps it for peers. Empty: nothing
  /// is called or copied.
  std::function<void(std::size_t item, std::span<const std::byte> frame)> after_put;
  /// Make the image's holes read as zeros (a used disk has old data there), so the disk is
  /// bit-exact; off only when the disk is known to be zeroed already.
  bool zero_holes = true;
  /// When set, every chunk write and flush is timed into it (the disk's speed for reports).
  WriteMeter* write_meter = nullptr;
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
/// keeps failing its hash fails the deploy, named with its offset; io when the source stayed
/// unreachable past outage_timeout, cancelled ("deploy stopped") on the stop flag, the
/// device's error when a write or flush fails.
Result<DeployReport> deploy_image(const Manifest& m, ChunkSource& source, BlockDevice& dev,
                                  const DeployOptions& opts);

/// Reads `samples` data extents back (chosen by a seeded generator, recorded) and checks their
/// hashes: one line per bad sample (offset and chunk), empty when all match; the device's
/// error when a read fails.
Result<std::vector<std::string>> verify_sample(const Manifest& m, BlockDevice& dev,
                                               unsigned samples, std::uint64_t seed);

}  // namespace revive::agent
