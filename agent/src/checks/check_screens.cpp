#include "revive/agent/checks/check_screens.hpp"

#include <algorithm>

#include "revive/agent/checks/keyboard_layout.hpp"

namespace revive::agent::checks {

using screen::Colour;
using screen::Frame;

namespace {
constexpr int kRowQuarters = 60;  // the widest row: fifteen letter keys
constexpr int kLayoutRows = 6;
}  // namespace

Frame draw_keyboard(const std::set<int>& pressed, const std::set<int>& skipped,
                    const screen::Strings& w, int seconds_left, int cols, int rows) {
  Frame f;
  f.cols = std::max(cols, 40);
  f.rows = std::max(rows, 12);
  f.put(0, 1, w.keyboard_title, Colour::yellow, Colour::black, true);
  const std::string left = std::to_string(seconds_left) + w.seconds_left;
  f.put(0, f.cols - 1 - screen::cells(left), left, Colour::white, Colour::black, true);
  // Each key row two cells high on a big screen, one on a small one.
  const int key_h = f.rows >= 2 + kLayoutRows * 2 + 2 ? 2 : 1;
  const int top = std::max(2, (f.rows - kLayoutRows * (key_h + 1)) / 2);
  const double cell_per_q = static_cast<double>(f.cols - 2) / kRowQuarters;
  std::array<int, kLayoutRows> at_q{};
  for (const auto& k : laptop_layout()) {
    const int x = 1 + static_cast<int>(at_q[k.row] * cell_per_q);
    const int width =
        std::max(1, static_cast<int>((at_q[k.row] + k.quarters) * cell_per_q) + 1 - x - 1);
    at_q[k.row] += k.quarters;
    if (skipped.contains(k.code)) continue;
    const bool on = pressed.contains(k.code);
    const Colour bg = on ? Colour::green : Colour::blue;
    const Colour fg = on ? Colour::black : Colour::white;
    const int y = top + k.row * (key_h + 1);
    for (int r = 0; r < key_h; ++r) f.put(y + r, x, std::string(width, ' '), fg, bg);
    const std::string label = screen::first_cells(k.label, width);
    f.put(y + key_h / 2, x + (width - screen::cells(label)) / 2, label, fg, bg, true);
  }
  f.put(f.rows - 1, 1, w.keyboard_hint, Colour::white, Colour::black);
  return f;
}

Frame draw_colour(Colour colour, const screen::Strings& w, int cols, int rows) {
  Frame f;
  f.cols = std::max(cols, 40);
  f.rows = std::max(rows, 12);
  f.background = colour;
  // The hint in the last row's corner, in the colour's own shade: dead pixels stay visible.
  const Colour fg = colour == Colour::black ? Colour::white : Colour::black;
  f.put(f.rows - 1, 0, w.screen_hint, fg, colour);
  return f;
}

Frame draw_question(const std::string& title, const std::string& question,
                    const std::string& answers, const screen::Strings& w, int seconds_left,
                    int cols, int rows) {
  Frame f;
  f.cols = std::max(cols, 40);
  f.rows = std::max(rows, 12);
  f.background = Colour::blue;
  const int mid = f.rows / 2;
  f.centre(mid - 3, title, Colour::yellow, Colour::blue, true);
  f.centre(mid - 1, question, Colour::white, Colour::blue, true);
  f.centre(mid + 1, answers, Colour::white, Colour::blue, true);
  f.centre(mid + 3, std::to_string(seconds_left) + w.seconds_left, Colour::white, Colour::blue);
  return f;
}

}  // namespace revive::agent::checks
