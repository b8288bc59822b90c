#pragma once
// What dashboards, `revivectl` and the exports show: a device's summary (state, steps, the
// running step's live progress, its grade), its details (results, inventory), the event log,
// device counts by state, and the device export. Read-only.

#include <cstdint>
#include <map>
#include <string>

#include "domain/context.hpp"
#include "domain/deployments.hpp"
#include "domain/live_steps.hpp"

namespace revive::server {

class Views {
 public:
  /// `deployments` (may be null) adds a deploying laptop's chunk source to its summary.
  Views(DomainContext& ctx, const LiveSteps& live, const Deployments* deployments = nullptr)
      : ctx_(ctx), live_(live), deployments_(deployments) {}

  /// {id, system_uuid, serial, model, vendor, macs, last_seen, batch, state, finished_at (the
  /// newest run's, or null), workflow, steps,
  /// current (with `source` while deploying: the scheduler's assignment), grade, delivery (the
  /// latest deploy's bytes by source and re-plans, null before one)}; not_found for an unknown
  /// device.
  Result<Json> device_summary(std::int64_t device_id);
  /// Every device's summary, by id; io on a storage failure.
  Result<Json> devices();
  /// The summary plus every step result and the inventory; not_found for an unknown device.
  Result<Json> device_detail(std::int64_t device_id);
  /// Up to `limit` (1..1000) events after `after_id`; io on a storage failure.
  Result<Json> events_since(std::int64_t after_id, int limit);
  /// Devices by the state of their newest run ("idle": none yet); running, failed, done and
  /// cancelled are always present. io on a storage failure.
  Result<std::map<std::string, std::int64_t>> counts_by_state();
  /// Every device's details (JSON) or one line per step (CSV); invalid_input for another format.
  Result<std::string> device_export(const std::string& format);

 private:
  Result<Json> steps_view(std::int64_t device_id, std::int64_t run_id);
  Result<Json> grade(std::int64_t device_id);
  Result<Json> delivery(std::int64_t device_id);

  DomainContext& ctx_;
  const LiveSteps& live_;
  const Deployments* deployments_;
};

}  // namespace revive::server
