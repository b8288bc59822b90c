#include "domain/run_control.hpp"

#include "domain/run_factory.hpp"
#include "domain/workflow.hpp"

namespace revive::server {

Result<RunControl::Owned> RunControl::owned(std::int64_t step_id) {
  Storage& s = ctx_.storage();
  REVIVE_ASSIGN(step, s.runs().step(step_id));
  if (!step)
    return make_error(Errc::not_found, "step " + std::to_string(step_id) + " does not exist");
  REVIVE_ASSIGN(run, s.runs().find(step->run_id));
  if (!run)
    return make_error(Errc::internal, "the run of step " + std::to_string(step_id) + " vanished");
  return Owned{*step, *run};
}

Result<void> RunControl::log(std::int64_t device, const char* kind, const StepRow& step,
                             const std::string& who) {
  auto r = ctx_.log(device, kind,
                    {{"step", step.id},
                     {"kind", std::string(protocol::to_string(step.kind))},
                     {"operator", who}});
  if (!r) return r.error();
  return {};
}

Result<std::int64_t> RunControl::retry_step(std::int64_t step_id, const std::string& who) {
  Storage& s = ctx_.storage();
  REVIVE_ASSIGN(uow, s.begin());
  REVIVE_ASSIGN(o, owned(step_id));
  if (auto why = check_retry(o.step.state)) return make_error(Errc::conflict, *why);
  o.step.state = StepState::pending;
  o.step.error.reset();
  REVIVE_TRY(s.runs().update(o.step));
  o.run.state = RunState::running;
  o.run.finished_at.reset();
  REVIVE_TRY(s.runs().update(o.run));
  REVIVE_TRY(log(o.run.device_id, "step-retry", o.step, who));
  REVIVE_TRY(uow->commit());
  ctx_.device_changed(o.run.device_id);
  return o.run.device_id;
}

Result<std::int64_t> RunControl::skip_step(std::int64_t step_id, const std::string& who) {
  Storage& s = ctx_.storage();
  REVIVE_ASSIGN(uow, s.begin());
  REVIVE_ASSIGN(o, owned(step_id));
  if (auto why = check_skip(o.step.state)) return make_error(Errc::conflict, *why);
  o.step.state = StepState::skipped;
  o.step.finished_at = ctx_.now();
  REVIVE_TRY(s.runs().update(o.step));
  if (o.run.state == RunState::failed) {
    o.run.state = RunState::running;
    REVIVE_TRY(s.runs().update(o.run));
  }
  REVIVE_TRY(log(o.run.device_id, "step-skipped", o.step, who));
  REVIVE_TRY(uow->commit());
  live_.forget(step_id);
  ctx_.device_changed(o.run.device_id);
  return o.run.device_id;
}

Result<void> RunControl::cancel_device(std::int64_t device_id, const std::string& who) {
  Storage& s = ctx_.storage();
  REVIVE_ASSIGN(uow, s.begin());
  REVIVE_ASSIGN(run, s.runs().latest(device_id));
  if (!run)
    return make_error(Errc::not_found, "device " + std::to_string(device_id) + " has no workflow");
  if (run->state != RunState::running && run->state != RunState::failed)
    return make_error(Errc::conflict,
                      "device " + std::to_string(device_id) + "'s workflow already ended");
  run->state = RunState::cancelled;
  run->finished_at = ctx_.now();
  REVIVE_TRY(s.runs().update(*run));
  REVIVE_ASSIGN(steps, s.runs().steps(run->id));
  for (auto& st : steps) {
    if (st.state != StepState::pending && st.state != StepState::running) continue;
    st.state = StepState::cancelled;
    REVIVE_TRY(s.runs().update(st));
  }
  REVIVE_TRY(ctx_.log(device_id, "workflow-cancelled", {{"operator", who}}));
  REVIVE_TRY(uow->commit());
  live_.forget_device(device_id);
  ctx_.device_changed(device_id);
  return {};
}

Result<void> RunControl::restart_device(std::int64_t device_id, const std::string& who) {
  Storage& s = ctx_.storage();
  REVIVE_ASSIGN(uow, s.begin());
  REVIVE_ASSIGN(run, s.runs().latest(device_id));
  if (run && (run->state == RunState::running || run->state == RunState::failed)) {
    return make_error(Errc::conflict, "device " + std::to_string(device_id) +
                                          " still has a workflow in progress; cancel it first");
  }
  REVIVE_TRY(create_run(ctx_, device_id));
  REVIVE_TRY(ctx_.log(device_id, "workflow-restarted", {{"operator", who}}));
  REVIVE_TRY(uow->commit());
  ctx_.device_changed(device_id);
  return {};
}

}  // namespace revive::server
