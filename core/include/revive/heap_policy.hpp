#pragma once
// How revive-agent uses glibc's heap (revive-server allocates through mimalloc instead:
// server/CMakeLists.txt).

#include <malloc.h>

namespace revive {

/// Keeps freed heap memory for reuse instead of giving it back to the kernel at once. Call it
/// first thing in main.
///
/// By default glibc trims the heap's top back to the kernel once 128 KiB of it is free, and
/// serves blocks over its (moving) mmap threshold with an mmap each, unmapped on free. The agent
/// allocates and frees such amounts all day, a frame per chunk for its relay cache. Each trim or
/// unmap is a TLB shootdown across the process's threads, and each reuse faults the pages in
/// again. In the VM the benchmarks ran in, where a page fault is dear, that was 13% of the
/// agent's CPU in a deploy (perf). Kept, the agent deploys with 6-11% less CPU (deploy_bench)
/// for ~10 MiB more peak RSS.
inline void keep_freed_heap() {
  mallopt(M_TRIM_THRESHOLD, 64 << 20);  // up to 64 MiB free at the heap's top stays
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // blocks under 32 MiB (4 MiB frames) from the heap
}

}  // namespace revive
