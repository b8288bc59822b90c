#include "domain/step_params.hpp"

namespace revive::server {

namespace {
Json string_or_empty(const Json& disk, const char* key) {
  auto it = disk.find(key);
  return it != disk.end() && it->is_string() ? *it : Json("");
}
}  // namespace

Json wipe_targets(const std::optional<Json>& inventory) {
  Json out = Json::array();
  if (!inventory || !inventory->is_object()) return out;
  const Json disks = inventory->value("disks", Json::array());
  if (!disks.is_array()) return out;
  for (const auto& d : disks) {
    if (!d.is_object() || !d.value("name", Json()).is_string()) continue;
    if (d.value("removable", Json(false)) == Json(true) ||
        d.value("transport", Json()) == Json("USB"))
      continue;
    out.push_back({{"name", d["name"]},
                   {"serial", string_or_empty(d, "serial")},
                   {"model", string_or_empty(d, "model")}});
  }
  return out;
}

bool destructive(StepKind kind) { return kind == StepKind::wipe || kind == StepKind::deploy; }

bool needs_confirmation(StepKind kind, bool destroyed_before) {
  return destructive(kind) && !destroyed_before;
}

namespace {
// The countdown, unless nothing destructive is due or it was done before; a workflow's own
// object (a longer countdown, say) is kept, a workflow cannot switch it off.
Result<void> add_confirm(StepKind kind, const StepParamSources& sources, Json& params) {
  if (!destructive(kind) || !sources.confirm) return {};
  auto facts = sources.confirm();
  if (!facts) return facts.error().with_context("the countdown before the first destructive step");
  if (!needs_confirmation(kind, facts->destroyed_before)) return {};
  if (params.contains("confirm") && params["confirm"].is_object()) return {};
  params["confirm"] = {{"countdown_s", kConfirmCountdownS},
                       {"workshop", facts->workshop},
                       {"batch", facts->batch ? Json(*facts->batch) : Json()}};
  return {};
}
}  // namespace

Result<Json> step_parameters(StepKind kind, const Json& workflow_params,
                             const StepParamSources& sources) {
  Json params = workflow_params.is_object() ? workflow_params : Json::object();
  REVIVE_TRY(add_confirm(kind, sources, params));
  switch (kind) {
    case StepKind::deploy:
      if (sources.batch_image && !params.contains("image")) params["image"] = *sources.batch_image;
      break;
    case StepKind::test:
      // The agent parses and applies the policy itself.
      if (sources.grading_policy && !params.contains("grading_policy"))
        params["grading_policy"] = *sources.grading_policy;
      break;
    case StepKind::wipe:
      if (!params.contains("drives")) {
        std::optional<Json> inventory;
        if (sources.inventory) {
          auto inv = sources.inventory();
          if (!inv) return inv.error().with_context("the wipe job's drive list");
          inventory = std::move(*inv);
        }
        params["drives"] = wipe_targets(inventory);
      }
      break;
    default:
      break;
  }
  return params;
}

}  // namespace revive::server
