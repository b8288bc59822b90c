#include "workflow.hpp"

namespace revive::server {

bool is_step_kind(std::string_view kind) {
  for (auto k : kStepKinds) {
    if (k == kind) return true;
  }
  return false;
}

std::string_view to_string(StepState s) {
  switch (s) {
    case StepState::pending:
      return "pending";
    case StepState::running:
      return "running";
    case StepState::done:
      return "done";
    case StepState::failed:
      return "failed";
    case StepState::skipped:
      return "skipped";
    case StepState::cancelled:
      return "cancelled";
  }
  return "?";
}

std::optional<StepState> step_state_from(std::string_view s) {
  for (auto v : {StepState::pending, StepState::running, StepState::done, StepState::failed,
                 StepState::skipped, StepState::cancelled}) {
    if (to_string(v) == s) return v;
  }
  return std::nullopt;
}

std::string_view to_string(RunState s) {
  switch (s) {
    case RunState::running:
      return "running";
    case RunState::failed:
      return "failed";
    case RunState::done:
      return "done";
    case RunState::cancelled:
      return "cancelled";
  }
  return "?";
}

std::optional<RunState> run_state_from(std::string_view s) {
  for (auto v : {RunState::running, RunState::failed, RunState::done, RunState::cancelled}) {
    if (to_string(v) == s) return v;
  }
  return std::nullopt;
}

NextDecision decide_next(RunState run, const std::vector<StepView>& steps) {
  if (run == RunState::cancelled) return {NextDecision::cancelled, std::nullopt};
  for (std::size_t i = 0; i < steps.size(); ++i) {
    switch (steps[i].state) {
      case StepState::done:
      case StepState::skipped:
        continue;
      case StepState::pending:
        return {NextDecision::start, i};
      case StepState::running:
        return {NextDecision::resume, i};
      case StepState::failed:
      case StepState::cancelled:
        return {NextDecision::wait, i};
    }
  }
  return {NextDecision::finished, std::nullopt};
}

std::optional<std::string> check_retry(StepState s) {
  if (s == StepState::failed || s == StepState::cancelled) return std::nullopt;
  return "only a failed or cancelled step can be retried (this one is " +
         std::string(to_string(s)) + ")";
}

std::optional<std::string> check_skip(StepState s) {
  if (s == StepState::pending || s == StepState::running || s == StepState::failed)
    return std::nullopt;
  return "only a pending, running or failed step can be skipped (this one is " +
         std::string(to_string(s)) + ")";
}

}  // namespace revive::server
