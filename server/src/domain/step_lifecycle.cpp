#include "domain/step_lifecycle.hpp"

#include "domain/certificates.hpp"
#include "domain/deploy_gate.hpp"
#include "domain/first_visit.hpp"
#include "domain/step_params.hpp"
#include "domain/workflow.hpp"

namespace revive::server {

using protocol::NextResponse;

struct StepLifecycle::RunView {
  RunRow run;
  std::vector<StepRow> steps;
};

namespace {

std::string step_name(std::int64_t id) { return "step " + std::to_string(id); }

NextResponse waiting(const StepRow& s, std::string reason) {
  NextResponse r;
  r.state = NextResponse::State::waiting;
  r.waiting = protocol::WaitingStep{s.id, s.kind, s.state};
  r.reason = std::move(reason);
  return r;
}

NextResponse assignment(const StepRow& s, Json params, bool resumed) {
  NextResponse r;
  r.state = NextResponse::State::step;
  protocol::StepAssignment a;
  a.id = s.id;
  a.kind = s.kind;
  a.attempt = s.attempt;
  a.params = std::move(params);
  a.resumed = resumed;
  if (resumed) a.checkpoint = s.checkpoint;
  r.step = std::move(a);
  return r;
}

NextResponse just(NextResponse::State state) {
  NextResponse r;
  r.state = state;
  return r;
}

}  // namespace

Result<NextResponse> StepLifecycle::next(std::int64_t device) {
  Storage& s = ctx_.storage();
  REVIVE_ASSIGN(latest, s.runs().latest(device));
  if (!latest)
    return make_error(Errc::not_found, "device " + std::to_string(device) + " has no workflow");
  REVIVE_ASSIGN(uow, s.begin());
  RunView view{*latest, {}};
  REVIVE_ASSIGN(steps, s.runs().steps(latest->id));
  view.steps = std::move(steps);
  std::vector<StepView> views;
  for (const auto& st : view.steps) views.push_back({st.id, st.kind, st.state});
  const NextDecision d = decide_next(view.run.state, views);
  Result<NextResponse> out = just(NextResponse::State::cancelled);
  switch (d.kind) {
    case NextDecision::start:
      out = start(view, *d.step);
      break;
    case NextDecision::resume:
      out = resume(view, *d.step);
      break;
    case NextDecision::wait: {
      const StepRow& st = view.steps[*d.step];
      out = waiting(st, st.error.value_or("step " + std::string(protocol::to_string(st.kind)) +
                                          " " + std::string(protocol::to_string(st.state))));
      break;
    }
    case NextDecision::finished:
      out = finish(view);
      break;
    case NextDecision::cancelled:
      break;
  }
  if (!out) return out.error();
  REVIVE_TRY(uow->commit());
  const bool changed = (d.kind == NextDecision::start && out->state == NextResponse::State::step) ||
                       (d.kind == NextDecision::finished && view.run.state != RunState::done);
  if (changed) ctx_.device_changed(device);
  return out;
}

Result<NextResponse> StepLifecycle::start(const RunView& view, std::size_t index) {
  Storage& s = ctx_.storage();
  StepRow step = view.steps[index];
  REVIVE_ASSIGN(blocked, deploy_blocked(step, view.steps, [&](std::int64_t wipe_step) {
                  return newest_laptop_result(s.certificates(), wipe_step);
                }));
  if (blocked) return waiting(step, *blocked);
  const Seconds now = ctx_.now();
  // A new attempt starts from scratch: what the disk holds after a failure is not known.
  step.state = StepState::running;
  step.attempt += 1;
  step.started_at = now;
  step.deadline = now + timeouts_.of(step.kind);
  step.error.reset();
  step.checkpoint.reset();
  REVIVE_TRY(s.runs().update(step));
  REVIVE_TRY(ctx_.log(view.run.device_id, "step-started",
                      {{"step", step.id},
                       {"kind", std::string(protocol::to_string(step.kind))},
                       {"attempt", step.attempt}}));
  REVIVE_ASSIGN(params, params_for(view, step));
  live_.forget(step.id);
  live_.track(step.id, view.run.device_id, step.kind, now);
  return assignment(step, std::move(params), false);
}

Result<NextResponse> StepLifecycle::resume(const RunView& view, std::size_t index) {
  StepRow step = view.steps[index];
  const Seconds now = ctx_.now();
  step.deadline = now + timeouts_.of(step.kind);
  REVIVE_TRY(ctx_.storage().runs().update(step));
  live_.track(step.id, view.run.device_id, step.kind, now);
  REVIVE_ASSIGN(params, params_for(view, step));
  return assignment(step, std::move(params), true);
}

Result<NextResponse> StepLifecycle::finish(const RunView& view) {
  if (view.run.state != RunState::done) {
    RunRow run = view.run;
    run.state = RunState::done;
    run.finished_at = ctx_.now();
    REVIVE_TRY(ctx_.storage().runs().update(run));
    REVIVE_TRY(ctx_.log(run.device_id, "workflow-done", Json::object()));
  }
  return just(NextResponse::State::done);
}

Result<Json> StepLifecycle::params_for(const RunView& view, const StepRow& step) {
  Storage& s = ctx_.storage();
  StepParamSources sources;
  sources.batch_image = view.run.image;
  if (step.kind == StepKind::test) {
    REVIVE_ASSIGN(policy, s.settings().get("grading_policy"));
    sources.grading_policy = policy;
  }
  const std::int64_t device = view.run.device_id;
  sources.inventory = [&s, device] { return s.devices().inventory(device); };
  sources.confirm = [&s, device] { return confirm_facts(s, device); };
  sources.batch_profile = [&s, device]() -> Result<std::optional<Json>> {
    REVIVE_ASSIGN(d, s.devices().find(device));
    if (!d || !d->batch_id) return std::optional<Json>();
    REVIVE_ASSIGN(batch, s.batches().find(*d->batch_id));
    if (!batch) return std::optional<Json>();
    // A named profile is read when the step is handed out, so an edit on the settings page
    // reaches the batch's laptops that have not been provisioned yet.
    if (batch->profile_id) {
      REVIVE_ASSIGN(named, s.recipient_profiles().find(*batch->profile_id));
      if (named) return std::optional<Json>(named->fields);
    }
    return batch->profile;
  };
  return step_parameters(step.kind, step.params, sources);
}

Result<StepRow> StepLifecycle::owned_step(std::int64_t device, std::int64_t step) {
  REVIVE_ASSIGN(row, ctx_.storage().runs().step(step));
  if (!row || row->device_id != device)
    return make_error(Errc::not_found, step_name(step) + " is not one of this device's steps");
  return *row;
}

Result<void> StepLifecycle::progress(std::int64_t device, std::int64_t step, Json p) {
  auto* live = live_.find(step, device);
  if (!live) {
    // Not a running step of this device: say precisely why.
    REVIVE_ASSIGN(row, owned_step(device, step));
    return make_error(Errc::conflict, step_name(step) + " is not running (it is " +
                                          std::string(protocol::to_string(row.state)) + ")");
  }
  live->last_beat = ctx_.now();
  if (ctx_.changes().step_progress) ctx_.changes().step_progress(device, step, p);
  live->progress = std::move(p);
  return {};
}

Result<void> StepLifecycle::checkpoint(std::int64_t device, std::int64_t step, std::int64_t attempt,
                                       const Json& cp) {
  REVIVE_ASSIGN(uow, ctx_.storage().begin());
  REVIVE_ASSIGN(row, owned_step(device, step));
  if (row.state != StepState::running || row.attempt != attempt) {
    return make_error(Errc::conflict, step_name(step) + " attempt " + std::to_string(attempt) +
                                          " is not the running one");
  }
  row.checkpoint = cp;
  REVIVE_TRY(ctx_.storage().runs().update(row));
  REVIVE_TRY(uow->commit());
  if (auto* live = live_.find(step, device)) live->last_beat = ctx_.now();
  return {};
}

Result<WipeAssessment> StepLifecycle::assess(const StepRow& step,
                                             const protocol::StepResultReport& report) {
  if (step.kind != StepKind::wipe) return WipeAssessment{{}, Json(), report.status, report.error};
  Storage& s = ctx_.storage();
  REVIVE_ASSIGN(facts, wipe_certificate_facts(s, step));
  REVIVE_ASSIGN(settings, certifier_settings(s.settings()));
  return certifier_.assess(facts, settings, report.result, report.status, report.error);
}

Result<protocol::ResultAck> StepLifecycle::record_result(std::int64_t device, std::int64_t step_id,
                                                         const protocol::StepResultReport& report) {
  Storage& s = ctx_.storage();
  REVIVE_ASSIGN(uow, s.begin());
  REVIVE_ASSIGN(step, owned_step(device, step_id));
  // Exactly once: the agent may retry a POST whose answer it never got. Checked before any
  // certificate is signed, so a retried wipe result signs nothing.
  REVIVE_ASSIGN(previous, s.runs().result(step_id, report.attempt));
  if (previous) {
    StepStatus answer = report.status;
    if (step.kind == StepKind::wipe && answer != previous->status) {
      // A wipe's stored status is the certified one: compare like with like.
      REVIVE_ASSIGN(again, assess(step, report));
      answer = again.status;
    }
    if (previous->status == answer) return protocol::ResultAck{false, true};
    return make_error(Errc::conflict,
                      step_name(step_id) + " attempt " + std::to_string(report.attempt) +
                          " already has result \"" +
                          std::string(protocol::to_string(previous->status)) + "\"");
  }
  if (report.attempt != step.attempt) {
    return make_error(Errc::conflict, step_name(step_id) + " is at attempt " +
                                          std::to_string(step.attempt) + ", not " +
                                          std::to_string(report.attempt));
  }
  if (step.state != StepState::running) {
    return make_error(Errc::conflict, step_name(step_id) + " is not running (it is " +
                                          std::string(protocol::to_string(step.state)) + ")");
  }
  REVIVE_ASSIGN(outcome, assess(step, report));
  REVIVE_TRY(store_result(step, report, outcome));
  REVIVE_TRY(uow->commit());
  live_.forget(step_id);
  ctx_.device_changed(device);
  return protocol::ResultAck{true, false};
}

Result<void> StepLifecycle::store_result(const StepRow& step,
                                         const protocol::StepResultReport& report,
                                         const WipeAssessment& outcome) {
  Storage& s = ctx_.storage();
  const Seconds now = ctx_.now();
  const bool ok = outcome.status == StepStatus::ok;
  REVIVE_TRY(s.runs().add_result(StepResultRow{0, step.id, step.kind, report.attempt,
                                               outcome.status, report.result, outcome.error, now}));
  if (step.kind == StepKind::wipe) {
    for (const auto& c : certifier_.sign(outcome)) {
      REVIVE_TRY(s.certificates().add(CertificateRow{c.cert_id, step.device_id, step.id, c.kind,
                                                     c.result, c.body, now, std::nullopt}));
      REVIVE_TRY(ctx_.log(
          step.device_id, "certificate",
          {{"certificate", c.cert_id}, {"kind", c.kind}, {"result", c.result}, {"step", step.id}}));
    }
  }
  StepRow done = step;
  done.state = ok ? StepState::done : StepState::failed;
  done.finished_at = now;
  done.error = ok ? std::nullopt : std::optional<std::string>(outcome.error);
  REVIVE_TRY(s.runs().update(done));
  if (!ok) {
    REVIVE_ASSIGN(run, s.runs().find(step.run_id));
    if (run) {
      run->state = RunState::failed;
      REVIVE_TRY(s.runs().update(*run));
    }
  }
  auto logged = ctx_.log(step.device_id, ok ? "step-done" : "step-failed",
                         {{"step", step.id},
                          {"kind", std::string(protocol::to_string(step.kind))},
                          {"attempt", report.attempt},
                          {"error", outcome.error}});
  if (!logged) return logged.error();
  return {};
}

Result<void> StepLifecycle::add_events(std::int64_t device, const Json& events) {
  REVIVE_ASSIGN(uow, ctx_.storage().begin());
  for (const auto& e : events) REVIVE_TRY(ctx_.log(device, "agent", e));
  return uow->commit();
}

Result<bool> StepLifecycle::expire(std::int64_t step_id, const LiveSteps::Live& live) {
  Storage& s = ctx_.storage();
  const Seconds now = ctx_.now();
  const std::string kind(protocol::to_string(live.kind));
  const std::string why = "no progress from the agent for " +
                          std::to_string(timeouts_.of(live.kind)) + " s: the " + kind +
                          " step passed its deadline";
  REVIVE_ASSIGN(uow, s.begin());
  REVIVE_ASSIGN(step, s.runs().step(step_id));
  const bool changed = step && step->state == StepState::running;
  if (changed) {
    step->state = StepState::failed;
    step->finished_at = now;
    step->error = why;
    REVIVE_TRY(s.runs().update(*step));
    REVIVE_ASSIGN(run, s.runs().find(step->run_id));
    if (run) {
      run->state = RunState::failed;
      REVIVE_TRY(s.runs().update(*run));
    }
    REVIVE_TRY(ctx_.log(live.device, "step-timed-out",
                        {{"step", step_id}, {"kind", kind}, {"error", why}}));
  }
  REVIVE_TRY(uow->commit());
  return changed;
}

Result<std::vector<std::int64_t>> StepLifecycle::expire_deadlines() {
  std::vector<std::int64_t> devices;
  for (const auto& [step, live] : live_.overdue(ctx_.now(), timeouts_)) {
    REVIVE_ASSIGN(changed, expire(step, live));
    live_.forget(step);
    if (changed) {
      devices.push_back(live.device);
      ctx_.device_changed(live.device);
    }
  }
  return devices;
}

Result<void> StepLifecycle::load_running_steps() {
  REVIVE_ASSIGN(steps, ctx_.storage().runs().running_steps());
  const Seconds now = ctx_.now();
  for (const auto& s : steps) {
    live_.forget(s.id);
    live_.track(s.id, s.device_id, s.kind, now);
  }
  return {};
}

}  // namespace revive::server
