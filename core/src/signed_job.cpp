#include "revive/signed_job.hpp"

#include "revive/signed_document.hpp"

namespace revive::protocol {

namespace {

Error bad(const std::string& what) { return make_error(Errc::invalid_input, "job: " + what); }

Result<std::int64_t> int_field(const Json& j, const char* key, bool positive) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer() || it->get<std::int64_t>() < (positive ? 1 : 0))
    return bad(std::string("\"") + key + "\" must be a " +
               (positive ? "positive" : "non-negative") + " integer");
  return it->get<std::int64_t>();
}

// The body's fields, typed. The step part is decoded by the protocol's own StepAssignment
// codec, so a job's step reads exactly like the step it replaces.
Result<Job> job_from_body(const std::string& canonical) {
  const Json j = Json::parse(canonical, nullptr, false);
  if (!j.is_object()) return bad("the body must be an object");
  Job job;
  auto device = int_field(j, "device", true);
  auto issued = int_field(j, "issued_at", false);
  auto expires = int_field(j, "expires_at", false);
  for (const auto* r : {&device, &issued, &expires}) {
    if (!*r) return r->error();
  }
  job.device = *device;
  job.issued_at = *issued;
  job.expires_at = *expires;
  auto nonce = j.find("nonce");
  if (nonce == j.end() || !nonce->is_string() ||
      nonce->get_ref<const std::string&>().size() > kMaxNonceChars)
    return bad("\"nonce\" must be a string of at most " + std::to_string(kMaxNonceChars) +
               " characters");
  job.nonce = nonce->get<std::string>();
  Json step = {{"id", j.value("step", Json())},
               {"kind", j.value("kind", Json())},
               {"attempt", j.value("attempt", Json())},
               {"params", j.value("params", Json())},
               {"resumed", j.value("resumed", Json())}};
  if (j.contains("checkpoint")) step["checkpoint"] = j["checkpoint"];
  // A kind this build does not know is kept by name: the agent reports it failed, naming it.
  if (step["kind"].is_string() && !step_kind_from(step["kind"].get<std::string>())) {
    job.unknown_kind = step["kind"].get<std::string>().substr(0, 64);
    step["kind"] = std::string(to_string(StepKind::inventory));
  }
  auto s = from_json<StepAssignment>(step);
  if (!s) return s.error().with_context("job");
  job.step = std::move(*s);
  return job;
}

}  // namespace

std::string job_canonical(const Job& job) {
  Json j = {
      {"device", job.device},
      {"step", job.step.id},
      {"kind", job.unknown_kind.empty() ? std::string(to_string(job.step.kind)) : job.unknown_kind},
      {"attempt", job.step.attempt},
      {"params", job.step.params},
      {"resumed", job.step.resumed},
      {"nonce", job.nonce},
      {"issued_at", job.issued_at},
      {"expires_at", job.expires_at}};
  if (job.step.checkpoint) j["checkpoint"] = *job.step.checkpoint;
  // Objects are std::map: keys come out sorted, so dump() is canonical.
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string sign_job(const Job& job, const KeyPair& key) {
  return sign_canonical(kJobKind, job_canonical(job), key);
}

Result<Job> parse_job(std::string_view text) {
  auto d = parse_signed_document(text, kJobKind, kMaxJobBytes);
  if (!d) return d.error();
  return job_from_body(d->canonical);
}

Result<Job> open_job(std::string_view text, const PublicKey& trusted) {
  auto d = parse_signed_document(text, kJobKind, kMaxJobBytes);
  if (!d) return d.error();
  REVIVE_TRY(check_document(*d, trusted, kJobKind));
  return job_from_body(d->canonical);
}

Result<void> check_job(const Job& job, const JobExpectations& expected) {
  if (job.device != expected.device) {
    return bad("it is for device " + std::to_string(job.device) + ", this laptop is device " +
               std::to_string(expected.device));
  }
  if (job.nonce != expected.nonce) {
    return bad(
        "it answers another request (its nonce is not the one this agent sent): a "
        "replayed job");
  }
  if (job.expires_at < job.issued_at) return bad("it expires before it was issued");
  if (expected.server_now > job.expires_at) {
    return bad("it expired " + std::to_string(expected.server_now - job.expires_at) +
               " s ago (server clock)");
  }
  return {};
}

}  // namespace revive::protocol
