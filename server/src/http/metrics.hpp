#pragma once
// Prometheus text-format metrics. The HTTP server's thread counts requests and connections
// while the domain's thread renders them for /metrics: every member is read and written under
// one mutex (uncontended but for a scrape: a few tens of nanoseconds per request).

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace revive::server {

class Metrics {
 public:
  /// Records one finished HTTP request.
  void request(const std::string& route, int status, double seconds);
  void bytes_served(std::uint64_t n) {
    const std::lock_guard lock(mutex_);
    bytes_served_ += n;
  }
  void transfer_started() { add(active_transfers_, 1); }
  void transfer_finished() { add(active_transfers_, -1); }
  void connection_opened() { add(connections_, 1); }
  void connection_closed() { add(connections_, -1); }
  /// A connection closed at once ("address": its address holds its share, "total": no slot
  /// and nothing idle to make room, "descriptors": accept(2) ran out of file descriptors) or an
  /// idle one closed to make room ("evicted").
  void connection_refused(const std::string& reason) {
    const std::lock_guard lock(mutex_);
    ++refused_[reason];
  }

  /// Text exposition; `agents_by_state` comes from the state store at scrape time.
  std::string render(const std::map<std::string, std::int64_t>& agents_by_state) const;
  /// Further metrics rendered at scrape time and appended (the boot services' counters).
  void add_source(std::function<std::string()> render_more) {
    const std::lock_guard lock(mutex_);
    sources_.push_back(std::move(render_more));
  }

 private:
  static constexpr std::array<double, 12> kBuckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                   0.05,   0.1,   0.25,   0.5,   1.0,  5.0};
  void render_own(const std::map<std::string, std::int64_t>& agents_by_state,
                  std::string& out) const;
  void add(std::int64_t& gauge, std::int64_t delta) {
    const std::lock_guard lock(mutex_);
    gauge += delta;
  }

  struct Histogram {
    std::array<std::uint64_t, kBuckets.size()> counts{};
    std::uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, std::uint64_t> requests_;
  std::map<std::string, Histogram> latency_;
  std::uint64_t bytes_served_ = 0;
  std::int64_t active_transfers_ = 0;
  std::int64_t connections_ = 0;
  std::map<std::string, std::uint64_t> refused_;
  std::vector<std::function<std::string()>> sources_;
};

}  // namespace revive::server
