#pragma once
// The workflow state machine, pure: given the steps of a run, what happens next. No I/O, no
// clock of its own; the persistent engine (state.hpp) applies these decisions in transactions.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace revive::server {

/// The steps a workflow can hold, in the order the agent protocol documents them.
inline constexpr std::string_view kStepKinds[] = {"inventory", "wipe",    "test",  "deploy",
                                                  "provision", "certify", "finish"};
bool is_step_kind(std::string_view kind);

enum class StepState { pending, running, done, failed, skipped, cancelled };
std::string_view to_string(StepState s);
std::optional<StepState> step_state_from(std::string_view s);

enum class RunState { running, failed, done, cancelled };
std::string_view to_string(RunState s);
std::optional<RunState> run_state_from(std::string_view s);

struct StepView {
  std::int64_t id = 0;
  std::string kind;
  StepState state = StepState::pending;
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
NextDecision decide_next(RunState run, const std::vector<StepView>& steps);

/// Whether an operator action is allowed on a step in this state (retry: failed/cancelled;
/// skip: pending/running/failed). Returns an explanation when not.
std::optional<std::string> check_retry(StepState s);
std::optional<std::string> check_skip(StepState s);

}  // namespace revive::server
