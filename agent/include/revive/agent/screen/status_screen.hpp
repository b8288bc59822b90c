#pragma once
// The laptop's own screen as the runner drives it: it keeps what the agent knows
// (ScreenStatus), derives the rate and time left from successive progress reports, tells a
// missing cable from a missing server, and redraws through a Display. Thread-safe: deploy
// reports progress from its own thread, the HTTP client reports an unreachable server from
// whichever call found it.

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "revive/agent/screen/display.hpp"
#include "revive/agent/screen/status_model.hpp"
#include "revive/agent/system.hpp"

namespace revive::agent::screen {

/// Whether some wired network interface (not lo, Wi-Fi or WWAN) reports a link
/// (sys/class/net/IF/carrier is 1).
bool wired_link_up(const MachineRoot& root);

/// A laptop that booted a Revive USB stick again after its workflow was done (the server's
/// boot script says so; provisioning/live/stick-boot.sh): the full-screen "take the USB stick
/// out" in `lang` ("nl", "fr", else English), naming `workshop`. Returns the screen's rows
/// that hold text, for the plain log ("screen: ...").
std::vector<std::string> show_already_done(Display& display, const std::string& lang,
                                           const std::string& workshop);

class StatusScreen {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  using Log = std::function<void(const std::string&)>;

  StatusScreen(Display& display, const MachineRoot& root, std::string server,
               Clock now = std::chrono::steady_clock::now);

  /// The plain log (the serial console) gets the screen's top row, as drawn, once enrolment
  /// named the workshop and the laptop ("screen: Repair Café Gent | [ ...4D7X ]"), and a
  /// step's first rate and time left ("screen: 85 MB/s   3 min left").
  void log_to(Log log);
  void enrolled(const std::string& workshop, const std::string& label, const std::string& lang);
  void step_started(protocol::StepKind kind);
  /// A step's progress: `stage` in its own words, done/total (bytes for wipe and deploy).
  void progress(const std::string& stage, double done, double total);
  void step_failed(protocol::StepKind kind, const std::string& detail);
  /// The server's job could not be trusted (signed by another key): red, a volunteer's job.
  void job_refused(const std::string& detail);
  void waiting(const std::string& reason);
  void server_unreachable();
  void server_reachable();
  void graded(const std::string& grade);
  void finishing(const std::string& action);
  /// The workflow is done (already, when no step ran in this boot).
  void done();

  /// For a step that draws its own screens (the checks): the size, and a frame shown until
  /// resume() (status changes meanwhile are kept, not drawn).
  Size size();
  void show_custom(const Frame& frame);
  void resume();

  const Strings& words() const { return *words_; }
  ScreenStatus status() const;

 private:
  void redraw_locked(bool force);

  Display& display_;
  const MachineRoot& root_;
  Clock now_;
  Log log_;
  mutable std::mutex mu_;
  ScreenStatus status_;
  Phase before_trouble_ = Phase::starting;
  const Strings* words_;
  bool custom_ = false;
  std::chrono::steady_clock::time_point last_draw_{};
  // Rate from successive reports over the same bytes (one total, `done` not going back): an
  // exponentially weighted average. rate_total_ 0: no byte count to follow.
  double rate_total_ = 0;
  bool rate_logged_ = false;  ///< this step's first figures went to the log
  double rate_done_ = 0;
  std::chrono::steady_clock::time_point rate_at_{};
};

}  // namespace revive::agent::screen
