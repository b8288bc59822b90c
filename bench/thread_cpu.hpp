#pragma once
// The calling thread's CPU time so far, in microseconds: what the bench programs that split a
// server's work (start_cost, http_floor) measure and burn. A system call on this VM (~1 us).

#include <time.h>

namespace revive::bench {

inline double thread_cpu_us() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_nsec) / 1e3;
}

}  // namespace revive::bench
