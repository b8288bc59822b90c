#pragma once
// Retrying an HTTP exchange while the server is away: exponential backoff with jitter, a stop
// flag, one line per retry. The agent uses it for every call to its server; revivectl does
// not retry (a person is waiting and can run the command again).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <random>

#include "revive/error.hpp"
#include "revive/http_client.hpp"

namespace revive::http {

struct BackoffOptions {
  std::chrono::milliseconds first{1000};
  std::chrono::milliseconds max{30000};
  double jitter = 0.5;
};

/// Waits that double from `first` up to `max`, each scaled by a random factor in
/// [1 - jitter, 1 + jitter): when the server comes back, a workshop's laptops do not all
/// knock at the same instant.
class Backoff {
 public:
  using Options = BackoffOptions;
  explicit Backoff(Options o = {}, std::uint64_t seed = std::random_device{}());

  /// The wait before the next attempt; doubles the base for the one after (up to max).
  std::chrono::milliseconds next();
  /// Back to `first` (after a success).
  void reset();

 private:
  Options opts_;
  double base_ms_;
  std::mt19937_64 rng_;
};

/// true for outcomes worth another try later: no answer at all (io: connect, timeout, reset)
/// or a 5xx (the server is restarting or in trouble). A 4xx is an answer to act on.
bool worth_retrying(const Result<Response>& r);

struct RetryOptions {
  BackoffOptions backoff;
  /// Once set, no further attempt starts and a wait in progress ends (cancelled).
  const std::atomic<bool>* stop = nullptr;
  /// Told before each wait what the failed attempt gave and how long the wait is.
  std::function<void(const Result<Response>& outcome, std::chrono::milliseconds wait)> on_retry;
  /// Waits `d`, watching `stop`; returns false when stopped meanwhile. Default: sleeps in
  /// 100 ms steps. Tests pass an instant one.
  std::function<bool(std::chrono::milliseconds d)> wait;
};

/// Runs `attempt` until its outcome is not worth retrying and returns that outcome (any
/// status below 500, or an error other than io). Retries for as long as it takes: the agent
/// has nothing better to do than wait for its server. cancelled once `stop` is set.
Result<Response> with_retries(const std::function<Result<Response>()>& attempt,
                              const RetryOptions& o);

}  // namespace revive::http
