#pragma once
// The workflow state machine, pure: given the steps of a run, what happens next. No I/O, no
// clock of its own; the step lifecycle (step_lifecycle.hpp) applies these decisions.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "revive/protocol.hpp"

namespace revive::server {

struct StepView {
  std::int64_t id = 0;
  protocol::StepKind kind = protocol::StepKind::inventory;
  protocol::StepState state = protocol::StepState::pending;
};

struct NextDecision {
  enum Kind {
    start,      ///< hand out `step` (pending -> running)
    resume,     ///< `step` is running: the agent reconnected, give it the same step again
    wait,       ///< a step failed: wait for an operator (retry/skip/cancel)
    finished,   ///< every step done or skipped: the run is done
    cancelled,  ///< the run was cancelled
  } kind = finished;
  std::optional<std::size_t> step;  ///< index into the steps for start/resume/wait
};

/// What the agent gets when it asks for work.
NextDecision decide_next(protocol::RunState run, const std::vector<StepView>& steps);

/// Whether an operator action is allowed on a step in this state (retry: failed/cancelled;
/// skip: pending/running/failed). Returns an explanation when not.
std::optional<std::string> check_retry(protocol::StepState s);
std::optional<std::string> check_skip(protocol::StepState s);

}  // namespace revive::server
