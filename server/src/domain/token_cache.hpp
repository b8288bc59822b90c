#pragma once
// Agent and operator tokens already seen, by hash, so the thousand heartbeats a second of a
// full workshop do not each cost a database lookup. The database stays the truth: a miss is
// looked up there; whatever changes a token (re-enrolment, revocation) drops it here too, after
// the change is committed. Bounded: past `max_entries` it starts over.

#include <cstddef>
#include <optional>
#include <string>
#include <unordered_map>

namespace revive::server {

template <class Value>
class TokenCache {
 public:
  explicit TokenCache(std::size_t max_entries = 100000) : max_(max_entries) {}

  std::optional<Value> find(const std::string& hash) const {
    auto it = entries_.find(hash);
    if (it == entries_.end()) return std::nullopt;
    return it->second;
  }
  void put(const std::string& hash, Value v) {
    if (entries_.size() >= max_) entries_.clear();
    entries_.insert_or_assign(hash, std::move(v));
  }
  void erase(const std::string& hash) { entries_.erase(hash); }
  template <class Pred>
  void erase_if(Pred pred) {
    std::erase_if(entries_, [&](const auto& kv) { return pred(kv.second); });
  }
  std::size_t size() const { return entries_.size(); }

 private:
  std::size_t max_;
  std::unordered_map<std::string, Value> entries_;
};

}  // namespace revive::server
