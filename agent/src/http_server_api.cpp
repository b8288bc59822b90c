#include "revive/agent/http_server_api.hpp"

#include <cmath>

namespace revive::agent {

namespace proto = revive::protocol;
using proto::Json;

namespace {

constexpr std::chrono::seconds kReportTimeout{10};  // progress and checkpoints: small, frequent
constexpr std::chrono::seconds kGetTimeout{60};
constexpr std::chrono::seconds kRelayTimeout{3};     // sent each second: a late one is superseded
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

std::vector<std::string> HttpServerApi::credentials() const {
  if (token_.empty()) return {};
  return {http::bearer(token_)};
}

Result<http::Response> HttpServerApi::call(const std::string& method, const std::string& path,
                                           const std::string& body, std::chrono::seconds timeout,
                                           std::chrono::steady_clock::time_point* last_try) {
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
    if (opts_.reachability) opts_.reachability(false);
  };
  auto r = http::with_retries(
      [&] {
        if (last_try != nullptr) *last_try = std::chrono::steady_clock::now();
        return conn_.request(req);
      },
      retry);
  if (!r) return r.error();
  if (opts_.reachability) opts_.reachability(true);
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
  {
    std::lock_guard session(session_mu_);
    token_.clear();  // a stale token must not be presented with a fresh enrolment
    device_id_ = 0;
  }
  auto answer = post(proto::path::enrol(), proto::to_json(r));
  if (!answer) return answer.error();
  auto enrolled = decode<proto::EnrolResponse>(*answer, "the enrolment answer");
  if (!enrolled) return enrolled.error();
  std::lock_guard session(session_mu_);
  token_ = enrolled->agent_token;
  device_id_ = enrolled->device_id;
  return enrolled;
}

Result<NextAnswer> HttpServerApi::next(std::chrono::seconds wait, const std::string& nonce) {
  std::lock_guard lock(mu_);
  auto id = device();
  if (!id) return id.error();
  // From the attempt that was answered: time spent retrying while the server was away does
  // not age the job (the server signed it for that attempt, after it arrived).
  auto sent = std::chrono::steady_clock::now();
  auto answer =
      call("POST", proto::path::next(*id, static_cast<int>(wait.count())),
           proto::to_json(proto::NextRequest{nonce}).dump(), wait + kLongPollMargin, &sent);
  if (!answer) return answer.error();
  NextAnswer a;
  // Rounded up: the age bounds how old a job can be, so it must not come out short.
  a.age = std::chrono::ceil<std::chrono::seconds>(std::chrono::steady_clock::now() - sent);
  auto typed = decode<proto::NextResponse>(*answer, "the answer to next");
  if (!typed) return typed.error();
  a.next = std::move(*typed);
  return a;
}

Result<proto::ProgressAck> HttpServerApi::progress(const proto::ProgressReport& r) {
  std::lock_guard lock(mu_);
  auto id = device();
  if (!id) return id.error();
  auto answer = post(proto::path::progress(*id), proto::to_json(r), kReportTimeout);
  if (!answer) return answer.error();
  // An older server answers {} or nothing: no assignment, the agent keeps fetching from it.
  if (answer->body.empty()) return proto::ProgressAck{};
  return decode<proto::ProgressAck>(*answer, "the answer to a progress report");
}

Result<proto::RelayAck> HttpServerApi::relay(const proto::RelayReport& r) {
  std::int64_t id = 0;
  std::string token;
  {
    std::lock_guard session(session_mu_);
    id = device_id_;
    token = token_;
  }
  if (id <= 0) return make_error(Errc::unauthorized, "not enrolled yet");
  std::lock_guard lock(relay_mu_);
  http::Request req;
  req.method = "POST";
  req.url = opts_.server + proto::path::relay(id);
  req.headers = {"Content-Type: application/json", http::bearer(token)};
  req.body = proto::to_json(r).dump();
  req.timeout = kRelayTimeout;
  auto answer = relay_conn_.request(req);
  if (!answer) return answer.error();
  if (answer->status >= 500)
    return make_error(Errc::io, "server answered " + std::to_string(answer->status));
  if (!answer->ok()) return status_error(*answer);
  return decode<proto::RelayAck>(*answer, "the answer to a relay report");
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
