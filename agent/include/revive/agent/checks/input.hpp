#pragma once
// Key presses for the checks a volunteer does by hand, through a seam: evdev on a laptop
// (linux_evdev_input.cpp), scripted events in tests. The input also keeps the time the checks
// measure their limits in, so a test's script decides when each key comes.

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>

#include "revive/error.hpp"

namespace revive::agent::checks {

/// A key went down (pressed) or up; `code` is the Linux input event code (KEY_*), which names
/// the key's position, whatever is printed on it.
struct KeyEvent {
  int code = 0;
  bool pressed = true;
};

class InputSource {
 public:
  using Clock = std::chrono::steady_clock;
  virtual ~InputSource() = default;
  /// The next key event, waiting at most `timeout`; nullopt when none came in time.
  virtual std::optional<KeyEvent> next_key(std::chrono::milliseconds timeout) = 0;
  /// Now, on the clock the timeouts are measured by.
  virtual Clock::time_point now() = 0;
};

/// Every keyboard under `dev_input` (/dev/input/event*: devices that report letter keys), read
/// together. not_found when there is none.
Result<std::unique_ptr<InputSource>> open_evdev_keyboards(
    const std::filesystem::path& dev_input = "/dev/input");

}  // namespace revive::agent::checks
