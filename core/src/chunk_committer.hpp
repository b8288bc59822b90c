#pragma once
// Internal to the import (core/src/image_import.cpp): the threads that make its staged chunks
// durable and visible while its workers go on hashing and compressing.

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "revive/chunk_store.hpp"
#include "revive/parallel.hpp"

namespace revive::detail {

/// Makes the workers' staged chunks durable and visible on threads of its own: a worker's core
/// goes on compressing while the disk flushes (a fdatasync per chunk on the worker left a core
/// idle for each, with as many workers as cores). At most kMaxStaged chunks wait, so a slow
/// disk holds the workers back rather than open files piling up.
class ChunkCommitter {
 public:
  using Done = std::function<void(bool is_new, std::uint64_t stored)>;

  ChunkCommitter(ChunkStore& chunks, FirstError& first_error, unsigned threads)
      : chunks_(chunks), first_error_(first_error) {
    for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { drain(); });
  }
  ChunkCommitter(const ChunkCommitter&) = delete;
  ChunkCommitter& operator=(const ChunkCommitter&) = delete;
  ~ChunkCommitter() { finish(); }

  /// Queues a staged chunk; `done` is called on a committer thread once it is committed.
  /// Waits while kMaxStaged chunks are queued. Never fails (errors go to first_error).
  void push(StagedChunk c, Done done) {
    std::unique_lock lock(mu_);
    room_.wait(lock, [&] { return queue_.size() < kMaxStaged; });
    queue_.push_back(Item{std::move(c), std::move(done)});
    ready_.notify_one();
  }

  /// Commits (or, after a failure, discards) what is queued and stops the threads. Never fails.
  void finish() {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
      ready_.notify_all();
    }
    threads_.clear();  // joins
  }

 private:
  static constexpr std::size_t kMaxStaged = 16;
  struct Item {
    StagedChunk chunk;
    Done done;
  };

  void drain() {
    for (;;) {
      Item item;
      {
        std::unique_lock lock(mu_);
        ready_.wait(lock, [&] { return closed_ || !queue_.empty(); });
        if (queue_.empty()) return;
        item = std::move(queue_.front());
        queue_.pop_front();
        room_.notify_one();
      }
      if (first_error_.failed()) {  // nothing will be published: no need to keep it
        chunks_.discard(item.chunk);
        continue;
      }
      const std::uint64_t size = item.chunk.size;
      auto r = chunks_.commit(item.chunk);
      if (!r) {
        first_error_.set(r.error());
        continue;
      }
      std::uint64_t stored = size;
      if (!*r) {  // already stored, maybe compressed otherwise: the manifest names its size
        auto existing = chunks_.stored_size(item.chunk.digest);
        if (!existing) {
          first_error_.set(existing.error());
          continue;
        }
        stored = *existing;
      }
      item.done(*r, stored);
    }
  }

  ChunkStore& chunks_;
  FirstError& first_error_;
  std::mutex mu_;
  std::condition_variable ready_, room_;
  std::deque<Item> queue_;
  bool closed_ = false;
  std::vector<std::jthread> threads_;  // last: joined before the rest goes
};

}  // namespace revive::detail
