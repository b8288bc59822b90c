#pragma once
// Where frames are shown: the seam between the pure screen models and the console. The real
// one writes ANSI escapes to a Linux virtual terminal (linux_vt_display.cpp); tests keep the
// frames they are given.

#include <memory>
#include <string>

#include "revive/agent/screen/frame.hpp"
#include "revive/error.hpp"

namespace revive::agent::screen {

struct Size {
  int cols = 80;
  int rows = 25;
};

class Display {
 public:
  virtual ~Display() = default;
  /// The screen's size in cells now (a font change in init changes it).
  virtual Size size() = 0;
  /// Shows a frame. Never blocks and never fails the caller: a frame the console cannot take
  /// now is dropped (the next one replaces it anyway).
  virtual void show(const Frame& frame) = 0;
};

/// The bytes that draw `frame` on a VT100/Linux console: cursor hidden, screen cleared in the
/// background colour, each span placed and coloured.
std::string to_ansi(const Frame& frame);

/// The Linux virtual terminal at `tty` (e.g. /dev/tty1), opened non-blocking. An error when it
/// cannot be opened or is not a terminal (a laptop without a console, a test machine): the
/// agent then runs without a screen.
Result<std::unique_ptr<Display>> open_vt_display(const std::string& tty);

}  // namespace revive::agent::screen
