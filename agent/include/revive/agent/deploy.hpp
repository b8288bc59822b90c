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
  /// Bytes on disk of the image's data bytes, from the calling thread about every 100 ms.
  std::function<void(std::uint64_t done, std::uint64_t total)> progress;
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
