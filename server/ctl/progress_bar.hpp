#pragma once
// A one-line progress bar on a terminal (stderr); silent when stderr is not a terminal.

#include <chrono>
#include <cstdint>
#include <string>

namespace revive::ctl {

class ProgressBar {
 public:
  /// `label` is printed before the bar ("import", "export"); `enabled` false makes it silent.
  ProgressBar(std::string label, bool enabled);
  ~ProgressBar();

  /// Redraws the bar: percentage, bytes, rate and ETA.
  void update(std::uint64_t done, std::uint64_t total);
  /// Ends the line (keeps the last state visible).
  void finish();

 private:
  std::string label_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
};

/// "1.5 GiB", "812.0 MiB", "4.0 KiB", "17 B".
std::string human_bytes(std::uint64_t bytes);

}  // namespace revive::ctl
