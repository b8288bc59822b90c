#include "fake_server_api.hpp"

namespace revive::test {

namespace {
// unknown_step() marks its answer with this prefix + the kind until next() signs it.
constexpr std::string_view kUnknownMark = "unknown-kind:";
}  // namespace

namespace proto = revive::protocol;
using agent::NextAnswer;
using State = proto::NextResponse::State;

NextAnswer FakeServerApi::step(std::int64_t id, proto::StepKind kind, proto::Json params,
                               std::int64_t attempt, bool resumed) {
  NextAnswer a;
  a.next.state = State::step;
  proto::StepAssignment s;
  s.id = id;
  s.kind = kind;
  s.attempt = attempt;
  s.params = std::move(params);
  s.resumed = resumed;
  a.next.step = std::move(s);
  return a;
}

NextAnswer FakeServerApi::waiting(std::string reason) {
  NextAnswer a;
  a.next.state = State::waiting;
  a.next.reason = std::move(reason);
  return a;
}

NextAnswer FakeServerApi::done() {
  NextAnswer a;
  a.next.state = State::done;
  return a;
}

NextAnswer FakeServerApi::cancelled() {
  NextAnswer a;
  a.next.state = State::cancelled;
  return a;
}

NextAnswer FakeServerApi::unknown_step(std::int64_t id, const std::string& kind,
                                       std::int64_t attempt) {
  NextAnswer a = step(id, proto::StepKind::inventory, proto::Json::object(), attempt);
  a.next.job = std::string(kUnknownMark) + kind;
  return a;
}

std::vector<proto::StepResultReport> FakeServerApi::results_of(std::int64_t step) const {
  std::vector<proto::StepResultReport> out;
  for (const auto& [id, r] : results) {
    if (id == step) out.push_back(r);
  }
  return out;
}

std::vector<std::string> FakeServerApi::stages_of(std::int64_t step) const {
  std::vector<std::string> out;
  for (const auto& p : progress_reports) {
    if (p.step == step) out.push_back(p.progress.stage);
  }
  return out;
}

Result<void> FakeServerApi::require_session() const {
  if (!enrolled_) return make_error(Errc::unauthorized, "server answered 401: not enrolled");
  return {};
}

Result<proto::EnrolResponse> FakeServerApi::enrol(const proto::EnrolRequest& r) {
  enrolments.push_back(r);
  if (enrol_error) return *enrol_error;
  enrolled_ = true;
  proto::EnrolResponse answer;
  answer.device_id = device_id;
  answer.agent_token = "token-" + std::to_string(enrolments.size());
  answer.new_device = enrolments.size() == 1;
  answer.workshop = workshop;
  answer.language = language;
  answer.label = label;
  return answer;
}

void FakeServerApi::sign_step(NextAnswer& a, const std::string& nonce) const {
  if (a.next.state != State::step || !a.next.step) return;
  proto::Job job;
  job.device = device_id;
  job.step = *a.next.step;
  if (a.next.job.starts_with(kUnknownMark))
    job.unknown_kind = a.next.job.substr(kUnknownMark.size());
  job.nonce = nonce;
  job.issued_at = job_issued_at;
  job.expires_at = job_issued_at + job_lifetime_s;
  a.next.job = serve_job ? serve_job(job) : proto::sign_job(job, job_key);
  a.next.step.reset();  // like the wire: the agent sees the job only
  a.age = answer_age;
}

Result<NextAnswer> FakeServerApi::next(std::chrono::seconds wait, const std::string& nonce) {
  if (on_next) on_next(++next_calls_);
  REVIVE_TRY(require_session());
  next_waits.push_back(wait);
  next_nonces.push_back(nonce);
  if (next_answers.empty())
    return make_error(Errc::internal, "the fake server's script has no further answer");
  Result<NextAnswer> a = std::move(next_answers.front());
  next_answers.pop_front();
  if (!a && a.error().code == Errc::unauthorized) enrolled_ = false;  // the token was replaced
  if (a) sign_step(*a, nonce);
  return a;
}

Result<proto::ProgressAck> FakeServerApi::progress(const proto::ProgressReport& r) {
  REVIVE_TRY(require_session());
  std::lock_guard lock(mu_);
  progress_reports.push_back(r);
  return on_progress ? on_progress(r) : proto::ProgressAck{};
}

Result<proto::RelayAck> FakeServerApi::relay(const proto::RelayReport& r) {
  REVIVE_TRY(require_session());
  std::lock_guard lock(mu_);
  relay_reports.push_back(r);
  if (!on_relay) return make_error(Errc::not_found, "server answered 404: no such route");
  return on_relay(r);
}

std::size_t FakeServerApi::relay_report_count() const {
  std::lock_guard lock(mu_);
  return relay_reports.size();
}

Result<void> FakeServerApi::checkpoint(std::int64_t step, const proto::CheckpointReport& r) {
  REVIVE_TRY(require_session());
  checkpoints.emplace_back(step, r);
  return {};
}

Result<proto::ResultAck> FakeServerApi::result(std::int64_t step,
                                               const proto::StepResultReport& r) {
  REVIVE_TRY(require_session());
  results.emplace_back(step, r);
  if (result_answers.empty()) return proto::ResultAck{true, false};
  Result<proto::ResultAck> a = std::move(result_answers.front());
  result_answers.pop_front();
  if (!a && a.error().code == Errc::unauthorized) enrolled_ = false;
  return a;
}

Result<void> FakeServerApi::events(const proto::EventsReport& r) {
  REVIVE_TRY(require_session());
  event_reports.push_back(r);
  return {};
}

Result<std::vector<proto::CertificateSummary>> FakeServerApi::certificates() {
  REVIVE_TRY(require_session());
  return certificate_list;
}

Result<std::string> FakeServerApi::manifest_text(const std::string& image) {
  REVIVE_TRY(require_session());
  auto it = manifests.find(image);
  if (it == manifests.end()) return make_error(Errc::not_found, "server answered 404: no image");
  return it->second;
}

}  // namespace revive::test
