#include "revive/agent/screen/status_screen.hpp"

#include <algorithm>

#include "revive/agent/boot_stick.hpp"
#include "revive/agent/network_devices.hpp"

namespace revive::agent::screen {

namespace {
// Progress arrives up to ten times a second; a full redraw twice a second is enough to read
// and does not flicker.
constexpr auto kRedrawEvery = std::chrono::milliseconds(500);
// Below this a step's "total" counts stages, not bytes: no rate is shown.
constexpr double kBytesTotal = 1 << 20;
constexpr double kRateWeight = 0.3;  // weight of the newest sample

// A frame's row as one log line: the gaps between its parts (workshop left, label right)
// become " | ".
std::string row_for_log(const Frame& f, int row) {
  const auto rows = f.text();
  if (row >= static_cast<int>(rows.size())) return {};
  std::string out;
  std::size_t blanks = 0;
  for (const char c : rows[static_cast<std::size_t>(row)]) {
    if (c == ' ') {
      ++blanks;
      continue;
    }
    if (!out.empty() && blanks > 0) out += blanks > 1 ? " | " : " ";
    blanks = 0;
    out += c;
  }
  return out;
}
}  // namespace

bool wired_link_up(const MachineRoot& root) {
  for (const auto& ifc : root.list("sys/class/net")) {
    if (ifc == "lo" || ifc.starts_with("wl") || ifc.starts_with("ww")) continue;
    if (root.exists("sys/class/net/" + ifc + "/wireless")) continue;
    if (root.line("sys/class/net/" + ifc + "/carrier") == "1") return true;
  }
  return false;
}

StatusScreen::StatusScreen(Display& display, const MachineRoot& root, std::string server, Clock now)
    : display_(display), root_(root), now_(std::move(now)), words_(&strings_for(Lang::en)) {
  status_.server = std::move(server);
  status_.boot_stick = booted_from_stick(root);
  std::lock_guard lock(mu_);
  redraw_locked(true);
}

void StatusScreen::log_to(Log log) {
  std::lock_guard lock(mu_);
  log_ = std::move(log);
}

void StatusScreen::enrolled(const std::string& workshop, const std::string& label,
                            const std::string& lang) {
  std::lock_guard lock(mu_);
  status_.workshop = workshop;
  status_.label = label;
  if (!lang.empty()) words_ = &strings_for(lang_from(lang));
  if (status_.phase == Phase::starting) status_.phase = Phase::working;
  redraw_locked(true);
  if (log_) {
    const Size sz = display_.size();
    log_("screen: " + row_for_log(draw_status(status_, *words_, sz.cols, sz.rows), 0));
  }
}

void StatusScreen::step_started(protocol::StepKind kind) {
  std::lock_guard lock(mu_);
  status_.phase = Phase::working;
  status_.step = kind;
  status_.stage.clear();
  status_.detail.clear();
  status_.fraction = -1;
  status_.rate_bytes_s = 0;
  status_.eta_s = -1;
  rate_total_ = 0;
  rate_logged_ = false;
  redraw_locked(true);
}

void StatusScreen::progress(const std::string& stage, double done, double total) {
  std::lock_guard lock(mu_);
  const auto now = now_();
  status_.stage = stage;
  status_.fraction = total > 0 ? std::clamp(done / total, 0.0, 1.0) : -1;
  // The rate follows the bytes, not the words: a deploy's stage names its source, which the
  // server assigns after the first report, and a new name must not throw the figure away.
  if (total >= kBytesTotal && total == rate_total_ && done >= rate_done_) {
    const double dt = std::chrono::duration<double>(now - rate_at_).count();
    if (dt > 0.2) {
      const double sample = (done - rate_done_) / dt;
      status_.rate_bytes_s = status_.rate_bytes_s > 0
                                 ? kRateWeight * sample + (1 - kRateWeight) * status_.rate_bytes_s
                                 : sample;
      rate_done_ = done;
      rate_at_ = now;
    }
  } else {
    // Other bytes (another drive, a verify pass that starts again at 0): the rate starts again.
    status_.rate_bytes_s = 0;
    rate_total_ = total >= kBytesTotal ? total : 0;
    rate_done_ = done;
    rate_at_ = now;
  }
  status_.eta_s = status_.rate_bytes_s > 0 ? (total - done) / status_.rate_bytes_s : -1;
  redraw_locked(false);
  if (log_ && !rate_logged_ && status_.rate_bytes_s > 0) {
    rate_logged_ = true;
    log_("screen: " + rate_and_time_left(status_, *words_));
  }
}

void StatusScreen::step_failed(protocol::StepKind kind, const std::string& detail) {
  std::lock_guard lock(mu_);
  status_.phase = Phase::needs_volunteer;
  status_.step = kind;
  status_.detail = detail;
  redraw_locked(true);
}

void StatusScreen::job_refused(const std::string& detail) {
  std::lock_guard lock(mu_);
  status_.phase = Phase::needs_volunteer;
  status_.step.reset();
  status_.detail = detail;
  redraw_locked(true);
}

void StatusScreen::waiting(const std::string& reason) {
  std::lock_guard lock(mu_);
  // A failed step stays red while the server waits for an operator about it.
  if (status_.phase == Phase::needs_volunteer) return;
  status_.phase = Phase::waiting;
  status_.detail = reason;
  status_.fraction = -1;
  status_.stage.clear();
  redraw_locked(true);
}

void StatusScreen::server_unreachable() {
  std::lock_guard lock(mu_);
  const Phase trouble = wired_link_up(root_) ? Phase::looking_for_server : Phase::no_cable;
  if (status_.phase != Phase::no_cable && status_.phase != Phase::looking_for_server)
    before_trouble_ = status_.phase;
  std::vector<std::string> cards;
  if (trouble == Phase::no_cable) {
    for (const NetworkDevice& d : network_devices(root_)) cards.push_back(d.line());
  }
  if (status_.phase == trouble && status_.network_devices == cards) return;
  status_.phase = trouble;
  status_.network_devices = std::move(cards);
  redraw_locked(true);
}

void StatusScreen::server_reachable() {
  std::lock_guard lock(mu_);
  if (status_.phase != Phase::no_cable && status_.phase != Phase::looking_for_server) return;
  status_.phase = before_trouble_;
  redraw_locked(true);
}

void StatusScreen::graded(const std::string& grade) {
  std::lock_guard lock(mu_);
  status_.grade = grade;
}

void StatusScreen::finishing(const std::string& action) {
  std::lock_guard lock(mu_);
  status_.finish_action = action;
}

void StatusScreen::done() {
  std::lock_guard lock(mu_);
  // Done before any step of this boot: a laptop booted again after its workflow (from a stick
  // through a USB network adapter, whose MAC the server does not take for the laptop's own).
  status_.phase = status_.step ? Phase::done : Phase::already_done;
  redraw_locked(true);
}

Size StatusScreen::size() {
  std::lock_guard lock(mu_);
  return display_.size();
}

void StatusScreen::show_custom(const Frame& frame) {
  std::lock_guard lock(mu_);
  custom_ = true;
  display_.show(frame);
}

void StatusScreen::resume() {
  std::lock_guard lock(mu_);
  custom_ = false;
  redraw_locked(true);
}

std::vector<std::string> show_already_done(Display& display, const std::string& lang,
                                           const std::string& workshop) {
  ScreenStatus s;
  s.phase = Phase::already_done;
  s.boot_stick = true;
  s.workshop = workshop;
  s.finish_action = "poweroff";
  const Size sz = display.size();
  const Frame f = draw_status(s, strings_for(lang_from(lang)), sz.cols, sz.rows);
  display.show(f);
  std::vector<std::string> lines{"screen: " + row_for_log(f, 0)};
  for (int row = 1; row < f.rows; ++row) {
    if (auto text = row_for_log(f, row); !text.empty()) lines.push_back("screen: " + text);
  }
  return lines;
}

ScreenStatus StatusScreen::status() const {
  std::lock_guard lock(mu_);
  return status_;
}

void StatusScreen::redraw_locked(bool force) {
  if (custom_) return;
  const auto now = now_();
  if (!force && now - last_draw_ < kRedrawEvery) return;
  last_draw_ = now;
  const Size sz = display_.size();
  display_.show(draw_status(status_, *words_, sz.cols, sz.rows));
}

}  // namespace revive::agent::screen
