#pragma once
// What the server adds to a step's parameters when it hands the step out: the rules that decide
// which drives a wipe names, which image a deploy installs and which grading policy a test
// applies. Pure: the caller passes in what the rules read.

#include <functional>
#include <optional>
#include <string>

#include "revive/error.hpp"
#include "storage/rows.hpp"

namespace revive::server {

/// What decides the on-screen countdown before a destructive step (see needs_confirmation).
struct ConfirmFacts {
  bool destroyed_before = false;  ///< a wipe or deploy ever recorded a result on this device
  std::string workshop;
  std::optional<std::string> batch;
};

struct StepParamSources {
  std::optional<std::string> batch_image;     ///< the run's image (from the device's batch)
  std::optional<std::string> grading_policy;  ///< the workshop's policy (TOML text)
  /// The laptop's inventory; asked only for a wipe step (nullopt: none was sent).
  std::function<Result<std::optional<Json>>()> inventory;
  /// Asked only for destructive steps; unset: no countdown is asked for.
  std::function<Result<ConfirmFacts>()> confirm;
  /// The device's batch's recipient profile (nullopt: none); asked only for a provision step.
  std::function<Result<std::optional<Json>>()> batch_profile;
};

/// How long the laptop's own screen counts down before its first destructive step.
inline constexpr int kConfirmCountdownS = 30;
/// The range a workflow's own `confirm.countdown_s` is held to: long enough to be seen and
/// stopped, well under the default stall timeout (600 s; the agent reports progress once, as
/// the countdown starts).
inline constexpr int kShortestConfirmCountdownS = 5;
inline constexpr int kLongestConfirmCountdownS = 300;

/// Whether a step writes over the laptop's disks (wipe, deploy).
bool destructive(StepKind kind);
/// Whether the agent must show what is about to happen, with a countdown a person at the
/// laptop can cancel, before this step: the first destructive step on a device nothing
/// destructive was ever done to (a machine this server has not processed before, which may
/// have network-booted by mistake). Retries, resumed steps after a result and later visits of
/// a processed laptop go without.
bool needs_confirmation(StepKind kind, bool destroyed_before);

/// The parameters the agent gets: the workflow's own, plus what the server fills in where the
/// workflow left the key out (a workflow's explicit value always wins):
///  - deploy: `image` = the batch's image;
///  - test: `grading_policy` = the workshop's policy;
///  - provision: `profile` = the batch's recipient profile;
///  - wipe: `drives` = the internal drives of the inventory (see wipe_targets);
///  - wipe, deploy: `confirm` = {countdown_s, workshop, batch} when needs_confirmation says so
///    (a workflow's `confirm.countdown_s` sets the length, held to 5..300 s; it cannot switch
///    the countdown off, and workshop and batch are always the server's).
/// The inventory's error when it cannot be read (a wipe job must never go out without its
/// drive list); the confirm source's error likewise.
Result<Json> step_parameters(StepKind kind, const Json& workflow_params,
                             const StepParamSources& sources);

/// The drives a wipe job names, by serial, from the inventory the laptop sent: every disk
/// except USB-attached and removable ones ([{name, serial, model}]; serial and model "" when
/// unknown). Never the stick the laptop may have booted from, never a card in the reader.
Json wipe_targets(const std::optional<Json>& inventory);

}  // namespace revive::server
