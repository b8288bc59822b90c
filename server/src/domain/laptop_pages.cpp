#include "domain/laptop_pages.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>

#include "domain/json_fields.hpp"
#include "domain/partners.hpp"
#include "revive/grading.hpp"

namespace revive::server {

namespace {

// The events a laptop's timeline shows: its visits, its steps and what operators did. The
// agent's own chatter ("agent") and boot-script fetches stay in the event log.
const std::vector<std::string>& timeline_kinds() {
  static const std::vector<std::string> kinds = {
      "enrolled",           "re-enrolled",         "network_boot",  "enrolment-refused",
      "enrolment-accepted", "enrolment-took-over", "step-started",  "step-done",
      "step-failed",        "step-timed-out",      "step-retry",    "step-skipped",
      "workflow-cancelled", "workflow-restarted",  "workflow-done", "certificate",
      "handed-over",        "loan-lent",           "loan-returned"};
  return kinds;
}
constexpr int kTimelineLimit = 1000;

bool one_of(const std::string& v, std::initializer_list<const char*> allowed) {
  return std::any_of(allowed.begin(), allowed.end(), [&](const char* a) { return v == a; });
}

// The newest result of a step kind on the device (any status), or null.
Json newest_result(const std::vector<StepResultRow>& results, StepKind kind) {
  const StepResultRow* best = nullptr;
  for (const auto& r : results)
    if (r.kind == kind && (!best || r.recorded_at >= best->recorded_at)) best = &r;
  if (!best) return Json();
  return {{"step", best->step_id},
          {"attempt", best->attempt},
          {"status", std::string(protocol::to_string(best->status))},
          {"error", best->error},
          {"recorded_at", best->recorded_at},
          {"result", best->result.is_object() ? best->result : Json::object()}};
}

Json test_view(Json r) {
  if (r.is_null()) return r;
  const Json body = std::move(r["result"]);
  r.erase("result");
  r["tests"] = body.value("tests", Json::object());
  const Json grading = body.value("grading", Json::object());
  r["grade"] = grading.value("grade", Json());
  r["reasons"] = grading.value("reasons", Json::array());
  r["reason_codes"] = grading.value("reason_codes", Json::array());  // empty from older agents
  r["windows11"] = grading.value("windows11", Json());
  r["suitable_for"] = grading.value("suitable_for", Json());
  return r;
}

Json wipe_view(Json r) {
  if (r.is_null()) return r;
  const Json body = std::move(r["result"]);
  r.erase("result");
  Json drives = Json::array();
  for (const auto& d : body.value("drives", Json::array())) {
    if (!d.is_object()) continue;
    const Json drive = d.value("drive", Json::object());
    const Json verification = d.value("verification", Json::object());
    drives.push_back({{"name", drive.value("name", Json())},
                      {"model", drive.value("model", Json())},
                      {"serial", drive.value("serial", Json())},
                      {"size_bytes", drive.value("size_bytes", Json())},
                      {"method", d.value("method", Json())},
                      {"nist_level", d.value("nist_level", Json())},
                      {"verification", verification.value("method", Json())},
                      {"mismatches", verification.value("mismatches", Json())},
                      {"result", d.value("result", Json())}});
  }
  r["drives"] = std::move(drives);
  return r;
}

Json deploy_view(Json r) {
  if (r.is_null()) return r;
  const Json body = std::move(r["result"]);
  r.erase("result");
  r["image"] = body.value("image", Json());
  r["bytes_written"] = body.value("bytes_written", Json());
  r["delivery"] = body.value("delivery", Json());
  return r;
}

}  // namespace

Result<void> validate(const LaptopFilter& f) {
  if (!f.state.empty() && !one_of(f.state, {"idle", "running", "failed", "done", "cancelled"}))
    return make_error(
        Errc::invalid_input,
        "state must be idle, running, failed, done or cancelled, not \"" + f.state + "\"");
  const bool known_grade = std::find(kGrades.begin(), kGrades.end(), f.grade) != kGrades.end();
  if (!f.grade.empty() && !known_grade && f.grade != "none")
    return make_error(Errc::invalid_input,
                      "grade must be A, B, C, reject or none, not \"" + f.grade + "\"");
  if (f.text.size() > 200)
    return make_error(Errc::invalid_input, "the search text is at most 200 characters");
  if (f.batch.size() > 200)
    return make_error(Errc::invalid_input, "a batch name is at most 200 characters");
  return {};
}

Json laptop_entry(const Json& summary) {
  const Json current = summary.value("current", Json());
  return {{"id", summary.value("id", Json())},
          {"vendor", summary.value("vendor", Json())},
          {"model", summary.value("model", Json())},
          {"serial", summary.value("serial", Json())},
          {"batch", summary.value("batch", Json())},
          {"state", summary.value("state", Json())},
          {"stage", current.is_object() ? current.value("kind", Json()) : Json()},
          {"grade", summary.value("grade", Json())},
          {"flag", summary.value("flag", Json())},
          {"last_seen", summary.value("last_seen", Json())}};
}

bool laptop_matches(const Json& entry, const LaptopFilter& f) {
  if (!f.state.empty() && text_field(entry, "state") != f.state) return false;
  if (!f.batch.empty() && text_field(entry, "batch") != f.batch) return false;
  if (!f.grade.empty()) {
    const std::string g = text_field(entry, "grade");
    if (f.grade == "none" ? !g.empty() : g != f.grade) return false;
  }
  if (f.text.empty()) return true;
  const std::string needle = ascii_lower(f.text);
  const auto id = entry.value("id", Json());
  const std::array<std::string, 4> hay = {
      text_field(entry, "serial"), text_field(entry, "model"), text_field(entry, "vendor"),
      id.is_number() ? std::to_string(id.get<std::int64_t>()) : ""};
  return std::any_of(hay.begin(), hay.end(), [&](const std::string& h) {
    return ascii_lower(h).find(needle) != std::string::npos;
  });
}

Json inventory_digest(const Json& inventory) {
  if (!inventory.is_object()) return Json::object();
  const Json cpu = inventory.value("cpu", Json::object());
  Json disks = Json::array();
  for (const auto& d : inventory.value("disks", Json::array())) {
    if (!d.is_object()) continue;
    disks.push_back({{"name", d.value("name", Json())},
                     {"model", d.value("model", Json())},
                     {"serial", d.value("serial", Json())},
                     {"size_bytes", d.value("size_bytes", Json())},
                     {"transport", d.value("transport", Json())},
                     {"removable", d.value("removable", false)}});
  }
  Json batteries = Json::array();
  for (const auto& b : inventory.value("batteries", Json::array())) {
    if (!b.is_object()) continue;
    const Json design = b.value("design_wh", Json()), full = b.value("full_wh", Json());
    Json health;
    if (design.is_number() && full.is_number() && design.get<double>() > 0)
      health = std::lround(100.0 * full.get<double>() / design.get<double>());
    batteries.push_back({{"health_pct", health}, {"cycle_count", b.value("cycle_count", Json())}});
  }
  return {{"cpu",
           {{"model", cpu.value("model", Json())},
            {"cores", cpu.value("cores", Json())},
            {"threads", cpu.value("threads", Json())}}},
          {"memory_mib", inventory.value("memory", Json::object()).value("total_mib", Json())},
          {"disks", std::move(disks)},
          {"batteries", std::move(batteries)},
          {"firmware", inventory.value("firmware", Json())},
          {"tpm", inventory.value("tpm", Json())}};
}

Result<Json> LaptopPages::list(const LaptopFilter& filter) {
  REVIVE_TRY(validate(filter));
  REVIVE_ASSIGN(all, views_.devices());
  Json out = Json::array();
  for (const auto& summary : all) {
    Json entry = laptop_entry(summary);
    if (laptop_matches(entry, filter)) out.push_back(std::move(entry));
  }
  return out;
}

Result<Json> LaptopPages::certificates(std::int64_t device_id) {
  REVIVE_ASSIGN(rows, ctx_.storage().certificates().for_device(device_id));
  Json out = Json::array();
  for (const auto& c : rows) {
    out.push_back({{"id", c.cert_id},
                   {"kind", c.kind},
                   {"result", c.result},
                   {"step", c.step_id ? Json(*c.step_id) : Json()},
                   {"created_at", c.created_at},
                   {"supersedes", c.supersedes ? Json(*c.supersedes) : Json()}});
  }
  return out;
}

Result<Json> LaptopPages::timeline(std::int64_t device_id) {
  REVIVE_ASSIGN(events,
                ctx_.storage().events().of_device(device_id, timeline_kinds(), kTimelineLimit));
  Json out = Json::array();
  for (const auto& e : events) out.push_back({{"at", e.at}, {"kind", e.kind}, {"data", e.data}});
  return out;
}

Result<Json> LaptopPages::page(std::int64_t device_id) {
  REVIVE_ASSIGN(summary, views_.device_summary(device_id));
  Storage& s = ctx_.storage();
  REVIVE_ASSIGN(results, s.runs().results(device_id));
  REVIVE_ASSIGN(inventory, s.devices().inventory(device_id));
  REVIVE_ASSIGN(certs, certificates(device_id));
  REVIVE_ASSIGN(events, timeline(device_id));
  REVIVE_ASSIGN(went, whereabouts(ctx_, device_id));
  return Json{{"summary", std::move(summary)},
              {"inventory", inventory_digest(inventory ? *inventory : Json())},
              {"test", test_view(newest_result(results, StepKind::test))},
              {"wipe", wipe_view(newest_result(results, StepKind::wipe))},
              {"certificates", std::move(certs)},
              {"deploy", deploy_view(newest_result(results, StepKind::deploy))},
              {"timeline", std::move(events)},
              {"whereabouts", std::move(went)}};
}

}  // namespace revive::server
