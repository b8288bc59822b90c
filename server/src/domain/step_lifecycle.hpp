#pragma once
// The agent's side of a workflow run: which step runs next (decide_next, the deploy gate, the
// step's parameters), progress and stall deadlines (running steps live in memory, see
// live_steps.hpp), checkpoints, and results recorded exactly once, a wipe's certificates with
// them in one unit of work.

#include <cstdint>
#include <vector>

#include "domain/certifier.hpp"
#include "domain/context.hpp"
#include "domain/live_steps.hpp"
#include "revive/protocol.hpp"

namespace revive::server {

class StepLifecycle {
 public:
  StepLifecycle(DomainContext& ctx, LiveSteps& live, const Certifier& certifier,
                StallTimeouts timeouts)
      : ctx_(ctx), live_(live), certifier_(certifier), timeouts_(std::move(timeouts)) {}

  /// The device's next step (started or resumed), or why it waits, or that the run is done or
  /// cancelled. not_found when the device has no run; io on a storage failure.
  Result<protocol::NextResponse> next(std::int64_t device);
  /// Records progress of a running step in memory (it also extends the step's deadline).
  /// not_found when the step is not the device's, conflict when it is not running.
  Result<void> progress(std::int64_t device, std::int64_t step, Json progress);
  /// Stores where a running attempt has got to; returned when the agent resumes it. not_found
  /// when the step is not the device's, conflict unless `attempt` is the running one.
  Result<void> checkpoint(std::int64_t device, std::int64_t step, std::int64_t attempt,
                          const Json& checkpoint);
  /// Records a step's result exactly once: recorded the first time, duplicate for the same
  /// answer again (nothing new is signed or stored then); conflict for a different answer, an
  /// old attempt or a step that is no longer running; not_found when the step is not the
  /// device's.
  Result<protocol::ResultAck> record_result(std::int64_t device, std::int64_t step,
                                            const protocol::StepResultReport& report);
  /// Appends the agent's events (objects) to the log in one unit of work; io on a storage
  /// failure.
  Result<void> add_events(std::int64_t device, const Json& events);
  /// Fails running steps past their deadline; the devices affected. io on a storage failure.
  Result<std::vector<std::int64_t>> expire_deadlines();
  /// After a restart: every running step is tracked again, with a fresh deadline.
  Result<void> load_running_steps();

  const StallTimeouts& timeouts() const { return timeouts_; }

 private:
  struct RunView;
  Result<protocol::NextResponse> start(const RunView& run, std::size_t index);
  Result<protocol::NextResponse> resume(const RunView& run, std::size_t index);
  Result<protocol::NextResponse> finish(const RunView& run);
  Result<Json> params_for(const RunView& run, const StepRow& step);
  Result<StepRow> owned_step(std::int64_t device, std::int64_t step);
  /// The status the step gets and, for a wipe, the certificates it earns (unsigned).
  Result<WipeAssessment> assess(const StepRow& step, const protocol::StepResultReport& report);
  Result<void> store_result(const StepRow& step, const protocol::StepResultReport& report,
                            const WipeAssessment& outcome);
  Result<bool> expire(std::int64_t step, const LiveSteps::Live& live);

  DomainContext& ctx_;
  LiveSteps& live_;
  const Certifier& certifier_;
  StallTimeouts timeouts_;
};

}  // namespace revive::server
