#include "domain/login_throttle.hpp"

#include <algorithm>

namespace revive::server {

namespace {
std::string name_key(const std::string& name, const std::string& peer) {
  return "name:" + peer + " " + name;
}
std::string peer_key(const std::string& peer) { return "peer:" + peer; }
}  // namespace

std::int64_t LoginThrottle::wait(const std::string& key, std::size_t limit, std::int64_t now) {
  auto it = failures_.find(key);
  if (it == failures_.end()) return 0;
  auto& times = it->second;
  while (!times.empty() && times.front() <= now - limits_.window_s) times.pop_front();
  if (times.empty()) {
    failures_.erase(it);
    return 0;
  }
  if (times.size() < limit) return 0;
  // Refused until enough failures have aged out to be under the limit again.
  return times[times.size() - limit] + limits_.window_s - now;
}

std::int64_t LoginThrottle::retry_after(const std::string& name, const std::string& peer,
                                        std::int64_t now) {
  return std::max(wait(name_key(name, peer), limits_.per_name, now),
                  wait(peer_key(peer), limits_.per_peer, now));
}

void LoginThrottle::failed(const std::string& name, const std::string& peer, std::int64_t now) {
  if (failures_.size() + 2 > limits_.max_keys) prune(now);  // room for the two keys below
  for (const auto& key : {name_key(name, peer), peer_key(peer)}) {
    auto& times = failures_[key];
    times.push_back(now);
    // More than the larger limit is never needed to decide.
    while (times.size() > std::max(limits_.per_name, limits_.per_peer)) times.pop_front();
  }
}

void LoginThrottle::succeeded(const std::string& name, const std::string& peer) {
  failures_.erase(name_key(name, peer));
}

void LoginThrottle::prune(std::int64_t now) {
  std::erase_if(failures_, [&](const auto& kv) {
    return kv.second.empty() || kv.second.back() <= now - limits_.window_s;
  });
  // Still full (a flood within the window): drop the keys whose latest failure is oldest.
  while (!failures_.empty() && failures_.size() + 2 > limits_.max_keys) {
    auto oldest = std::min_element(
        failures_.begin(), failures_.end(),
        [](const auto& a, const auto& b) { return a.second.back() < b.second.back(); });
    failures_.erase(oldest);
  }
}

}  // namespace revive::server
