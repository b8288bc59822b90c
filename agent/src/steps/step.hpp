#pragma once
// What every step implementation gets and gives back (internal to the agent library). One file
// per step kind in this directory; runner.cpp picks the step by its kind.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "revive/agent/runner.hpp"
#include "revive/agent/server_api.hpp"
#include "revive/protocol.hpp"

namespace revive::agent {
class Relay;
}

namespace revive::agent::steps {

using Json = nlohmann::json;

/// A step's outcome: ok + result, or failed + error (the result may still carry evidence).
struct Outcome {
  bool ok = true;
  Json result = Json::object();
  std::string error;
};

inline Outcome succeeded(Json result) { return {true, std::move(result), ""}; }
inline Outcome failed(std::string error, Json result = Json::object()) {
  return {false, std::move(result), std::move(error)};
}

/// What a step has to work with.
struct StepContext {
  const RunnerOptions& opts;
  ServerApi& server;
  std::int64_t device_id;  ///< from the enrolment answer
  const protocol::StepAssignment& step;
  const Json& inventory;
  /// The runner's slot for a relay that outlives its deploy step (null: none is kept).
  std::unique_ptr<Relay>* relay = nullptr;
  /// The result of this boot's last checks step, for the grade (null JSON: none ran).
  const Json* checks = nullptr;

  /// Reports progress to the server and draws a line on the console. A report the server did
  /// not take is ignored: a missed progress report is not a failed step.
  void progress(const std::string& stage, double done, double total) const;
  /// The same with a deploy step's figures; the server's answer, nullopt when it took none.
  std::optional<protocol::ProgressAck> progress(
      const std::string& stage, double done, double total,
      std::optional<protocol::DeployProgress> deploy) const;
  void log(const std::string& line) const;
  bool stopped() const;
  /// Why `disk` must not be written because it is not the laptop's own drive (USB, removable,
  /// Thunderbolt: disk_safety.hpp's external_drive), or nullopt. A simulated laptop's disk is
  /// a file or loop device (main checks it) and passes.
  std::optional<std::string> external(const std::filesystem::path& disk) const;
};

// Each returns the step's outcome; failures are outcomes, never exceptions of their own (a
// step parameter of the wrong type throws from nlohmann::json; the runner turns that into a
// failed step).
Outcome run_inventory_step(const StepContext& ctx);
Outcome run_test_step(const StepContext& ctx);
Outcome run_wipe_step(const StepContext& ctx);
Outcome run_deploy_step(const StepContext& ctx);
Outcome run_provision_step(const StepContext& ctx);
Outcome run_certify_step(const StepContext& ctx);
Outcome run_finish_step(const StepContext& ctx);
Outcome run_checks_step(const StepContext& ctx);

/// Before a wipe or deploy whose job carries `confirm` (the first destructive step on a
/// machine the server never processed): the countdown on the laptop's own screen
/// (write_countdown.hpp). nullopt: go ahead; otherwise the failed outcome (stopped at the
/// laptop, the agent stopping, or a `confirm` that cannot be honoured): nothing was written.
std::optional<Outcome> confirm_before_writing(const StepContext& ctx);
/// A wipe on a laptop running on its battery below the job's `min_battery_pct` (default 25)
/// does not start (before the countdown): a laptop that dies mid-wipe holds neither erased data
/// with proof nor a usable disk. The refusal says to plug in the charger.
std::optional<Outcome> battery_too_low_to_wipe(const StepContext& ctx);

}  // namespace revive::agent::steps
