#pragma once
// The chunk pipeline's source for images in a local store (export, verify): each fetch reads
// the chunk's file.

#include <atomic>
#include <cstdint>
#include <vector>

#include "revive/chunk_pipeline.hpp"
#include "revive/chunk_store.hpp"

namespace revive {

class StoreChunkSource : public ChunkSource {
 public:
  /// `max_frame`: the largest chunk file read (a bigger one is refused as corrupt, so a damaged
  /// store cannot make a worker allocate without bound). `store` must outlive the source.
  StoreChunkSource(const ChunkStore& store, std::uint64_t max_frame)
      : store_(store), max_frame_(max_frame) {}

  /// The chunk file's bytes; not_found when it is missing from the store, io when unreadable.
  Result<void> fetch(const Digest& d, std::vector<std::byte>& out) override;
  /// Bytes read from chunk files so far. Never fails.
  std::uint64_t bytes_fetched() const override { return fetched_.load(); }

 private:
  const ChunkStore& store_;
  std::uint64_t max_frame_;
  std::atomic<std::uint64_t> fetched_{0};
};

}  // namespace revive
