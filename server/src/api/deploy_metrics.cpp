#include "api/deploy_metrics.hpp"

#include <fmt/core.h>

namespace revive::server {

namespace {

void metric(std::string& out, const char* name, const char* type, const char* help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

}  // namespace

std::string render_deploy_metrics(const DeploymentStats& s) {
  std::string out;
  metric(out, "revive_deploy_bytes_total", "counter",
         "Chunk bytes deploying laptops report having received, by the source they name "
         "(estimated from chunks at the image's average stored chunk).");
  out += fmt::format("revive_deploy_bytes_total{{source=\"server\"}} {}\n", s.bytes_from_server);
  out += fmt::format("revive_deploy_bytes_total{{source=\"peer\"}} {}\n", s.bytes_from_peers);
  metric(out, "revive_server_port_bytes_total", "counter",
         "Chunk bytes the server answered with (its own port's share of the deployments).");
  out += fmt::format("revive_server_port_bytes_total {}\n", s.server_port_bytes);
  metric(out, "revive_server_port_rate_bytes", "gauge",
         "What the server's port can send, bytes/s (--uplink-mbps or the interface's speed).");
  out += fmt::format("revive_server_port_rate_bytes {}\n", s.server_port_rate);
  metric(out, "revive_server_port_committed_ratio", "gauge",
         "The scheduler's planned use of the server's port over its rate.");
  out += fmt::format("revive_server_port_committed_ratio {}\n",
                     s.server_port_rate > 0 ? s.server_committed / s.server_port_rate : 0.0);
  metric(out, "revive_deploy_laptops", "gauge",
         "Laptops deploying or relaying, by where they fetch chunks from (finished: relaying).");
  for (const auto& [source, n] : s.laptops)
    out += fmt::format("revive_deploy_laptops{{source=\"{}\"}} {}\n", source, n);
  const std::pair<const char*, std::uint64_t> counters[] = {
      {"revive_scheduler_events_total", s.scheduler.events},
      {"revive_scheduler_replans_total", s.scheduler.replans},
      {"revive_scheduler_changes_total", s.scheduler.changes},
      {"revive_scheduler_moves_total", s.scheduler.moves},
      {"revive_scheduler_errors_total", s.scheduler_errors},
      {"revive_deploy_source_failures_total", s.source_failures},
      {"revive_deploy_relay_releases_total", s.releases},
  };
  const char* help[] = {
      "Events the deployment scheduler handled.",
      "Plans it computed.",
      "Plans that changed some laptop's decision.",
      "Laptops moved from one chunk source to another.",
      "Events the scheduler refused (the laptop then fetches from the server).",
      "Peers reported failed by the laptops fetching from them.",
      "Relaying laptops told nobody needs them any more.",
  };
  for (std::size_t i = 0; i < std::size(counters); ++i) {
    metric(out, counters[i].first, "counter", help[i]);
    out += fmt::format("{} {}\n", counters[i].first, counters[i].second);
  }
  return out;
}

}  // namespace revive::server
