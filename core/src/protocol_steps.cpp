// The agent protocol's JSON codec, part of revive/protocol.hpp.
// The step lifecycle: next (the step handed out, or why none), checkpoints and
// results (recorded exactly once).

#include "revive/protocol.hpp"

#include <algorithm>

#include "protocol_fields.hpp"

namespace revive::protocol {

using namespace fields;

Json to_json(const StepAssignment& v) {
  Json j = {{"id", v.id},
            {"kind", to_string(v.kind)},
            {"attempt", v.attempt},
            {"params", v.params},
            {"resumed", v.resumed}};
  if (v.checkpoint) j["checkpoint"] = *v.checkpoint;
  return j;
}

Json to_json(const NextRequest& v) { return {{"nonce", v.nonce}}; }

Json to_json(const NextResponse& v) {
  Json j = {{"state", to_string(v.state)}};
  // The signed document goes out as JSON (readable); its text is canonical, so the agent's
  // re-serialisation of this value gives back exactly the signed bytes.
  if (v.state == NextResponse::State::step && !v.job.empty()) j["job"] = Json::parse(v.job);
  if (v.state == NextResponse::State::waiting) {
    if (v.waiting) {
      j["step"] = {{"id", v.waiting->id},
                   {"kind", to_string(v.waiting->kind)},
                   {"state", to_string(v.waiting->state)}};
    }
    j["reason"] = v.reason;
  }
  return j;
}

Json to_json(const CheckpointReport& v) {
  return {{"attempt", v.attempt}, {"checkpoint", v.checkpoint}};
}

Json to_json(const StepResultReport& v) {
  return {{"attempt", v.attempt},
          {"status", to_string(v.status)},
          {"result", v.result},
          {"error", v.error}};
}

Json to_json(const ResultAck& v) {
  Json j = {{"recorded", v.recorded}};
  if (v.duplicate) j["duplicate"] = true;
  return j;
}

template <>
Result<StepAssignment> from_json<StepAssignment>(const Json& j) {
  REVIVE_TRY(require_object(j, "\"step\""));
  StepAssignment s;
  REVIVE_FIELD(id, positive_int(j, "id"));
  REVIVE_FIELD(kind, kind_field(j));
  REVIVE_FIELD(attempt, positive_int(j, "attempt"));
  REVIVE_FIELD(params, optional_object(j, "params"));
  REVIVE_FIELD(resumed, optional_bool(j, "resumed"));
  s.id = id;
  s.kind = kind;
  s.attempt = attempt;
  s.params = params;
  s.resumed = resumed;
  if (auto it = j.find("checkpoint"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return bad("\"checkpoint\" must be an object");
    s.checkpoint = *it;
  }
  return s;
}

template <>
Result<NextRequest> from_json<NextRequest>(const Json& j) {
  REVIVE_TRY(require_object(j, "the next request"));
  REVIVE_FIELD(nonce, optional_string(j, "nonce"));
  const bool hex = std::all_of(nonce.begin(), nonce.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
  if (nonce.size() > kMaxNonceChars || !hex) {
    return bad("\"nonce\" must be at most " + std::to_string(kMaxNonceChars) +
               " lower-case hex digits");
  }
  return NextRequest{nonce};
}

template <>
Result<NextResponse> from_json<NextResponse>(const Json& j) {
  REVIVE_TRY(require_object(j, "the answer to next"));
  NextResponse r;
  REVIVE_FIELD(state_text, required_string(j, "state"));
  auto state = next_state_from(state_text);
  if (!state)
    return bad("unknown state \"" + state_text.substr(0, 32) + "\" in the answer to next");
  r.state = *state;
  if (r.state == NextResponse::State::step) {
    auto it = j.find("job");
    if (it == j.end() || !it->is_object()) {
      return bad(
          "the answer to next says \"step\" but holds no signed job (a server older "
          "than this agent?)");
    }
    r.job = it->dump(-1, ' ', false, Json::error_handler_t::replace);
  } else if (r.state == NextResponse::State::waiting) {
    REVIVE_FIELD(reason, optional_string(j, "reason"));
    r.reason = reason;
    if (auto it = j.find("step"); it != j.end() && it->is_object()) {
      WaitingStep w;
      REVIVE_FIELD(id, positive_int(*it, "id"));
      REVIVE_FIELD(kind, kind_field(*it));
      REVIVE_FIELD(st, required_string(*it, "state"));
      auto s = step_state_from(st);
      if (!s) return bad("unknown step state \"" + st.substr(0, 32) + "\"");
      w.id = id;
      w.kind = kind;
      w.state = *s;
      r.waiting = w;
    }
  }
  return r;
}

template <>
Result<CheckpointReport> from_json<CheckpointReport>(const Json& j) {
  REVIVE_TRY(require_object(j, "the checkpoint"));
  CheckpointReport r;
  REVIVE_FIELD(attempt, positive_int(j, "attempt"));
  auto it = j.find("checkpoint");
  if (it == j.end() || !it->is_object()) return bad("\"checkpoint\" must be an object");
  r.attempt = attempt;
  r.checkpoint = *it;
  return r;
}

template <>
Result<StepResultReport> from_json<StepResultReport>(const Json& j) {
  REVIVE_TRY(require_object(j, "the step result"));
  StepResultReport r;
  REVIVE_FIELD(attempt, positive_int(j, "attempt"));
  REVIVE_FIELD(status_text, required_string(j, "status"));
  auto status = step_status_from(status_text);
  if (!status) return bad("status must be \"ok\" or \"failed\"");
  REVIVE_FIELD(error, optional_string(j, "error"));
  r.attempt = attempt;
  r.status = *status;
  r.error = error;
  if (auto it = j.find("result"); it != j.end() && !it->is_null()) r.result = *it;
  return r;
}

template <>
Result<ResultAck> from_json<ResultAck>(const Json& j) {
  REVIVE_TRY(require_object(j, "the answer to a result"));
  ResultAck a;
  REVIVE_FIELD(recorded, optional_bool(j, "recorded"));
  REVIVE_FIELD(duplicate, optional_bool(j, "duplicate"));
  a.recorded = recorded;
  a.duplicate = duplicate;
  return a;
}

}  // namespace revive::protocol
