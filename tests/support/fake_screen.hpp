#pragma once
// Fakes for the laptop's screen and keyboard: a Display that keeps every frame, and an
// InputSource that plays a script of key presses (and actions, e.g. plugging in a USB stick)
// on a virtual clock that moves only when the code under test waits.

#include <chrono>
#include <deque>
#include <functional>
#include <optional>
#include <vector>

#include "revive/agent/checks/input.hpp"
#include "revive/agent/screen/display.hpp"

namespace revive::test {

class FakeDisplay : public agent::screen::Display {
 public:
  agent::screen::Size screen_size{80, 25};
  std::vector<agent::screen::Frame> frames;

  agent::screen::Size size() override { return screen_size; }
  void show(const agent::screen::Frame& f) override { frames.push_back(f); }
  const agent::screen::Frame& last() const { return frames.back(); }
};

class ScriptedInput : public agent::checks::InputSource {
 public:
  struct Entry {
    std::chrono::milliseconds at;  ///< since the script started
    int code = 0;                  ///< 0: no key (only the action)
    std::function<void()> action;  ///< run when the entry is reached
  };

  /// Presses (and releases) `code` at `at`.
  void press(std::chrono::milliseconds at, int code) { script.push_back({at, code, nullptr}); }
  /// Runs `action` at `at`.
  void at(std::chrono::milliseconds when, std::function<void()> action) {
    script.push_back({when, 0, std::move(action)});
  }

  std::optional<agent::checks::KeyEvent> next_key(std::chrono::milliseconds timeout) override {
    const auto until = elapsed + timeout;
    while (!script.empty() && script.front().at <= until) {
      Entry e = std::move(script.front());
      script.pop_front();
      elapsed = std::max(elapsed, e.at);
      if (e.action) e.action();
      if (e.code != 0) return agent::checks::KeyEvent{e.code, true};
    }
    elapsed = until;
    return std::nullopt;
  }
  Clock::time_point now() override { return Clock::time_point{} + elapsed; }

  std::deque<Entry> script;  ///< in time order
  std::chrono::milliseconds elapsed{0};
};

}  // namespace revive::test
