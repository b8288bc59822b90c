#pragma once
// Token buckets for the public routes that cost a database transaction or a password hash
// (enrolment, boot scripts, login): one bucket per client address and one shared by all
// addresses, so neither one LAN host nor many together can make the server fsync or hash as
// fast as they can send. Pure and clock-injected (seconds as a double): unit-tested without
// sockets.

#include <cstddef>
#include <map>
#include <string>

namespace revive::server {

struct RateRule {
  double burst = 20;        ///< requests allowed at once
  double per_second = 0.5;  ///< refill rate
};

/// The clock RateLimiter::take() is read with in the server: seconds of std::chrono::steady_clock.
double monotonic_seconds();

class RateLimiter {
 public:
  RateLimiter(RateRule per_address, RateRule overall, std::size_t max_addresses = 4096);

  /// Takes one request's token from `address`'s bucket and the shared one. 0 when the request
  /// may go ahead; else the seconds until it may (nothing is taken then).
  double take(const std::string& address, double now);

  std::size_t addresses() const { return buckets_.size(); }

 private:
  struct Bucket {
    double tokens = 0;
    double at = 0;  ///< when `tokens` was last brought up to date
  };
  static void refill(Bucket& b, const RateRule& rule, double now);
  /// Forgets addresses whose bucket is full again (they are as good as new).
  void forget_full(double now);

  RateRule per_address_, overall_;
  std::size_t max_addresses_;
  Bucket shared_;
  std::map<std::string, Bucket> buckets_;
};

}  // namespace revive::server
