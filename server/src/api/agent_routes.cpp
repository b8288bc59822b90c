// The agent protocol (docs/agent-protocol.md): requests decoded and answers encoded with the
// protocol module's codec, so no field or step kind is spelled here.
#include <algorithm>

#include "api/handler.hpp"
#include "revive/signed_job.hpp"

namespace revive::server {

namespace {

template <class T>
Result<T> decode_body(const Call& c) {
  auto j = body_json(c.req);
  if (!j) return j.error();
  return protocol::from_json<T>(*j);
}

Response enrol(ApiContext& api, Call& c) {
  auto request = decode_body<protocol::EnrolRequest>(c);
  if (!request) return from_error(request.error());
  auto r = api.services.enrolment.enrol(*request);
  return r ? json_response(protocol::to_json(*r)) : from_error(r.error());
}

// How long a signed job stays valid. The agent bounds a job's age by the time since its own
// request left (long-poll included), so this only has to outlast one exchange.
constexpr std::int64_t kJobLifetimeS = 300;

// The answer to next as it goes out: a step only ever as a job signed with the store's key
// (the one that signs manifests, which the live image pins), for this device and the nonce
// the agent sent with this request (docs/agent-protocol.md, "Signed jobs").
Response answer_next(ApiContext& api, std::int64_t device, const std::string& nonce,
                     protocol::NextResponse n) {
  if (n.state == protocol::NextResponse::State::step && n.step) {
    protocol::Job job;
    job.device = device;
    job.step = *n.step;
    job.nonce = nonce;
    job.issued_at = api.services.ctx.now();
    job.expires_at = job.issued_at + kJobLifetimeS;
    n.job = protocol::sign_job(job, api.store.key());
  }
  return json_response(protocol::to_json(n));
}

Response next(ApiContext& api, Call& c) {
  // An agent from before signed jobs sends no body; its steps still go out signed (it cannot
  // read them, and must be replaced by one that checks them).
  auto request = c.req.body.empty() ? Result<protocol::NextRequest>(protocol::NextRequest{})
                                    : decode_body<protocol::NextRequest>(c);
  if (!request) return from_error(request.error());
  StepLifecycle& lifecycle = api.services.lifecycle;
  const int longest = api.opts.max_long_poll_s;
  const int wait =
      c.req.query.count("wait")
          ? std::clamp(static_cast<int>(parse_id(c.query("wait")).value_or(0)), 0, longest)
          : longest;
  auto first = lifecycle.next(c.device);
  if (!first) return from_error(first.error());
  if (first->state != protocol::NextResponse::State::waiting || wait == 0)
    return answer_next(api, c.device, request->nonce, std::move(*first));
  // Waiting for an operator: hold the request until something changes for this device.
  const std::int64_t device = c.device;
  Response r;
  r.long_poll = LongPoll{
      "device:" + std::to_string(device), std::chrono::seconds(wait),
      [&api, &lifecycle, device, nonce = request->nonce](bool final) -> std::optional<Response> {
        auto n = lifecycle.next(device);
        if (!n) return from_error(n.error());
        if (n->state == protocol::NextResponse::State::waiting && !final) return std::nullopt;
        return answer_next(api, device, nonce, std::move(*n));
      }};
  return r;
}

Response progress(ApiContext& api, Call& c) {
  auto body = body_json(c.req);
  if (!body) return from_error(body.error());
  auto report = protocol::from_json<protocol::ProgressReport>(*body);
  if (!report) return from_error(report.error());
  // Dashboards get the agent's report as it sent it (the typed fields are checked above).
  auto& progress = (*body)["progress"];
  if (progress.is_null()) progress = Json::object();
  auto recorded = api.services.lifecycle.progress(c.device, report->step, std::move(progress));
  if (!recorded) return from_error(recorded.error());
  // A deploying agent learns its chunk source in the answer (docs/agent-protocol.md, relay).
  protocol::ProgressAck ack;
  if (report->progress.deploy)
    ack.source = api.services.deployments.progress(c.device, report->step, *report->progress.deploy,
                                                   c.req.peer);
  return json_response(protocol::to_json(ack));
}

Response relay(ApiContext& api, Call& c) {
  auto report = decode_body<protocol::RelayReport>(c);
  if (!report) return from_error(report.error());
  return json_response(
      protocol::to_json(api.services.deployments.relay(c.device, *report, c.req.peer)));
}

Response events(ApiContext& api, Call& c) {
  auto report = decode_body<protocol::EventsReport>(c);
  if (!report) return from_error(report.error());
  return ok_or_error(api.services.lifecycle.add_events(c.device, report->events));
}

Result<std::int64_t> step_of(const Call& c) {
  auto step = parse_id(c.param("step"));
  if (!step) return make_error(Errc::invalid_input, "step id must be a positive integer");
  return *step;
}

Response checkpoint(ApiContext& api, Call& c) {
  auto step = step_of(c);
  if (!step) return from_error(step.error());
  auto report = decode_body<protocol::CheckpointReport>(c);
  if (!report) return from_error(report.error());
  return ok_or_error(
      api.services.lifecycle.checkpoint(c.device, *step, report->attempt, report->checkpoint));
}

Response result(ApiContext& api, Call& c) {
  auto step = step_of(c);
  if (!step) return from_error(step.error());
  auto report = decode_body<protocol::StepResultReport>(c);
  if (!report) return from_error(report.error());
  // A deploy step's result keeps what the server saw of its delivery: bytes by source, the
  // re-plans (the agent's own figures, if any, stay beside it).
  Deployments& deployments = api.services.deployments;
  if (auto delivery = deployments.delivery(c.device, *step); delivery && report->result.is_object())
    report->result["delivery"] = std::move(*delivery);
  auto ack = api.services.lifecycle.record_result(c.device, *step, *report);
  if (!ack) return from_error(ack.error());
  if (ack->recorded)
    deployments.step_recorded(c.device, *step, report->status == protocol::StepStatus::ok);
  return json_response(protocol::to_json(*ack));
}

Response certificates(ApiContext& api, Call& c) {
  auto list = api.services.certificates.for_device(c.device);
  if (!list) return from_error(list.error());
  Json out = Json::array();
  for (const auto& s : *list) out.push_back(protocol::to_json(s));
  return json_response(out);
}

}  // namespace

void add_agent_routes(HandlerTable& t, ApiContext& api) {
  t.add(RouteId::enrol, [&api](Call& c) { return enrol(api, c); });
  t.add(RouteId::agent_next, [&api](Call& c) { return next(api, c); });
  t.add(RouteId::agent_progress, [&api](Call& c) { return progress(api, c); });
  t.add(RouteId::agent_relay, [&api](Call& c) { return relay(api, c); });
  t.add(RouteId::agent_events, [&api](Call& c) { return events(api, c); });
  t.add(RouteId::agent_checkpoint, [&api](Call& c) { return checkpoint(api, c); });
  t.add(RouteId::agent_result, [&api](Call& c) { return result(api, c); });
  t.add(RouteId::agent_certificates, [&api](Call& c) { return certificates(api, c); });
}

}  // namespace revive::server
