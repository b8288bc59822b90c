#pragma once
// The deployments' part of /metrics (Prometheus text): bytes by source, the server port's load
// and the scheduler's counters. Pure.

#include <string>

#include "domain/deployments.hpp"

namespace revive::server {

/// Prometheus exposition of `s`: revive_deploy_bytes_total{source}, revive_server_port_*,
/// revive_deploy_laptops{source}, revive_scheduler_*_total.
std::string render_deploy_metrics(const DeploymentStats& s);

}  // namespace revive::server
