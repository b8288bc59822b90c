#include "domain/workflow.hpp"

namespace revive::server {

using protocol::RunState;
using protocol::StepState;

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
         std::string(protocol::to_string(s)) + ")";
}

std::optional<std::string> check_skip(StepState s) {
  if (s == StepState::pending || s == StepState::running || s == StepState::failed)
    return std::nullopt;
  return "only a pending, running or failed step can be skipped (this one is " +
         std::string(protocol::to_string(s)) + ")";
}

}  // namespace revive::server
