#include "revive/protocol.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace revive::protocol {

namespace {

// ---- enum <-> text tables: one table per enum, read both ways.

constexpr std::array<std::pair<StepKind, std::string_view>, 7> kStepKindNames{{
    {StepKind::inventory, "inventory"},
    {StepKind::wipe, "wipe"},
    {StepKind::test, "test"},
    {StepKind::deploy, "deploy"},
    {StepKind::provision, "provision"},
    {StepKind::certify, "certify"},
    {StepKind::finish, "finish"},
}};
constexpr std::array<std::pair<StepState, std::string_view>, 6> kStepStateNames{{
    {StepState::pending, "pending"},
    {StepState::running, "running"},
    {StepState::done, "done"},
    {StepState::failed, "failed"},
    {StepState::skipped, "skipped"},
    {StepState::cancelled, "cancelled"},
}};
constexpr std::array<std::pair<RunState, std::string_view>, 4> kRunStateNames{{
    {RunState::running, "running"},
    {RunState::failed, "failed"},
    {RunState::done, "done"},
    {RunState::cancelled, "cancelled"},
}};
constexpr std::array<std::pair<StepStatus, std::string_view>, 2> kStatusNames{{
    {StepStatus::ok, "ok"},
    {StepStatus::failed, "failed"},
}};
constexpr std::array<std::pair<NextResponse::State, std::string_view>, 4> kNextStateNames{{
    {NextResponse::State::step, "step"},
    {NextResponse::State::waiting, "waiting"},
    {NextResponse::State::done, "done"},
    {NextResponse::State::cancelled, "cancelled"},
}};

constexpr std::array<std::pair<SourceAssignment::Kind, std::string_view>, 3> kSourceKindNames{{
    {SourceAssignment::Kind::server, "server"},
    {SourceAssignment::Kind::peer, "peer"},
    {SourceAssignment::Kind::queued, "queued"},
}};

template <class E, std::size_t N>
std::string_view name_of(const std::array<std::pair<E, std::string_view>, N>& table, E v) {
  for (const auto& [e, name] : table) {
    if (e == v) return name;
  }
  return "?";
}

template <class E, std::size_t N>
std::optional<E> value_of(const std::array<std::pair<E, std::string_view>, N>& table,
                          std::string_view s) {
  for (const auto& [e, name] : table) {
    if (name == s) return e;
  }
  return std::nullopt;
}

Error bad(const std::string& what) { return make_error(Errc::invalid_input, what); }

// ---- field readers: each names the field it refuses.

Result<std::int64_t> positive_int(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer() || it->get<std::int64_t>() <= 0) {
    return bad(std::string("\"") + key + "\" must be a positive integer");
  }
  return it->get<std::int64_t>();
}

Result<std::uint64_t> count(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::uint64_t{0};
  if (!it->is_number_integer() || it->get<std::int64_t>() < 0) {
    return bad(std::string("\"") + key + "\" must be a count");
  }
  return it->get<std::uint64_t>();
}

Result<std::string> required_string(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string())
    return bad(std::string("\"") + key + "\" must be a string");
  return it->get<std::string>();
}

/// Absent or null reads as empty; any other non-string is refused.
Result<std::string> optional_string(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::string();
  if (!it->is_string()) return bad(std::string("\"") + key + "\" must be a string");
  return it->get<std::string>();
}

Result<bool> optional_bool(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return false;
  if (!it->is_boolean()) return bad(std::string("\"") + key + "\" must be true or false");
  return it->get<bool>();
}

Result<Json> optional_object(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Json::object();
  if (!it->is_object()) return bad(std::string("\"") + key + "\" must be an object");
  return *it;
}

Result<std::optional<double>> optional_number(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::optional<double>();
  if (!it->is_number()) return bad(std::string("\"") + key + "\" must be a number");
  return std::optional<double>(it->get<double>());
}

Result<StepKind> kind_field(const Json& j) {
  auto s = required_string(j, "kind");
  if (!s) return s.error();
  auto k = step_kind_from(*s);
  if (!k)
    return bad("unknown step kind \"" + s->substr(0, 32) + "\" (one of " + step_kind_list() + ")");
  return *k;
}

#define REVIVE_FIELD(var, expr)         \
  auto var##_r = (expr);                \
  if (!var##_r) return var##_r.error(); \
  auto& var = *var##_r

Result<void> require_object(const Json& j, const char* what) {
  if (!j.is_object()) return bad(std::string(what) + " must be a JSON object");
  return {};
}

}  // namespace

// ---------------------------------------------------------------- vocabulary

std::string_view to_string(StepKind k) { return name_of(kStepKindNames, k); }
std::optional<StepKind> step_kind_from(std::string_view s) { return value_of(kStepKindNames, s); }
std::string step_kind_list() {
  std::string out;
  for (const auto& [k, name] : kStepKindNames) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}
std::string_view to_string(StepState s) { return name_of(kStepStateNames, s); }
std::optional<StepState> step_state_from(std::string_view s) {
  return value_of(kStepStateNames, s);
}
std::string_view to_string(RunState s) { return name_of(kRunStateNames, s); }
std::optional<RunState> run_state_from(std::string_view s) { return value_of(kRunStateNames, s); }
std::string_view to_string(StepStatus s) { return name_of(kStatusNames, s); }
std::optional<StepStatus> step_status_from(std::string_view s) { return value_of(kStatusNames, s); }
std::string_view to_string(NextResponse::State s) { return name_of(kNextStateNames, s); }
std::string_view to_string(SourceAssignment::Kind k) { return name_of(kSourceKindNames, k); }

// ---------------------------------------------------------------- paths

namespace path {
namespace {
std::string agent(std::int64_t device) { return "/api/v1/agents/" + std::to_string(device); }
}  // namespace
std::string enrol() { return std::string(route::kEnrol); }
std::string next(std::int64_t device, int wait_s) {
  return agent(device) + "/next?wait=" + std::to_string(wait_s);
}
std::string progress(std::int64_t device) { return agent(device) + "/progress"; }
std::string events(std::int64_t device) { return agent(device) + "/events"; }
std::string checkpoint(std::int64_t device, std::int64_t step) {
  return agent(device) + "/steps/" + std::to_string(step) + "/checkpoint";
}
std::string result(std::int64_t device, std::int64_t step) {
  return agent(device) + "/steps/" + std::to_string(step) + "/result";
}
std::string certificates(std::int64_t device) { return agent(device) + "/certificates"; }
std::string relay(std::int64_t device) { return agent(device) + "/relay"; }
std::string manifest(std::string_view image) {
  return "/api/v1/images/" + std::string(image) + "/manifest";
}
std::string chunk(std::string_view sha256_hex) { return "/chunks/" + std::string(sha256_hex); }
}  // namespace path

// ---------------------------------------------------------------- encode

Json to_json(const Identity& v) {
  return {{"system_uuid", v.system_uuid},
          {"serial", v.serial},
          {"model", v.model},
          {"vendor", v.vendor}};
}

Json to_json(const EnrolRequest& v) {
  Json j = {{"identity", to_json(v.identity)}, {"macs", v.macs}, {"inventory", v.inventory}};
  if (!v.boot_token.empty()) j["boot_token"] = v.boot_token;
  return j;
}

Json to_json(const EnrolResponse& v) {
  return {{"device_id", v.device_id},
          {"agent_token", v.agent_token},
          {"new_device", v.new_device},
          {"protocol", v.protocol}};
}

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

Json to_json(const SourceFailure& v) {
  return {{"peer", v.peer}, {"reason", v.reason}, {"bad_chunk", v.bad_chunk}};
}

Json to_json(const DeployProgress& v) {
  Json j = {{"image_id", v.image_id},
            {"chunks_held", v.chunks_held},
            {"chunk_count", v.chunk_count},
            {"relay_port", v.relay_port},
            {"receive_rate", v.receive_rate},
            {"write_rate", v.write_rate},
            {"source", v.source}};
  if (v.source_failed) j["source_failed"] = to_json(*v.source_failed);
  return j;
}

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

Json to_json(const SourceAssignment& v) {
  Json j = {{"kind", to_string(v.kind)}, {"reason", v.reason}, {"epoch", v.epoch}};
  if (v.kind == SourceAssignment::Kind::peer) {
    j["peer"] = v.peer;
    j["url"] = v.url;
  }
  if (v.kind == SourceAssignment::Kind::queued) j["place"] = v.place;
  return j;
}

Json to_json(const ProgressAck& v) {
  Json j = {{"ok", true}};
  if (v.source) j["source"] = to_json(*v.source);
  return j;
}

Json to_json(const RelayReport& v) {
  return {{"image_id", v.image_id},
          {"relay_port", v.relay_port},
          {"chunks_held", v.chunks_held},
          {"bytes_served", v.bytes_served}};
}

Json to_json(const RelayAck& v) { return {{"release", v.release}}; }

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

Json to_json(const EventsReport& v) { return {{"events", v.events}}; }

Json to_json(const CertificateSummary& v) {
  return {{"cert_id", v.cert_id},
          {"kind", v.kind},
          {"result", v.result},
          {"step", v.step ? Json(*v.step) : Json()},
          {"created_at", v.created_at}};
}

// ---------------------------------------------------------------- decode

template <>
Result<Identity> from_json<Identity>(const Json& j) {
  REVIVE_TRY(require_object(j, "\"identity\""));
  Identity id;
  for (auto [key, field] :
       {std::pair{"system_uuid", &id.system_uuid}, std::pair{"serial", &id.serial},
        std::pair{"model", &id.model}, std::pair{"vendor", &id.vendor}}) {
    REVIVE_FIELD(s, optional_string(j, key));
    if (s.size() > kMaxIdentityField) {
      return bad("identity fields are at most " + std::to_string(kMaxIdentityField) +
                 " characters");
    }
    *field = s;
  }
  return id;
}

template <>
Result<EnrolRequest> from_json<EnrolRequest>(const Json& j) {
  REVIVE_TRY(require_object(j, "the enrolment"));
  EnrolRequest r;
  REVIVE_FIELD(idj, optional_object(j, "identity"));
  REVIVE_FIELD(id, from_json<Identity>(idj));
  r.identity = id;
  if (auto it = j.find("macs"); it != j.end() && !it->is_null()) {
    if (!it->is_array() || it->size() > kMaxMacs) {
      return bad("\"macs\" must be an array of at most " + std::to_string(kMaxMacs) + " strings");
    }
    for (const auto& m : *it) {
      if (!m.is_string() || m.get_ref<const std::string&>().size() > 64) {
        return bad("\"macs\" must hold MAC addresses as strings");
      }
      r.macs.push_back(m.get<std::string>());
    }
  }
  if (auto it = j.find("inventory"); it != j.end() && !it->is_null()) {
    // Checked before the copy: the inventory is stored and shown as an object.
    if (!it->is_object()) return bad("\"inventory\" must be an object");
    r.inventory = *it;
  }
  REVIVE_FIELD(token, optional_string(j, "boot_token"));
  r.boot_token = token;
  return r;
}

template <>
Result<EnrolResponse> from_json<EnrolResponse>(const Json& j) {
  REVIVE_TRY(require_object(j, "the enrolment answer"));
  EnrolResponse r;
  REVIVE_FIELD(id, positive_int(j, "device_id"));
  REVIVE_FIELD(token, required_string(j, "agent_token"));
  REVIVE_FIELD(fresh, optional_bool(j, "new_device"));
  r.device_id = id;
  r.agent_token = token;
  r.new_device = fresh;
  if (auto it = j.find("protocol"); it != j.end() && it->is_number_integer()) r.protocol = *it;
  return r;
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
  auto state = value_of(kNextStateNames, state_text);
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
Result<SourceFailure> from_json<SourceFailure>(const Json& j) {
  REVIVE_TRY(require_object(j, "\"source_failed\""));
  SourceFailure f;
  REVIVE_FIELD(reason, optional_string(j, "reason"));
  REVIVE_FIELD(bad_chunk, optional_bool(j, "bad_chunk"));
  auto it = j.find("peer");
  if (it == j.end() || !it->is_number_integer() || it->get<std::int64_t>() < 0) {
    return bad("\"peer\" must be a device id (0: the server)");
  }
  f.peer = *it;
  f.reason = reason.substr(0, 512);
  f.bad_chunk = bad_chunk;
  return f;
}

template <>
Result<DeployProgress> from_json<DeployProgress>(const Json& j) {
  REVIVE_TRY(require_object(j, "\"deploy\""));
  DeployProgress d;
  REVIVE_FIELD(image_id, optional_string(j, "image_id"));
  REVIVE_FIELD(held, count(j, "chunks_held"));
  REVIVE_FIELD(total, count(j, "chunk_count"));
  REVIVE_FIELD(port, count(j, "relay_port"));
  REVIVE_FIELD(rx, optional_number(j, "receive_rate"));
  REVIVE_FIELD(wr, optional_number(j, "write_rate"));
  REVIVE_FIELD(source, optional_string(j, "source"));
  if (port > 65535) return bad("\"relay_port\" must be a port number");
  if (held > total) return bad("\"chunks_held\" cannot exceed \"chunk_count\"");
  d.image_id = image_id;
  d.chunks_held = held;
  d.chunk_count = total;
  d.relay_port = static_cast<std::uint16_t>(port);
  d.receive_rate = std::max(0.0, rx.value_or(0));
  d.write_rate = std::max(0.0, wr.value_or(0));
  d.source = source.substr(0, 64);
  if (auto it = j.find("source_failed"); it != j.end() && !it->is_null()) {
    REVIVE_FIELD(f, from_json<SourceFailure>(*it));
    d.source_failed = f;
  }
  return d;
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
Result<SourceAssignment> from_json<SourceAssignment>(const Json& j) {
  REVIVE_TRY(require_object(j, "\"source\""));
  SourceAssignment a;
  REVIVE_FIELD(kind_text, required_string(j, "kind"));
  auto kind = value_of(kSourceKindNames, kind_text);
  if (!kind) return bad("unknown chunk source \"" + kind_text.substr(0, 32) + "\"");
  REVIVE_FIELD(reason, optional_string(j, "reason"));
  a.kind = *kind;
  a.reason = reason;
  if (auto it = j.find("epoch"); it != j.end() && it->is_number_integer()) a.epoch = *it;
  if (a.kind == SourceAssignment::Kind::peer) {
    REVIVE_FIELD(peer, positive_int(j, "peer"));
    REVIVE_FIELD(url, required_string(j, "url"));
    if (!url.starts_with("http://") || url.size() > 64)
      return bad("\"url\" must be http://HOST:PORT");
    a.peer = peer;
    a.url = url;
  }
  if (a.kind == SourceAssignment::Kind::queued) {
    REVIVE_FIELD(place, count(j, "place"));
    a.place = static_cast<int>(std::min<std::uint64_t>(place, 1000000));
  }
  return a;
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

template <>
Result<RelayReport> from_json<RelayReport>(const Json& j) {
  REVIVE_TRY(require_object(j, "the relay report"));
  RelayReport r;
  REVIVE_FIELD(image_id, required_string(j, "image_id"));
  REVIVE_FIELD(port, count(j, "relay_port"));
  REVIVE_FIELD(held, count(j, "chunks_held"));
  REVIVE_FIELD(served, count(j, "bytes_served"));
  if (port == 0 || port > 65535) return bad("\"relay_port\" must be a port number");
  r.image_id = image_id.substr(0, 64);
  r.relay_port = static_cast<std::uint16_t>(port);
  r.chunks_held = held;
  r.bytes_served = served;
  return r;
}

template <>
Result<RelayAck> from_json<RelayAck>(const Json& j) {
  REVIVE_TRY(require_object(j, "the answer to a relay report"));
  REVIVE_FIELD(release, optional_bool(j, "release"));
  return RelayAck{release};
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

template <>
Result<EventsReport> from_json<EventsReport>(const Json& j) {
  REVIVE_TRY(require_object(j, "the events report"));
  auto it = j.find("events");
  if (it == j.end() || !it->is_array() || it->size() > kMaxEvents) {
    return bad("\"events\" must be an array of at most " + std::to_string(kMaxEvents) + " events");
  }
  for (const auto& e : *it) {
    if (!e.is_object()) return bad("each event must be an object");
  }
  EventsReport r;
  r.events = *it;
  return r;
}

template <>
Result<CertificateSummary> from_json<CertificateSummary>(const Json& j) {
  REVIVE_TRY(require_object(j, "a certificate entry"));
  CertificateSummary c;
  REVIVE_FIELD(id, optional_string(j, "cert_id"));
  REVIVE_FIELD(kind, optional_string(j, "kind"));
  REVIVE_FIELD(result, optional_string(j, "result"));
  c.cert_id = id;
  c.kind = kind;
  c.result = result;
  if (auto it = j.find("step"); it != j.end() && it->is_number_integer()) c.step = *it;
  if (auto it = j.find("created_at"); it != j.end() && it->is_number_integer()) {
    c.created_at = *it;
  }
  return c;
}

// ---------------------------------------------------------------- bounded parsing

bool is_canonical(std::string_view text, const Json& parsed) {
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  return parsed.dump(-1, ' ', false, Json::error_handler_t::replace) == text;
}

Result<Json> parse_object(std::string_view text, int max_depth) {
  if (text.empty()) return bad("the body must be a JSON object");
  if (json_nesting_depth(text, max_depth) > max_depth) {
    return bad("the JSON body is nested deeper than " + std::to_string(max_depth) + " levels");
  }
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return bad("the body is not a JSON object");
  return j;
}

}  // namespace revive::protocol
