#include <span>

#include "revive/file_util.hpp"
#include "step.hpp"

namespace revive::agent::steps {

// The finish step: what the laptop does once the agent exits (poweroff or reboot). The live
// image's init reads the action file after the agent has exited, that is after the server
// recorded the result.
Outcome run_finish_step(const StepContext& ctx) {
  const std::string action = ctx.step.params.value("action", std::string("poweroff"));
  if (action != "poweroff" && action != "reboot")
    return failed("finish action must be \"poweroff\" or \"reboot\"");
  if (!ctx.opts.finish_action_file.empty()) {
    const std::string line = action + "\n";
    if (auto w = write_file_atomic(ctx.opts.finish_action_file,
                                   std::as_bytes(std::span(line.data(), line.size())),
                                   ctx.opts.finish_action_file.parent_path());
        !w) {
      return failed("cannot record the finish action: " + w.error().message);
    }
  }
  return succeeded({{"action", action}, {"simulated", ctx.opts.simulate}});
}

}  // namespace revive::agent::steps
