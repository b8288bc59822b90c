#pragma once
// The checks a volunteer does by hand, guided by the laptop's screen: keyboard (every key
// pressed lights up), screen (full-screen colours, answered), speakers (a tone left and right,
// answered), and what is only detected: webcam, touchpad, Wi-Fi, USB ports (a stick plugged
// in). Each part's result has a "status": passed / failed / not_checked (nobody answered in
// time, or it could not be asked: never counted as passed), or found / not_found.

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>

#include "revive/agent/checks/input.hpp"
#include "revive/agent/screen/status_screen.hpp"
#include "revive/agent/system.hpp"
#include "revive/grading_reasons.hpp"

namespace revive::agent::checks {

using Json = nlohmann::json;
using std::chrono::seconds;

/// What the checks work with. `input` may be null (no keyboard found): the parts that need an
/// answer are then not checked. `screen` may be null (no console): nothing is drawn.
struct CheckIo {
  InputSource* input = nullptr;
  screen::StatusScreen* screen = nullptr;
  Exec* exec = nullptr;  ///< plays the speaker tones
  const MachineRoot* root = nullptr;
  const std::atomic<bool>* stop = nullptr;
  const screen::Strings* words = nullptr;
  /// Keeps every core busy for that long (the battery check's load); null: this process's
  /// threads do. A test's changes the battery's figures instead.
  std::function<void(seconds)> cpu_load;
};

/// Every key of the layout pressed (minus `skip` labels); ends when all are, after `idle` with
/// no new key, or at `limit`. {status, missing[], pressed}; no key at all: not_checked.
Json keyboard_check(const CheckIo& io, seconds limit, seconds idle,
                    const std::vector<std::string>& skip);
/// Full-screen colours, each until a key or `per_colour`; then the question, `answer` to reply.
Json screen_check(const CheckIo& io, seconds per_colour, seconds answer);
/// A tone on the left, then the right speaker (speaker-test), each answered within `answer`.
Json speaker_check(const CheckIo& io, seconds answer);
/// USB ports: each new USB mass-storage device seen within `limit` (ports by their sysfs
/// path, e.g. "1-2"). None: not_checked.
Json usb_check(const CheckIo& io, seconds limit);
/// Detected from sysfs only.
Json webcam_check(const MachineRoot& root);
Json touchpad_check(const MachineRoot& root);
Json wifi_check(const MachineRoot& root);
/// On battery power only: every core busy for `duration`, the charge lost as watts, and how
/// long a full charge lasts at that drain; failed below `min_runtime_min`. On the charger, with
/// no battery, or no drop seen: not_checked.
Json battery_check(const CheckIo& io, seconds duration, double min_runtime_min);

/// The parts `params["parts"]` names (default: all but the battery, which drains it for a
/// minute and is run only when named), in that order, with their time limits
/// from params; {"parts": {name: result}}. invalid_input for an unknown part. `starting` (may
/// be empty) is told each part before it runs: its name, its index and the number of parts
/// (the step reports it as progress, which also keeps the server's stall deadline away).
Result<Json> run_checks(const CheckIo& io, const Json& params,
                        const std::function<void(const std::string&, int, int)>& starting = {});

/// The names of the parts a check step knows.
std::span<const char* const> check_part_names();

/// Why a check could not say yes, by code: a part's result carries the English `reason` from
/// this wording, and `reason_code` and `reason_vars` beside it for a page to word in its own
/// language (ui.check_reason.<code>), as grading's reasons do (revive/grading_reasons.hpp).
std::span<const ReasonWording> check_reason_wordings();

}  // namespace revive::agent::checks
