#pragma once
// Failed operator logins are counted per operator name from one source address, and per source
// address, in a sliding window; past the limit, further attempts from that address (right
// password or not) are refused until the oldest failure leaves the window. Never per name
// alone: then anyone on the LAN could lock an operator out by failing five times. Guessing
// from many addresses is slowed by the login rate limit (api/admission.hpp). Pure and
// clock-injected: unit-tested without sockets.

#include <cstdint>
#include <deque>
#include <map>
#include <string>

namespace revive::server {

struct LoginThrottleLimits {
  std::int64_t window_s = 15L * 60;
  std::size_t per_name = 5;      ///< guessing one operator's password from one address
  std::size_t per_peer = 20;     ///< one address trying many names
  std::size_t max_keys = 10000;  ///< memory bound under a flood of names/addresses
};

class LoginThrottle {
 public:
  explicit LoginThrottle(LoginThrottleLimits limits = {}) : limits_(limits) {}

  /// Seconds until `name` from `peer` may try again; 0 when it may try now.
  std::int64_t retry_after(const std::string& name, const std::string& peer, std::int64_t now);
  /// A wrong name or password.
  void failed(const std::string& name, const std::string& peer, std::int64_t now);
  /// A successful login clears the operator's failures from that address (not the address's).
  void succeeded(const std::string& name, const std::string& peer);

  std::size_t keys() const { return failures_.size(); }

 private:
  std::int64_t wait(const std::string& key, std::size_t limit, std::int64_t now);
  void prune(std::int64_t now);

  LoginThrottleLimits limits_;
  std::map<std::string, std::deque<std::int64_t>> failures_;  // key -> failure times, oldest first
};

}  // namespace revive::server
