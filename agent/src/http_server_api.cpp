#include "revive/agent/http_server_api.hpp"

#include <cmath>

namespace revive::agent {

namespace proto = revive::protocol;
using proto::Json;

namespace {

constexpr std::chrono::seconds kReportTimeout{10};  // progress and checkpoints: small, frequent
constexpr std::chrono::seconds kGetTimeout{60};
constexpr std::chrono::seconds kLongPollMargin{15};  // the server answers at `wait`; then a margin

Errc errc_of_status(long status) {
  switch (status) {
    case 400:
    case 413:
      return Errc::invalid_input;
    case 401:
      return Errc::unauthorized;
    case 404:
      return Errc::not_found;
    case 409:
      return Errc::conflict;
    default:
      return Errc::internal;
  }
}

// "server unreachable (POST http://...: Couldn't connect to server); retrying in 4 s".
std::string retry_line(const Result<http::Response>& outcome, std::chrono::milliseconds wait) {
  const std::string in = "; retrying in " +
                         std::to_string(std::lround(static_cast<double>(wait.count()) / 1000)) +
                         " s";
  if (!outcome) return "server unreachable (" + outcome.error().message + ")" + in;
  return "server answered " + std::to_string(outcome->status) + in;
}

// A step whose kind this agent does not know, in an answer that otherwise is a step.
std::optional<UnknownStep> unknown_step_in(const Json& j) {
  const auto state = j.find("state");
  const auto step = j.find("step");
  if (state == j.end() || *state != "step" || step == j.end() || !step->is_object()) {
    return std::nullopt;
  }
  const auto id = step->find("id");
  const auto attempt = step->find("attempt");
  const auto kind = step->find("kind");
  if (id == step->end() || !id->is_number_integer() || *id <= 0 || attempt == step->end() ||
      !attempt->is_number_integer() || *attempt <= 0 || kind == step->end() || !kind->is_string() ||
      proto::step_kind_from(kind->get<std::string>())) {
    return std::nullopt;
  }
  return UnknownStep{id->get<std::int64_t>(), attempt->get<std::int64_t>(),
                     kind->get<std::string>().substr(0, 64)};
}

template <class T>
Result<T> decode(const http::Response& r, std::string_view what) {
  auto v = proto::decode<T>(r.body);
  if (!v) return v.error().with_context(what);
  return v;
}

}  // namespace

Error status_error(const http::Response& r) {
  std::string why;
  auto j = proto::parse_object(r.body);
  if (j && j->contains("error") && (*j)["error"].is_string()) {
    why = (*j)["error"].get<std::string>();
  } else {
    why = r.body.substr(0, 200);
  }
  return make_error(errc_of_status(r.status), "server answered " + std::to_string(r.status) +
                                                  (why.empty() ? "" : ": " + why));
}

HttpServerApi::HttpServerApi(HttpServerApiOptions o) : opts_(std::move(o)) {
  opts_.server = http::trim_base_url(opts_.server);
}

Result<http::Response> HttpServerApi::call(const std::string& method, const std::string& path,
                                           const std::string& body, std::chrono::seconds timeout) {
  http::Request req;
  req.method = method;
  req.url = opts_.server + path;
  req.headers = {"Content-Type: application/json"};
  if (!token_.empty()) req.headers.push_back(http::bearer(token_));
  req.body = body;
  req.timeout = timeout;
  http::RetryOptions retry;
  retry.backoff = opts_.backoff;
  retry.stop = opts_.stop;
  retry.on_retry = [&](const Result<http::Response>& outcome, std::chrono::milliseconds wait) {
    if (opts_.log) opts_.log(retry_line(outcome, wait));
  };
  auto r = http::with_retries([&] { return conn_.request(req); }, retry);
  if (!r) return r.error();
  if (!r->ok()) return status_error(*r);
  return r;
}

Result<http::Response> HttpServerApi::post(const std::string& path, const Json& body,
                                           std::chrono::seconds timeout) {
  return call("POST", path, body.dump(), timeout);
}

Result<std::int64_t> HttpServerApi::device() const {
  if (device_id_ <= 0) return make_error(Errc::unauthorized, "not enrolled yet");
  return device_id_;
}

Result<proto::EnrolResponse> HttpServerApi::enrol(const proto::EnrolRequest& r) {
  std::lock_guard lock(mu_);
  token_.clear();  // a stale token must not be presented with a fresh enrolment
  device_id_ = 0;
  auto answer = post(proto::path::enrol(), proto::to_json(r));
  if (!answer) return answer.error();
  auto enrolled = decode<proto::EnrolResponse>(*answer, "the enrolment answer");
  if (!enrolled) return enrolled.error();
  token_ = enrolled->agent_token;
  device_id_ = enrolled->device_id;
  return enrolled;
}

Result<NextAnswer> HttpServerApi::next(std::chrono::seconds wait) {
  std::lock_guard lock(mu_);
  auto id = device();
  if (!id) return id.error();
  auto answer = post(proto::path::next(*id, static_cast<int>(wait.count())), Json::object(),
                     wait + kLongPollMargin);
  if (!answer) return answer.error();
  auto j = proto::parse_object(answer->body);
  if (!j) return j.error().with_context("the answer to next");
  auto typed = proto::from_json<proto::NextResponse>(*j);
  if (typed) return NextAnswer{*typed, std::nullopt};
  if (auto unknown = unknown_step_in(*j)) {
    NextAnswer a;
    a.next.state = proto::NextResponse::State::step;
    a.unknown_step = std::move(unknown);
    return a;
  }
  return typed.error().with_context("the answer to next");
}

Result<void> HttpServerApi::progress(const proto::ProgressReport& r) {
  std::lock_guard lock(mu_);
  auto id = device();
  if (!id) return id.error();
  auto answer = post(proto::path::progress(*id), proto::to_json(r), kReportTimeout);
  if (!answer) return answer.error();
  return {};
}

Result<void> HttpServerApi::checkpoint(std::int64_t step, const proto::CheckpointReport& r) {
  std::lock_guard lock(mu_);
  auto id = device();
  if (!id) return id.error();
  auto answer = post(proto::path::checkpoint(*id, step), proto::to_json(r), kReportTimeout);
  if (!answer) return answer.error();
  return {};
}

Result<proto::ResultAck> HttpServerApi::result(std::int64_t step,
                                               const proto::StepResultReport& r) {
  std::lock_guard lock(mu_);
  auto id = device();
  if (!id) return id.error();
  auto answer = post(proto::path::result(*id, step), proto::to_json(r));
  if (!answer) return answer.error();
  return decode<proto::ResultAck>(*answer, "the answer to a result");
}

Result<void> HttpServerApi::events(const proto::EventsReport& r) {
  std::lock_guard lock(mu_);
  auto id = device();
  if (!id) return id.error();
  auto answer = post(proto::path::events(*id), proto::to_json(r), kReportTimeout);
  if (!answer) return answer.error();
  return {};
}

Result<std::vector<proto::CertificateSummary>> HttpServerApi::certificates() {
  std::lock_guard lock(mu_);
  auto id = device();
  if (!id) return id.error();
  auto answer = call("GET", proto::path::certificates(*id), "", kGetTimeout);
  if (!answer) return answer.error();
  // A JSON array (parse_object takes objects only): bounded the same way by wrapping it.
  auto j = proto::parse_object("{\"certificates\":" + answer->body + "}");
  if (!j || !(*j)["certificates"].is_array())
    return make_error(Errc::invalid_input, "certificates: the answer is not a JSON array");
  std::vector<proto::CertificateSummary> out;
  for (const auto& c : (*j)["certificates"]) {
    auto summary = proto::from_json<proto::CertificateSummary>(c);
    if (!summary) return summary.error().with_context("certificates");
    out.push_back(std::move(*summary));
  }
  return out;
}

Result<std::string> HttpServerApi::manifest_text(const std::string& image) {
  std::lock_guard lock(mu_);
  auto answer = call("GET", proto::path::manifest(image), "", kGetTimeout);
  if (!answer) return answer.error();
  return std::move(answer->body);
}

}  // namespace revive::agent
