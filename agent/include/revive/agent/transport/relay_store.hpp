#pragma once
// What a deploying agent may hand on to its peers: the chunks of the image it is deploying that
// it has verified itself, and nothing else. Frames of recently verified chunks are kept in a
// bounded RAM cache (in a chain the child asks for chunk k moments after the parent verified
// it); older ones are read back from the disk the agent wrote, hash-checked again against the
// signed manifest, and recompressed. A chunk of the image that is not held yet can be waited for
// briefly, so a child one chunk behind its parent does not have to poll.
//
// Thread-safe: the deploy workers mark chunks held while the peer server's threads ask for them.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "revive/error.hpp"
#include "revive/manifest.hpp"
#include "revive/sha256.hpp"

namespace revive::agent {

class BlockDevice;

/// A stored (zstd) frame, shared between the cache and the responses still sending it.
using Frame = std::shared_ptr<const std::vector<std::byte>>;

struct RelayStoreOptions {
  std::uint64_t cache_bytes = 48u << 20;  ///< RAM for recent frames (2 GB laptops: keep it small)
};

struct RelayStoreStats {
  std::uint64_t cache_hits = 0;
  std::uint64_t disk_reads = 0;
  std::uint64_t waits = 0;
  std::uint64_t refused = 0;  ///< asked for something not in the image, or not held in time
};

class RelayStore {
 public:
  /// `disk` (may be null: then only cached frames are served) is where the agent writes the
  /// image; it must outlive the store.
  RelayStore(const Manifest& m, BlockDevice* disk, RelayStoreOptions opts = {});

  /// Records that data extent `index` (the n-th data extent of the manifest) was verified and
  /// is on its way to or on the disk; `frame`, when given, is kept in the cache.
  void mark_held(std::size_t index, Frame frame);
  /// Records extents already on disk from an earlier attempt (a resumed deploy), inclusive.
  void mark_held_range(std::size_t first, std::size_t last);
  /// The frame of chunk `d`: at once when held, else after waiting up to `wait` for it.
  /// not_found: not a chunk of this image; busy: not held (yet), or the store was closed;
  /// corrupt: the disk no longer holds what was verified (never served).
  Result<Frame> frame_for(const Digest& d, std::chrono::milliseconds wait);
  /// Stops serving: waiters wake up and every later request is busy (the deploy is over and the
  /// disk is about to change).
  void close();

  std::size_t held_count() const;
  std::size_t chunk_count() const { return extents_.size(); }
  /// The chunk of data extent `index` (< chunk_count()).
  const Digest& digest_at(std::size_t index) const { return extents_.at(index).first; }
  bool closed() const;
  RelayStoreStats stats() const;

 private:
  struct Where {
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
  };
  bool held_any_locked(const Digest& d, Where& where) const;
  void cache_locked(const Digest& d, Frame frame);
  Result<Frame> read_back(const Digest& d, const Where& w);

  RelayStoreOptions opts_;
  BlockDevice* disk_;
  std::vector<std::pair<Digest, Where>> extents_;       ///< by data-extent index
  std::map<Digest, std::vector<std::size_t>> indices_;  ///< a chunk may repeat in an image
  mutable std::mutex mu_;
  std::condition_variable held_cv_;
  std::vector<bool> held_;
  std::size_t held_count_ = 0;
  bool closed_ = false;
  // LRU cache of frames by digest, bounded by bytes.
  std::list<Digest> lru_;
  std::map<Digest, std::pair<Frame, std::list<Digest>::iterator>> cache_;
  std::uint64_t cached_bytes_ = 0;
  RelayStoreStats stats_;
};

}  // namespace revive::agent
