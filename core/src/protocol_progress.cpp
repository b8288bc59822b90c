// The agent protocol's JSON codec, part of revive/protocol.hpp.
// Progress reports of the running step and their answers.

#include "revive/protocol.hpp"

#include "protocol_fields.hpp"

namespace revive::protocol {

using namespace fields;

Json to_json(const Progress& v) {
  Json j = v.extra.is_object() ? v.extra : Json::object();
  j["stage"] = v.stage;
  if (v.deploy) j["deploy"] = to_json(*v.deploy);
  if (v.bytes_done) j["bytes_done"] = *v.bytes_done;
  if (v.bytes_total) j["bytes_total"] = *v.bytes_total;
  if (v.rate) j["rate"] = *v.rate;
  if (!v.message.empty()) j["message"] = v.message;
  return j;
}

Json to_json(const ProgressReport& v) {
  return {{"step", v.step}, {"progress", to_json(v.progress)}};
}

Json to_json(const ProgressAck& v) {
  Json j = {{"ok", true}};
  if (v.source) j["source"] = to_json(*v.source);
  return j;
}

template <>
Result<Progress> from_json<Progress>(const Json& j) {
  REVIVE_TRY(require_object(j, "\"progress\""));
  Progress p;
  REVIVE_FIELD(stage, optional_string(j, "stage"));
  REVIVE_FIELD(done, optional_number(j, "bytes_done"));
  REVIVE_FIELD(total, optional_number(j, "bytes_total"));
  REVIVE_FIELD(rate, optional_number(j, "rate"));
  REVIVE_FIELD(message, optional_string(j, "message"));
  p.stage = stage;
  p.bytes_done = done;
  p.bytes_total = total;
  p.rate = rate;
  p.message = message;
  if (auto it = j.find("deploy"); it != j.end() && !it->is_null()) {
    REVIVE_FIELD(d, from_json<DeployProgress>(*it));
    p.deploy = d;
  }
  for (const auto& [key, value] : j.items()) {
    if (key != "stage" && key != "bytes_done" && key != "bytes_total" && key != "rate" &&
        key != "message" && key != "deploy") {
      p.extra[key] = value;
    }
  }
  return p;
}

template <>
Result<ProgressReport> from_json<ProgressReport>(const Json& j) {
  REVIVE_TRY(require_object(j, "the progress report"));
  ProgressReport r;
  REVIVE_FIELD(step, positive_int(j, "step"));
  REVIVE_FIELD(pj, optional_object(j, "progress"));
  REVIVE_FIELD(p, from_json<Progress>(pj));
  r.step = step;
  r.progress = p;
  return r;
}

template <>
Result<ProgressAck> from_json<ProgressAck>(const Json& j) {
  REVIVE_TRY(require_object(j, "the answer to a progress report"));
  ProgressAck a;
  if (auto it = j.find("source"); it != j.end() && !it->is_null()) {
    REVIVE_FIELD(s, from_json<SourceAssignment>(*it));
    a.source = s;
  }
  return a;
}

}  // namespace revive::protocol
