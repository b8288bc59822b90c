#include "domain/views.hpp"

#include <algorithm>

#include "revive/csv.hpp"

namespace revive::server {

namespace {

Json opt(const std::optional<std::string>& v) { return v ? Json(*v) : Json(); }

std::string text(const Json& v) { return v.is_string() ? v.get<std::string>() : std::string(); }

std::string csv_lines(const Json& d) {
  const std::string base = std::to_string(d["id"].get<std::int64_t>()) + "," +
                           csv_field(text(d["vendor"])) + "," + csv_field(text(d["model"])) + "," +
                           csv_field(text(d["serial"])) + "," + csv_field(text(d["system_uuid"])) +
                           "," + csv_field(text(d["batch"])) + "," +
                           csv_field(text(d["workflow"])) + "," + csv_field(text(d["state"]));
  std::map<std::int64_t, std::string> status;
  for (const auto& r : d.value("results", Json::array()))
    status[r["step"].get<std::int64_t>()] = text(r["status"]);
  std::string out;
  for (const auto& s : d.value("steps", Json::array())) {
    const auto it = status.find(s["id"].get<std::int64_t>());
    out += base + "," + csv_field(text(s["kind"])) + "," + csv_field(text(s["state"])) + "," +
           std::to_string(s["attempt"].get<std::int64_t>()) + "," +
           csv_field(it != status.end() ? it->second : "") + "," +
           csv_field(text(s.value("error", Json()))) + "\n";
  }
  return out;
}

}  // namespace

Result<Json> Views::steps_view(std::int64_t device_id, std::int64_t run_id) {
  REVIVE_ASSIGN(steps, ctx_.storage().runs().steps(run_id));
  Json list = Json::array();
  Json current;
  for (const auto& s : steps) {
    Json st = {{"id", s.id},
               {"kind", std::string(protocol::to_string(s.kind))},
               {"state", std::string(protocol::to_string(s.state))},
               {"attempt", s.attempt}};
    if (s.error) st["error"] = *s.error;
    if (current.is_null() && s.state != StepState::done && s.state != StepState::skipped) {
      current = st;
      current["progress"] = live_.progress(s.id);
      if (s.kind == StepKind::deploy && s.state == StepState::running && deployments_) {
        if (auto source = deployments_->assignment_of(device_id))
          current["source"] = protocol::to_json(*source);
      }
    }
    list.push_back(std::move(st));
  }
  return Json{{"steps", std::move(list)}, {"current", std::move(current)}};
}

Result<Json> Views::grade(std::int64_t device_id) {
  // The latest grade a test step reported, for dashboards and `revivectl watch`.
  REVIVE_ASSIGN(r, ctx_.storage().runs().latest_result(device_id, StepKind::test, StepStatus::ok));
  if (!r || !r->result.is_object()) return Json();
  const Json grading = r->result.value("grading", Json());
  if (!grading.is_object() || !grading.contains("grade") || grading["grade"].is_null())
    return Json();
  const Json& g = grading["grade"];
  return g.is_string() ? g : Json(g.dump());
}

Result<Json> Views::delivery(std::int64_t device_id) {
  // How the latest deploy got its chunks (bytes by source, re-plans), recorded with its result.
  REVIVE_ASSIGN(r,
                ctx_.storage().runs().latest_result(device_id, StepKind::deploy, StepStatus::ok));
  if (!r || !r->result.is_object()) return Json();
  const Json d = r->result.value("delivery", Json());
  return d.is_object() ? d : Json();
}

Result<Json> Views::device_summary(std::int64_t device_id) {
  Storage& s = ctx_.storage();
  REVIVE_ASSIGN(d, s.devices().find(device_id));
  if (!d)
    return make_error(Errc::not_found, "device " + std::to_string(device_id) + " does not exist");
  std::optional<std::string> batch, workflow;
  if (d->batch_id) {
    REVIVE_ASSIGN(b, s.batches().find(*d->batch_id));
    if (b) batch = b->name;
  }
  REVIVE_ASSIGN(run, s.runs().latest(device_id));
  Json j = {{"id", d->id},
            {"system_uuid", d->system_uuid},
            {"serial", d->serial},
            {"model", d->model},
            {"vendor", d->vendor},
            {"macs", d->macs},
            {"last_seen", d->last_seen},
            {"batch", opt(batch)}};
  j["flag"] = opt(d->flag);  // issue 15: e.g. identity_in_use, for the operator to look at
  j["state"] = run ? std::string(protocol::to_string(run->state)) : std::string("idle");
  j["finished_at"] = run && run->finished_at ? Json(*run->finished_at) : Json();
  if (run) {
    REVIVE_ASSIGN(w, s.workflows().find(run->workflow_id));
    if (w) workflow = w->name;
    REVIVE_ASSIGN(steps, steps_view(device_id, run->id));
    j["steps"] = std::move(steps["steps"]);
    j["current"] = std::move(steps["current"]);
  }
  j["workflow"] = opt(workflow);
  REVIVE_ASSIGN(g, grade(device_id));
  j["grade"] = std::move(g);
  REVIVE_ASSIGN(delivered, delivery(device_id));
  j["delivery"] = std::move(delivered);
  return j;
}

Result<Json> Views::devices() {
  REVIVE_ASSIGN(ids, ctx_.storage().devices().ids());
  Json out = Json::array();
  for (auto id : ids) {
    REVIVE_ASSIGN(s, device_summary(id));
    out.push_back(std::move(s));
  }
  return out;
}

Result<Json> Views::device_detail(std::int64_t device_id) {
  REVIVE_ASSIGN(j, device_summary(device_id));
  Storage& s = ctx_.storage();
  REVIVE_ASSIGN(results, s.runs().results(device_id));
  Json list = Json::array();
  for (const auto& r : results) {
    list.push_back({{"step", r.step_id},
                    {"kind", std::string(protocol::to_string(r.kind))},
                    {"attempt", r.attempt},
                    {"status", std::string(protocol::to_string(r.status))},
                    {"result", r.result},
                    {"error", r.error},
                    {"recorded_at", r.recorded_at}});
  }
  j["results"] = std::move(list);
  REVIVE_ASSIGN(inventory, s.devices().inventory(device_id));
  if (inventory) j["inventory"] = std::move(*inventory);
  return j;
}

Result<Json> Views::events_since(std::int64_t after_id, int limit) {
  REVIVE_ASSIGN(events, ctx_.storage().events().since(after_id, std::clamp(limit, 1, 1000)));
  Json out = Json::array();
  for (const auto& e : events) {
    out.push_back({{"id", e.id},
                   {"at", e.at},
                   {"device", e.device_id ? Json(*e.device_id) : Json()},
                   {"kind", e.kind},
                   {"data", e.data}});
  }
  return out;
}

Result<std::map<std::string, std::int64_t>> Views::counts_by_state() {
  REVIVE_ASSIGN(counts, ctx_.storage().devices().count_by_run_state());
  std::map<std::string, std::int64_t> out{
      {"running", 0}, {"failed", 0}, {"done", 0}, {"cancelled", 0}};
  for (const auto& [state, n] : counts)
    out[state ? std::string(protocol::to_string(*state)) : std::string("idle")] += n;
  return out;
}

Result<std::string> Views::device_export(const std::string& format) {
  if (format != "json" && format != "csv")
    return make_error(Errc::invalid_input, "format must be csv or json");
  REVIVE_ASSIGN(ids, ctx_.storage().devices().ids());
  Json full = Json::array();
  for (auto id : ids) {
    auto one = device_detail(id);
    if (one) full.push_back(std::move(*one));
  }
  if (format == "json") return full.dump() + "\n";
  std::string out =
      "device_id,vendor,model,serial,system_uuid,batch,workflow,state,step,step_state,attempt,"
      "result_status,error\n";
  for (const auto& d : full) out += csv_lines(d);
  return out;
}

}  // namespace revive::server
