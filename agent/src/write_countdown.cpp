#include "revive/agent/write_countdown.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <thread>

#include "revive/agent/checks/keyboard_layout.hpp"
#include "revive/agent/screen/status_screen.hpp"

namespace revive::agent {

namespace {

using Clock = checks::InputSource::Clock;
using screen::Colour;
using std::chrono::milliseconds;
using std::chrono::seconds;

// The count moves once a second: no wait is longer than that.
constexpr milliseconds kTick{1000};
// Drive lines beyond these are summed up in one line (the screen has 25 rows at least).
constexpr std::size_t kDriveLinesShown = 6;

bool stopping(const CountdownIo& io) { return io.stop != nullptr && io.stop->load(); }

void log(const CountdownIo& io, const std::string& line) {
  if (io.log) io.log(line);
}

std::string what(const WriteNotice& n) {
  return n.deploy ? "a new system is written over" : "erasing";
}

// No keyboard: the wait still happens, in real time, so the screen is seen.
class Waiter {
 public:
  explicit Waiter(checks::InputSource* input) : input_(input) {}
  Clock::time_point now() { return input_ != nullptr ? input_->now() : Clock::now(); }
  /// A key that stops the countdown arrived within `timeout`.
  bool cancel_key(milliseconds timeout) {
    if (input_ == nullptr) {
      std::this_thread::sleep_for(timeout);
      return false;
    }
    const auto key = input_->next_key(timeout);
    return key && key->pressed &&
           (key->code == checks::keys::kN || key->code == checks::keys::kEsc);
  }

 private:
  checks::InputSource* input_;
};

}  // namespace

std::string drive_line(const std::string& name, const std::string& model,
                       std::optional<long long> size_bytes) {
  std::string line = name;
  if (!model.empty()) line += "  " + model;
  if (size_bytes && *size_bytes > 0) {
    const double gib = static_cast<double>(*size_bytes) / (1LL << 30);
    line +=
        gib >= 1 ? fmt::format("  {:.0f} GiB", gib) : fmt::format("  {} MiB", *size_bytes >> 20);
  }
  return line;
}

screen::Frame draw_write_countdown(const WriteNotice& n, const screen::Strings& w, int seconds_left,
                                   int cols, int rows) {
  screen::Frame f;
  f.cols = std::max(cols, 40);
  f.rows = std::max(rows, 20);
  f.background = Colour::blue;
  int row = std::max(1, f.rows / 2 - 8);
  f.centre(row, n.deploy ? w.countdown_deploy : w.countdown_wipe, Colour::yellow, Colour::blue,
           true);
  row += 2;
  std::string where = std::string(w.countdown_workshop) + ": " + n.workshop;
  if (!n.batch.empty()) where += "    " + std::string(w.countdown_batch) + ": " + n.batch;
  f.centre(row, where, Colour::white, Colour::blue);
  row += 2;
  for (std::size_t i = 0; i < n.drives.size() && i < kDriveLinesShown; ++i)
    f.centre(row++, n.drives[i], Colour::white, Colour::blue, true);
  if (n.drives.size() > kDriveLinesShown)
    f.centre(row++, fmt::format("+ {}", n.drives.size() - kDriveLinesShown), Colour::white,
             Colour::blue);
  row += 1;
  f.centre(row, w.countdown_cancel, Colour::yellow, Colour::blue, true);
  f.centre(row + 2, std::to_string(seconds_left) + w.seconds_left, Colour::white, Colour::blue,
           true);
  return f;
}

CountdownEnd count_down_before_writing(const CountdownIo& io, const WriteNotice& n,
                                       seconds length) {
  const screen::Strings& words =
      io.words != nullptr ? *io.words : screen::strings_for(screen::Lang::en);
  std::string drives;
  for (const auto& d : n.drives) drives += (drives.empty() ? "" : "; ") + d;
  log(io,
      fmt::format("countdown: {} {} (workshop {}{}) in {} s; N or Esc on this laptop "
                  "stops it{}",
                  what(n), drives.empty() ? "this laptop's disk" : drives, n.workshop,
                  n.batch.empty() ? "" : ", batch " + n.batch, length.count(),
                  io.input == nullptr ? " (no keyboard found: it cannot be stopped here)" : ""));
  Waiter waiter(io.input);
  const auto end = waiter.now() + length;
  int shown = -1;
  CountdownEnd result = CountdownEnd::elapsed;
  while (true) {
    if (stopping(io)) {
      result = CountdownEnd::stopped;
      break;
    }
    const auto now = waiter.now();
    if (now >= end) break;
    const int left = static_cast<int>(std::chrono::ceil<seconds>(end - now).count());
    if (left != shown) {
      shown = left;
      log(io, fmt::format("countdown: {} s", left));
      if (io.screen != nullptr) {
        const auto sz = io.screen->size();
        io.screen->show_custom(draw_write_countdown(n, words, left, sz.cols, sz.rows));
      }
    }
    // Wake at the next whole second, so the count on screen moves once a second.
    const auto until_next =
        std::chrono::duration_cast<milliseconds>((end - seconds(left - 1)) - now);
    if (waiter.cancel_key(std::clamp(until_next, milliseconds(1), kTick))) {
      result = CountdownEnd::cancelled;
      break;
    }
  }
  if (io.screen != nullptr) io.screen->resume();
  switch (result) {
    case CountdownEnd::elapsed:
      log(io, "countdown over: nobody stopped it, writing");
      break;
    case CountdownEnd::cancelled:
      log(io, "countdown: stopped by a person at the laptop; nothing was written");
      break;
    case CountdownEnd::stopped:
      log(io, "countdown: the agent is stopping; nothing was written");
      break;
  }
  return result;
}

}  // namespace revive::agent
