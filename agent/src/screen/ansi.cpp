#include <fmt/core.h>

#include "revive/agent/screen/display.hpp"

namespace revive::agent::screen {

namespace {
int code(Colour c) { return static_cast<int>(c); }  // the enum is in ANSI order
}  // namespace

std::string to_ansi(const Frame& f) {
  // Cursor off, colours reset, background set, screen cleared (in that background), home.
  std::string out = fmt::format("\x1b[?25l\x1b[0m\x1b[{}m\x1b[2J\x1b[H", 40 + code(f.background));
  for (const auto& s : f.spans) {
    // Bold makes the foreground bright on the Linux console: what "readable" needs.
    out += fmt::format("\x1b[{};{}H\x1b[0;{}{};{}m", s.row + 1, s.col + 1, s.bold ? "1;" : "",
                       30 + code(s.fg), 40 + code(s.bg));
    out += s.text;
  }
  out += fmt::format("\x1b[0m\x1b[{}m", 40 + code(f.background));
  return out;
}

}  // namespace revive::agent::screen
