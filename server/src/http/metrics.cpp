#include "http/metrics.hpp"

#include <fmt/core.h>

namespace revive::server {

void Metrics::request(const std::string& route, int status, double seconds) {
  const std::lock_guard lock(mutex_);
  ++requests_[{route, status}];
  auto& h = latency_[route];
  ++h.count;
  h.sum += seconds;
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++h.counts[i];
  }
}

std::string Metrics::render(const std::map<std::string, std::int64_t>& agents_by_state) const {
  std::string out;
  std::vector<std::function<std::string()>> more;
  {
    const std::lock_guard lock(mutex_);
    render_own(agents_by_state, out);
    more = sources_;
  }
  // Not under the lock: a source reads its own state (the boot services', the scheduler's).
  for (const auto& source : more) out += source();
  return out;
}

void Metrics::render_own(const std::map<std::string, std::int64_t>& agents_by_state,
                         std::string& out) const {
  out +=
      "# HELP revive_agents Laptops by the state of their current workflow.\n# TYPE revive_agents "
      "gauge\n";
  for (const auto& [state, n] : agents_by_state)
    out += fmt::format("revive_agents{{state=\"{}\"}} {}\n", state, n);
  out +=
      "# HELP revive_bytes_served_total Bytes of chunks and manifests sent.\n# TYPE "
      "revive_bytes_served_total counter\n";
  out += fmt::format("revive_bytes_served_total {}\n", bytes_served_);
  out +=
      "# HELP revive_active_transfers Chunk transfers in progress.\n# TYPE revive_active_transfers "
      "gauge\n";
  out += fmt::format("revive_active_transfers {}\n", active_transfers_);
  out +=
      "# HELP revive_http_connections Open HTTP connections.\n# TYPE revive_http_connections "
      "gauge\n";
  out += fmt::format("revive_http_connections {}\n", connections_);
  out +=
      "# HELP revive_http_connections_refused_total Connections closed at once or to make room, "
      "by reason.\n# TYPE revive_http_connections_refused_total counter\n";
  for (const auto& [reason, n] : refused_)
    out += fmt::format("revive_http_connections_refused_total{{reason=\"{}\"}} {}\n", reason, n);
  out +=
      "# HELP revive_http_requests_total HTTP requests by route and status.\n# TYPE "
      "revive_http_requests_total counter\n";
  for (const auto& [k, n] : requests_) {
    out += fmt::format("revive_http_requests_total{{route=\"{}\",code=\"{}\"}} {}\n", k.first,
                       k.second, n);
  }
  out +=
      "# HELP revive_http_request_duration_seconds Time to answer, by route.\n# TYPE "
      "revive_http_request_duration_seconds histogram\n";
  for (const auto& [route, h] : latency_) {
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
      out +=
          fmt::format("revive_http_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n",
                      route, kBuckets[i], h.counts[i]);
    }
    out +=
        fmt::format("revive_http_request_duration_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {}\n",
                    route, h.count);
    out +=
        fmt::format("revive_http_request_duration_seconds_sum{{route=\"{}\"}} {}\n", route, h.sum);
    out += fmt::format("revive_http_request_duration_seconds_count{{route=\"{}\"}} {}\n", route,
                       h.count);
  }
}

}  // namespace revive::server
