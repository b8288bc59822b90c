#include "domain/step_params.hpp"

#include <algorithm>
#include <cstdint>

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
// The countdown, unless nothing destructive is due or it was done before. A workflow may set
// its length (`confirm: {countdown_s}`, a workshop's habit or a test's few seconds) within
// bounds, never switch it off; what the laptop is told about itself is the server's.
Result<void> add_confirm(StepKind kind, const StepParamSources& sources, Json& params) {
  Json own = Json::object();
  if (auto it = params.find("confirm"); it != params.end()) {
    if (it->is_object()) own = *it;
    params.erase(it);  // the server decides whether the laptop counts down
  }
  if (!destructive(kind) || !sources.confirm) return {};
  auto facts = sources.confirm();
  if (!facts) return facts.error().with_context("the countdown before the first destructive step");
  if (!needs_confirmation(kind, facts->destroyed_before)) return {};
  int countdown_s = kConfirmCountdownS;
  if (auto s = own.find("countdown_s"); s != own.end() && s->is_number_integer()) {
    countdown_s = static_cast<int>(std::clamp<std::int64_t>(
        s->get<std::int64_t>(), kShortestConfirmCountdownS, kLongestConfirmCountdownS));
  }
  params["confirm"] = {{"countdown_s", countdown_s},
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
    case StepKind::provision:
      if (sources.batch_profile && !params.contains("profile")) {
        auto profile = sources.batch_profile();
        if (!profile) return profile.error().with_context("the batch's recipient profile");
        if (*profile) params["profile"] = std::move(**profile);
      }
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
