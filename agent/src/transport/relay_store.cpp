#include "revive/agent/transport/relay_store.hpp"

#include "revive/agent/block_device.hpp"
#include "revive/zstd_codec.hpp"

namespace revive::agent {

namespace {
// Chunks read back from the disk are recompressed fast: the link, not the ratio, is what a
// relay has to keep up with.
constexpr int kRecompressLevel = 1;
}  // namespace

RelayStore::RelayStore(const Manifest& m, BlockDevice* disk, RelayStoreOptions opts)
    : opts_(opts), disk_(disk) {
  for (const auto i : m.data_extents()) {
    const Extent& e = m.extents[i];
    indices_[*e.sha256].push_back(extents_.size());
    extents_.emplace_back(*e.sha256, Where{e.offset, e.length});
  }
  held_.assign(extents_.size(), false);
}

void RelayStore::mark_held(std::size_t index, Frame frame) {
  {
    std::lock_guard lock(mu_);
    if (index >= held_.size()) return;
    if (!held_[index]) {
      held_[index] = true;
      ++held_count_;
    }
    if (frame) cache_locked(extents_[index].first, std::move(frame));
  }
  held_cv_.notify_all();
}

void RelayStore::mark_held_range(std::size_t first, std::size_t last) {
  {
    std::lock_guard lock(mu_);
    for (std::size_t i = first; i <= last && i < held_.size(); ++i) {
      if (!held_[i]) {
        held_[i] = true;
        ++held_count_;
      }
    }
  }
  held_cv_.notify_all();
}

void RelayStore::close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    cache_.clear();
    lru_.clear();
    cached_bytes_ = 0;
  }
  held_cv_.notify_all();
}

std::size_t RelayStore::held_count() const {
  std::lock_guard lock(mu_);
  return held_count_;
}

bool RelayStore::closed() const {
  std::lock_guard lock(mu_);
  return closed_;
}

RelayStoreStats RelayStore::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

bool RelayStore::held_any_locked(const Digest& d, Where& where) const {
  const auto it = indices_.find(d);
  for (const auto i : it->second) {
    if (held_[i]) {
      where = extents_[i].second;
      return true;
    }
  }
  return false;
}

void RelayStore::cache_locked(const Digest& d, Frame frame) {
  if (closed_ || frame->size() > opts_.cache_bytes) return;
  if (auto it = cache_.find(d); it != cache_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second.second);
    return;
  }
  lru_.push_front(d);
  cached_bytes_ += frame->size();
  cache_.emplace(d, std::make_pair(std::move(frame), lru_.begin()));
  while (cached_bytes_ > opts_.cache_bytes && !lru_.empty()) {
    const auto victim = cache_.find(lru_.back());
    cached_bytes_ -= victim->second.first->size();
    cache_.erase(victim);
    lru_.pop_back();
  }
}

Result<Frame> RelayStore::frame_for(const Digest& d, std::chrono::milliseconds wait) {
  Where where;
  {
    std::unique_lock lock(mu_);
    if (!indices_.contains(d)) {
      ++stats_.refused;
      return make_error(Errc::not_found, "chunk " + digest_hex(d) + " is not part of this image");
    }
    if (!held_any_locked(d, where) && !closed_) {
      ++stats_.waits;
      held_cv_.wait_for(lock, wait, [&] { return closed_ || held_any_locked(d, where); });
    }
    if (closed_ || !held_any_locked(d, where)) {
      ++stats_.refused;
      return make_error(Errc::busy, closed_ ? "this laptop has stopped relaying"
                                            : "chunk " + digest_hex(d) + " is not here yet");
    }
    if (auto it = cache_.find(d); it != cache_.end()) {
      ++stats_.cache_hits;
      lru_.splice(lru_.begin(), lru_, it->second.second);
      return it->second.first;
    }
    ++stats_.disk_reads;
  }
  return read_back(d, where);
}

// The disk holds the chunk raw; what goes to a peer is a zstd frame again. The hash is checked
// first: a disk that returns other bytes than were verified must not pass them on (the peer
// would refuse them anyway, but it would blame this laptop's relay, not its disk).
Result<Frame> RelayStore::read_back(const Digest& d, const Where& w) {
  if (disk_ == nullptr) return make_error(Errc::busy, "chunk " + digest_hex(d) + " left the cache");
  std::vector<std::byte> raw(w.length);
  REVIVE_TRY(disk_->read_at(w.offset, raw));
  if (sha256(raw) != d) {
    return make_error(Errc::corrupt, "chunk " + digest_hex(d) + " at offset " +
                                         std::to_string(w.offset) +
                                         " reads back different from what was verified");
  }
  thread_local ZstdCompressor compressor(kRecompressLevel);
  auto frame = std::make_shared<std::vector<std::byte>>();
  REVIVE_TRY(compressor.compress(raw, *frame));
  return Frame(std::move(frame));
}

}  // namespace revive::agent
