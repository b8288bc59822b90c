#include "revive/http_retry.hpp"

#include <algorithm>
#include <thread>

namespace revive::http {

namespace {

bool stopped(const std::atomic<bool>* stop) { return stop != nullptr && stop->load(); }

bool sleep_watching(std::chrono::milliseconds d, const std::atomic<bool>* stop) {
  constexpr std::chrono::milliseconds kStep{100};
  for (std::chrono::milliseconds slept{0}; slept < d; slept += kStep) {
    if (stopped(stop)) return false;
    std::this_thread::sleep_for(std::min(kStep, d - slept));
  }
  return !stopped(stop);
}

}  // namespace

Backoff::Backoff(Options o, std::uint64_t seed)
    : opts_(o), base_ms_(static_cast<double>(o.first.count())), rng_(seed) {}

std::chrono::milliseconds Backoff::next() {
  const double j = std::clamp(opts_.jitter, 0.0, 1.0);
  const double factor = j > 0 ? std::uniform_real_distribution<double>(1 - j, 1 + j)(rng_) : 1.0;
  const auto wait = std::chrono::milliseconds(static_cast<long long>(base_ms_ * factor));
  base_ms_ = std::min(base_ms_ * 2, static_cast<double>(opts_.max.count()));
  return wait;
}

void Backoff::reset() { base_ms_ = static_cast<double>(opts_.first.count()); }

bool worth_retrying(const Result<Response>& r) {
  if (!r) return r.error().code == Errc::io;
  return r->status >= 500;
}

Result<Response> with_retries(const std::function<Result<Response>()>& attempt,
                              const RetryOptions& o) {
  Backoff backoff(o.backoff);
  for (;;) {
    if (stopped(o.stop)) return make_error(Errc::cancelled, "stopping");
    Result<Response> r = attempt();
    if (!worth_retrying(r)) return r;
    const auto wait = backoff.next();
    if (o.on_retry) o.on_retry(r, wait);
    const bool waited = o.wait ? o.wait(wait) : sleep_watching(wait, o.stop);
    if (!waited) return make_error(Errc::cancelled, "stopping");
  }
}

}  // namespace revive::http
