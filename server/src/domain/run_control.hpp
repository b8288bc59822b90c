#pragma once
// What operators do to a workflow run: retry or skip a step, cancel a device's run, restart a
// device with a new run. Each is one unit of work and one event-log entry naming the operator.

#include <cstdint>
#include <string>

#include "domain/context.hpp"
#include "domain/live_steps.hpp"

namespace revive::server {

class RunControl {
 public:
  RunControl(DomainContext& ctx, LiveSteps& live) : ctx_(ctx), live_(live) {}

  /// Makes a failed or cancelled step pending again (a new attempt); the step's device.
  /// not_found for an unknown step, conflict in any other state.
  Result<std::int64_t> retry_step(std::int64_t step_id, const std::string& who);
  /// Skips a pending, running or failed step; the step's device. not_found for an unknown step,
  /// conflict in any other state.
  Result<std::int64_t> skip_step(std::int64_t step_id, const std::string& who);
  /// Cancels the device's running or failed run. not_found without a run, conflict when it
  /// ended already.
  Result<void> cancel_device(std::int64_t device_id, const std::string& who);
  /// Gives the device a new run from the workflow rules. conflict while a run is in progress,
  /// not_found for an unknown device.
  Result<void> restart_device(std::int64_t device_id, const std::string& who);

 private:
  struct Owned {
    StepRow step;
    RunRow run;
  };
  Result<Owned> owned(std::int64_t step_id);
  Result<void> log(std::int64_t device, const char* kind, const StepRow& step,
                   const std::string& who);

  DomainContext& ctx_;
  LiveSteps& live_;
};

}  // namespace revive::server
