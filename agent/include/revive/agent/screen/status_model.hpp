#pragma once
// The laptop's status screen as a pure function: what the agent knows -> what to draw. Readable
// from a metre away on any console size (a 80x25 VGA text screen up to a 120x33 framebuffer
// console with a large font): few words, a bar across the screen, the whole background
// coloured at the end (green: done; red: a volunteer is needed).

#include <optional>
#include <string>
#include <vector>

#include "revive/agent/screen/frame.hpp"
#include "revive/agent/screen/strings.hpp"
#include "revive/protocol.hpp"

namespace revive::agent::screen {

enum class Phase {
  starting,            ///< before the server answered
  no_cable,            ///< the server does not answer and no wired interface has a link
  looking_for_server,  ///< the server does not answer (a link is up)
  working,             ///< a step runs
  waiting,             ///< the server waits for an operator
  done,                ///< the workflow is done
  already_done,        ///< the workflow was done before this boot ran any step
  needs_volunteer,     ///< a step failed
};

struct ScreenStatus {
  Phase phase = Phase::starting;
  std::string workshop;  ///< from the enrolment answer (may be empty)
  std::string label;     ///< asset tag or the serial's end (the wall tile's label)
  std::string server;    ///< the URL the agent talks to
  std::optional<protocol::StepKind>
      step;                   ///< running, or the one that failed (none: a refused job)
  std::string stage;          ///< the step's own words for what it does now (English, small)
  double fraction = -1;       ///< 0-1, or negative: no bar
  double rate_bytes_s = 0;    ///< 0: not shown
  double eta_s = -1;          ///< negative: not shown
  std::string grade;          ///< from the test step, for the done screen
  std::string finish_action;  ///< "poweroff" / "reboot" from the finish step
  std::string detail;         ///< a failure's or wait's own message (shown small)
  bool boot_stick = false;    ///< booted from a Revive USB stick: the end asks for it back
  /// No cable: the network cards the kernel sees ("PCI 10ec:8168 no driver"), so a volunteer
  /// can tell the workshop what the live image lacks.
  std::vector<std::string> network_devices;
};

/// The status screen for `status` in `cols` x `rows` cells.
Frame draw_status(const ScreenStatus& status, const Strings& words, int cols, int rows);

/// The working screen's figures: "85 MB/s   3 min left" (empty: none known yet).
std::string rate_and_time_left(const ScreenStatus& status, const Strings& words);
/// "85 MB/s" (decimal units, as disks are sold).
std::string format_rate(double bytes_per_s);
/// "45 s", "12 min", "1 h 05 min".
std::string format_duration(double seconds);

}  // namespace revive::agent::screen
