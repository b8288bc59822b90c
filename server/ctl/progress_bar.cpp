#include "progress_bar.hpp"

#include <unistd.h>

#include <cstdio>

namespace revive::ctl {

std::string human_bytes(std::uint64_t bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 5) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  } else {
    std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[u]);
  }
  return buf;
}

ProgressBar::ProgressBar(std::string label, bool enabled)
    : label_(std::move(label)),
      enabled_(enabled && ::isatty(STDERR_FILENO)),
      start_(std::chrono::steady_clock::now()) {}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::update(std::uint64_t done, std::uint64_t total) {
  if (!enabled_) return;
  constexpr int kWidth = 30;
  const double frac = total ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
  const int fill = static_cast<int>(frac * kWidth);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = secs > 0 ? static_cast<double>(done) / secs : 0;
  std::string bar(static_cast<std::size_t>(fill), '#');
  bar.resize(kWidth, ' ');
  char eta[32] = "";
  if (rate > 0 && done < total) {
    std::snprintf(eta, sizeof eta, " ETA %.0fs", static_cast<double>(total - done) / rate);
  }
  std::fprintf(stderr, "\r%s [%s] %3.0f%% %s/%s %s/s%s\033[K", label_.c_str(), bar.c_str(),
               frac * 100, human_bytes(done).c_str(), human_bytes(total).c_str(),
               human_bytes(static_cast<std::uint64_t>(rate)).c_str(), eta);
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::finish() {
  if (drawn_) {
    std::fputc('\n', stderr);
    drawn_ = false;
  }
}

}  // namespace revive::ctl
