#include "domain/first_visit.hpp"

#include <algorithm>

#include "domain/context.hpp"

namespace revive::server {

Result<ConfirmFacts> confirm_facts(Storage& s, std::int64_t device_id) {
  ConfirmFacts f;
  REVIVE_ASSIGN(results, s.runs().results(device_id));
  f.destroyed_before = std::any_of(results.begin(), results.end(),
                                   [](const StepResultRow& r) { return destructive(r.kind); });
  REVIVE_ASSIGN(workshop, s.settings().get("workshop_name"));
  f.workshop = workshop.value_or("Revive workshop");
  REVIVE_ASSIGN(device, s.devices().find(device_id));
  if (device && device->batch_id) {
    REVIVE_ASSIGN(batch, s.batches().find(*device->batch_id));
    if (batch) f.batch = batch->name;
  }
  return f;
}

}  // namespace revive::server
