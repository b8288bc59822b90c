#include "revive/agent/screen/status_model.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

namespace revive::agent::screen {

namespace {

// Console fonts (VGA's code page 437, Terminus Lat15) lack a few characters the server's
// texts use: the wall's label starts with an ellipsis.
std::string console_safe(std::string text) {
  for (std::size_t at; (at = text.find("\u2026")) != std::string::npos;) text.replace(at, 3, "...");
  return text;
}

// The header (workshop left, label right) and the footer (the server), on every screen.
void frame_lines(Frame& f, const ScreenStatus& s, const Strings& w, Colour fg, Colour bg) {
  const std::string label = s.label.empty() ? std::string() : "[ " + console_safe(s.label) + " ]";
  f.put(0, 1, s.workshop.empty() ? std::string("Revive") : console_safe(s.workshop), fg, bg, true);
  if (!label.empty()) f.put(0, std::max(0, f.cols - 1 - cells(label)), label, fg, bg, true);
  if (!s.server.empty()) f.put(f.rows - 1, 1, std::string(w.server) + " " + s.server, fg, bg, true);
}

// Long text over as many rows as it needs (at most `max_rows`), broken at spaces.
int wrap(Frame& f, int row, std::string_view text, int max_rows, Colour fg, Colour bg,
         bool bold = false) {
  const int width = std::max(10, f.cols - 4);
  int used = 0;
  while (!text.empty() && used < max_rows) {
    std::string_view line = text;
    if (cells(text) > width) {
      const std::string head = first_cells(text, width);
      const auto space = head.rfind(' ');
      line = text.substr(0, space == std::string::npos || space == 0 ? head.size() : space);
    }
    f.centre(row + used, line, fg, bg, bold);
    text.remove_prefix(line.size());
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    ++used;
  }
  return used;
}

void draw_working(Frame& f, const ScreenStatus& s, const Strings& w) {
  const Colour fg = Colour::white, bg = Colour::black;
  frame_lines(f, s, w, fg, bg);
  const int mid = f.rows / 2;
  const std::string title = s.phase == Phase::waiting ? w.waiting
                            : s.step                  ? step_title(w, *s.step)
                                                      : w.starting;
  f.centre(std::max(2, mid - 4), title, Colour::yellow, bg, true);
  if (!s.stage.empty()) f.centre(std::max(3, mid - 3), s.stage, fg, bg);
  if (s.phase == Phase::waiting && !s.detail.empty()) wrap(f, mid - 1, s.detail, 3, fg, bg);
  if (s.fraction >= 0) {
    // Tall on a big screen, one row on a small one; with the percentage beside it.
    const int height = f.rows >= 20 ? 3 : 1;
    const int width = std::max(10, f.cols - 12);
    f.bar(mid - 1, 2, width, height, s.fraction, Colour::green, Colour::blue);
    const int pct = static_cast<int>(std::floor(std::clamp(s.fraction, 0.0, 1.0) * 100));
    f.put(mid - 1 + height / 2, 4 + width, fmt::format("{:>3}%", pct), fg, bg, true);
  }
  if (const std::string figures = rate_and_time_left(s, w); !figures.empty())
    f.centre(mid + 3, figures, fg, bg, true);
}

// Below the cable hint, down to the footer: the cards found, or that there is none.
void draw_network_devices(Frame& f, const ScreenStatus& s, const Strings& w, int row, Colour fg,
                          Colour bg) {
  const int last = f.rows - 3;  // a blank row above the footer
  if (s.network_devices.empty()) {
    wrap(f, row, w.no_network_device, std::max(0, last - row + 1), fg, bg);
    return;
  }
  row += wrap(f, row, w.network_devices, 2, fg, bg);
  for (std::size_t i = 0; i < s.network_devices.size() && row <= last; ++i, ++row) {
    const bool more = row == last && i + 1 < s.network_devices.size();
    f.centre(row, more ? "..." : s.network_devices[i], fg, bg);
  }
}

// Text on the coloured screens is bright white (bold): the Linux console's "yellow" background
// is brown and bold black is dark grey, both hard to read from across a table.
void draw_trouble(Frame& f, const ScreenStatus& s, const Strings& w) {
  const Colour fg = Colour::white, bg = Colour::yellow;
  f.background = bg;
  frame_lines(f, s, w, fg, bg);
  const bool cable = s.phase == Phase::no_cable;
  const int mid = f.rows / 2;
  f.centre(mid - 2, cable ? w.no_cable : w.looking_for_server, fg, bg, true);
  const int used = wrap(f, mid, cable ? w.no_cable_hint : w.server_hint, 3, fg, bg, true);
  if (cable) draw_network_devices(f, s, w, mid + used + 1, fg, bg);
}

void draw_done(Frame& f, const ScreenStatus& s, const Strings& w) {
  const Colour fg = Colour::white, bg = Colour::green;
  f.background = bg;
  frame_lines(f, s, w, fg, bg);
  const int mid = f.rows / 2;
  f.centre(mid - 3, w.done, fg, bg, true);
  if (s.phase == Phase::already_done) {
    f.centre(mid - 1, w.already_done, fg, bg, true);
  } else if (!s.grade.empty()) {
    f.centre(mid - 1, std::string(w.grade) + " " + s.grade, fg, bg, true);
  }
  const char* next = s.finish_action == "reboot"     ? w.next_reboot
                     : s.finish_action == "poweroff" ? w.next_poweroff
                                                     : w.next_unknown;
  int row = mid + 1;
  // The stick left in would boot the laptop into Revive again, not into its new system.
  if (s.boot_stick) {
    f.centre(row, w.stick_out, fg, bg, true);
    row += 2;
  }
  wrap(f, row, next, 2, fg, bg, true);
}

void draw_failed(Frame& f, const ScreenStatus& s, const Strings& w) {
  const Colour fg = Colour::white, bg = Colour::red;
  f.background = bg;
  frame_lines(f, s, w, fg, bg);
  const int top = std::max(2, f.rows / 2 - 5);
  f.centre(top, w.needs_volunteer, fg, bg, true);
  // No step: the job itself was refused (the only failure outside a step).
  const char* plain = s.step ? step_failure(w, *s.step) : w.failed_job;
  int row = top + 2;
  row += wrap(f, row, plain, 2, fg, bg, true) + 1;
  row += wrap(f, row, w.volunteer_step, 3, fg, bg, true) + 1;
  if (!s.detail.empty())
    wrap(f, row, std::string(w.detail) + ": " + s.detail, std::max(1, f.rows - 2 - row), fg, bg);
}

}  // namespace

std::string rate_and_time_left(const ScreenStatus& s, const Strings& w) {
  std::string figures;
  if (s.rate_bytes_s > 0) figures = format_rate(s.rate_bytes_s);
  if (s.eta_s >= 0) {
    if (!figures.empty()) figures += "   ";
    figures += format_duration(s.eta_s) + " " + w.left;
  }
  return figures;
}

std::string format_rate(double b) {
  if (b >= 1e9) return fmt::format("{:.1f} GB/s", b / 1e9);
  if (b >= 1e6) return fmt::format("{:.0f} MB/s", b / 1e6);
  return fmt::format("{:.0f} kB/s", b / 1e3);
}

std::string format_duration(double seconds) {
  const auto s = static_cast<long long>(std::ceil(std::max(0.0, seconds)));
  if (s < 60) return fmt::format("{} s", s);
  const long long minutes = (s + 59) / 60;
  if (minutes < 60) return fmt::format("{} min", minutes);
  return fmt::format("{} h {:02} min", minutes / 60, minutes % 60);
}

Frame draw_status(const ScreenStatus& s, const Strings& w, int cols, int rows) {
  Frame f;
  // Anything smaller is not a console; draw as if it were 40x12 (cut at the edges).
  f.cols = std::max(cols, 40);
  f.rows = std::max(rows, 12);
  switch (s.phase) {
    case Phase::starting:
    case Phase::working:
    case Phase::waiting:
      draw_working(f, s, w);
      break;
    case Phase::no_cable:
    case Phase::looking_for_server:
      draw_trouble(f, s, w);
      break;
    case Phase::done:
    case Phase::already_done:
      draw_done(f, s, w);
      break;
    case Phase::needs_volunteer:
      draw_failed(f, s, w);
      break;
  }
  return f;
}

}  // namespace revive::agent::screen
