#pragma once
// Worker-thread helpers shared by the image operations (core) and the deploy pipeline (agent):
// run N workers while the caller ticks progress, first-error-wins, throttled progress.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include "revive/error.hpp"

namespace revive::detail {

/// Runs `work(i)` for i in [0, n) on their own threads; meanwhile the calling thread calls
/// `tick()` about every 100 ms. Returns when all have finished.
inline void run_threads(unsigned n, const std::function<void(unsigned)>& work,
                        const std::function<void()>& tick) {
  std::mutex mu;
  std::condition_variable cv;
  unsigned running = n;
  {
    std::vector<std::jthread> threads;
    threads.reserve(n);
    for (unsigned i = 0; i < n; ++i) {
      threads.emplace_back([&, i] {
        work(i);
        std::lock_guard lock(mu);
        --running;
        cv.notify_all();
      });
    }
    std::unique_lock lock(mu);
    while (running > 0) {
      cv.wait_for(lock, std::chrono::milliseconds(100), [&] { return running == 0; });
      lock.unlock();
      if (tick) tick();
      lock.lock();
    }
  }
}

/// First error wins; everyone else checks failed() and stops.
class FirstError {
 public:
  void set(Error e) {
    std::lock_guard lock(mu_);
    if (!error_) error_ = std::move(e);
    failed_.store(true, std::memory_order_relaxed);
  }
  bool failed() const { return failed_.load(std::memory_order_relaxed); }
  std::optional<Error> take() {
    std::lock_guard lock(mu_);
    return std::move(error_);
  }

 private:
  std::mutex mu_;
  std::optional<Error> error_;
  std::atomic<bool> failed_{false};
};

/// Says yes at most once per `every` (and whenever `force` is set): the time gate behind every
/// progress report (image operations, the agent's step progress).
class RateGate {
 public:
  explicit RateGate(std::chrono::milliseconds every) : every_(every) {}
  bool due(bool force = false) {
    const auto now = std::chrono::steady_clock::now();
    if (!force && now - last_ < every_) return false;
    last_ = now;
    return true;
  }

 private:
  std::chrono::milliseconds every_;
  std::chrono::steady_clock::time_point last_{};
};

/// Throttles progress callbacks to ~10 a second and always reports the final state.
class ProgressThrottle {
 public:
  explicit ProgressThrottle(std::function<void(std::uint64_t, std::uint64_t)> fn)
      : fn_(std::move(fn)) {}
  void maybe(std::uint64_t done, std::uint64_t total) {
    if (fn_ && gate_.due()) fn_(done, total);
  }
  void final(std::uint64_t done, std::uint64_t total) {
    if (fn_) fn_(done, total);
  }

 private:
  std::function<void(std::uint64_t, std::uint64_t)> fn_;
  RateGate gate_{std::chrono::milliseconds(100)};
};

/// true when every byte is zero (memcmp against itself shifted: vectorised by libc).
inline bool all_zero(std::span<const std::byte> b) {
  if (b.size() < 16) {
    for (std::byte x : b) {
      if (x != std::byte{0}) return false;
    }
    return true;
  }
  for (std::size_t i = 0; i < 16; ++i) {
    if (b[i] != std::byte{0}) return false;
  }
  return std::memcmp(b.data(), b.data() + 16, b.size() - 16) == 0;
}

}  // namespace revive::detail
