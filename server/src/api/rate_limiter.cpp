#include "api/rate_limiter.hpp"

#include <algorithm>
#include <chrono>

namespace revive::server {

double monotonic_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

RateLimiter::RateLimiter(RateRule per_address, RateRule overall, std::size_t max_addresses)
    : per_address_(per_address),
      overall_(overall),
      max_addresses_(max_addresses),
      shared_{overall.burst, -1} {}

void RateLimiter::refill(Bucket& b, const RateRule& rule, double now) {
  if (b.at < 0) b.at = now;  // a new bucket starts full
  b.tokens = std::min(rule.burst, b.tokens + std::max(0.0, now - b.at) * rule.per_second);
  b.at = now;
}

void RateLimiter::forget_full(double now) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    refill(it->second, per_address_, now);
    it = it->second.tokens >= per_address_.burst ? buckets_.erase(it) : std::next(it);
  }
}

double RateLimiter::take(const std::string& address, double now) {
  auto wait_for = [](const Bucket& b, const RateRule& r) {
    return r.per_second > 0 ? (1.0 - b.tokens) / r.per_second : 3600.0;
  };
  refill(shared_, overall_, now);
  auto it = buckets_.find(address);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_addresses_) forget_full(now);
    // Every remembered address is busy: a newcomer waits like an address without tokens, so
    // a flood of addresses cannot make the map grow without bound.
    if (buckets_.size() >= max_addresses_) return std::max(1.0, wait_for(Bucket{}, per_address_));
    it = buckets_.emplace(address, Bucket{per_address_.burst, now}).first;
  }
  Bucket& own = it->second;
  refill(own, per_address_, now);
  if (own.tokens < 1.0) return wait_for(own, per_address_);
  if (shared_.tokens < 1.0) return wait_for(shared_, overall_);
  own.tokens -= 1.0;
  shared_.tokens -= 1.0;
  return 0;
}

}  // namespace revive::server
