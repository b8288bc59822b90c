#include "domain/run_factory.hpp"

namespace revive::server {

namespace {

// The laptop's own workflow, else its batch's, else the workshop's default (looked up once:
// a thousand laptops enrolling at once each make a run).
Result<std::optional<WorkflowRow>> applicable_workflow(Storage& s, const DeviceRow& device,
                                                       const std::optional<BatchRow>& batch) {
  if (device.workflow_id) return s.workflows().find(*device.workflow_id);
  if (batch && batch->workflow_id) return s.workflows().find(*batch->workflow_id);
  REVIVE_ASSIGN(name, s.settings().get("default_workflow"));
  if (!name) return std::optional<WorkflowRow>();
  return s.workflows().find(*name);
}

}  // namespace

Result<std::int64_t> create_run(DomainContext& ctx, std::int64_t device_id) {
  Storage& s = ctx.storage();
  REVIVE_ASSIGN(device, s.devices().find(device_id));
  if (!device)
    return make_error(Errc::not_found, "device " + std::to_string(device_id) + " does not exist");
  std::optional<BatchRow> batch;
  if (device->batch_id) {
    REVIVE_ASSIGN(b, s.batches().find(*device->batch_id));
    batch = std::move(b);
  }
  REVIVE_ASSIGN(wf, applicable_workflow(s, *device, batch));
  if (!wf) {
    return make_error(Errc::internal,
                      "no workflow applies to device " + std::to_string(device_id) +
                          " (its own, its batch's or the default workflow is missing)");
  }
  RunRow run;
  run.device_id = device_id;
  run.workflow_id = wf->id;
  run.state = RunState::running;
  if (batch) run.image = batch->image;
  run.created_at = ctx.now();
  return s.runs().create(run, wf->steps);
}

}  // namespace revive::server
