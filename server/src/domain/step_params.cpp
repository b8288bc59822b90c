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

Result<Json> step_parameters(StepKind kind, const Json& workflow_params,
                             const StepParamSources& sources) {
  Json params = workflow_params.is_object() ? workflow_params : Json::object();
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
