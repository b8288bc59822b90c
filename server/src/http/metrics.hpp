#pragma once
// Prometheus text-format metrics, updated from the io thread (no locking needed).

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace revive::server {

class Metrics {
 public:
  /// Records one finished HTTP request.
  void request(const std::string& route, int status, double seconds);
  void bytes_served(std::uint64_t n) { bytes_served_ += n; }
  void transfer_started() { ++active_transfers_; }
  void transfer_finished() { --active_transfers_; }
  void connection_opened() { ++connections_; }
  void connection_closed() { --connections_; }
  /// A connection closed at once ("address": its address holds its share, "total": no slot
  /// and nothing idle to make room, "descriptors": accept(2) ran out of file descriptors) or an
  /// idle one closed to make room ("evicted").
  void connection_refused(const std::string& reason) { ++refused_[reason]; }

  /// Text exposition; `agents_by_state` comes from the state store at scrape time.
  std::string render(const std::map<std::string, std::int64_t>& agents_by_state) const;
  /// Further metrics rendered at scrape time and appended (the boot services' counters).
  void add_source(std::function<std::string()> render_more) {
    sources_.push_back(std::move(render_more));
  }

 private:
  static constexpr std::array<double, 12> kBuckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                   0.05,   0.1,   0.25,   0.5,   1.0,  5.0};
  struct Histogram {
    std::array<std::uint64_t, kBuckets.size()> counts{};
    std::uint64_t count = 0;
    double sum = 0;
  };
  std::map<std::pair<std::string, int>, std::uint64_t> requests_;
  std::map<std::string, Histogram> latency_;
  std::uint64_t bytes_served_ = 0;
  std::int64_t active_transfers_ = 0;
  std::int64_t connections_ = 0;
  std::map<std::string, std::uint64_t> refused_;
  std::vector<std::function<std::string()>> sources_;
};

}  // namespace revive::server
