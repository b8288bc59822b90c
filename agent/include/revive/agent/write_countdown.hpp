#pragma once
// The last word of a person at the laptop before its disks are written over for the first time
// (issue 15, finding 2): what is about to happen (workshop, batch, drives by model and size)
// on the laptop's own screen, counting down, with a key that stops it. A machine that
// network-booted by mistake is then saved by whoever sits in front of it.

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "revive/agent/checks/input.hpp"
#include "revive/agent/screen/frame.hpp"
#include "revive/agent/screen/strings.hpp"

namespace revive::agent {

namespace screen {
class StatusScreen;
}

/// What the countdown announces.
struct WriteNotice {
  bool deploy = false;  ///< false: an erasure; true: a new system written over the disk
  std::string workshop;
  std::string batch;                ///< "" when the laptop is in none
  std::vector<std::string> drives;  ///< one line per drive: "nvme0n1  Model  512 GiB"
};

/// Where the countdown is shown and answered. `input` null: no keyboard was found, nobody can
/// stop it at the laptop (the wait is real time); `screen` null: only the log shows it.
struct CountdownIo {
  checks::InputSource* input = nullptr;
  screen::StatusScreen* screen = nullptr;
  const screen::Strings* words = nullptr;  ///< null: English
  const std::atomic<bool>* stop = nullptr;
  std::function<void(const std::string&)> log;  ///< the plain log (serial console)
};

enum class CountdownEnd {
  elapsed,    ///< nobody stopped it: go ahead
  cancelled,  ///< a person pressed N or Esc
  stopped,    ///< the agent is stopping
};

/// Shows `notice` for `length`, the seconds left drawn and logged once a second; how it ended.
CountdownEnd count_down_before_writing(const CountdownIo& io, const WriteNotice& notice,
                                       std::chrono::seconds length);

/// The countdown's screen (pure).
screen::Frame draw_write_countdown(const WriteNotice& notice, const screen::Strings& words,
                                   int seconds_left, int cols, int rows);

/// "nvme0n1  QEMU NVMe Ctrl  512 MiB" (model and size left out when unknown).
std::string drive_line(const std::string& name, const std::string& model,
                       std::optional<long long> size_bytes);

}  // namespace revive::agent
