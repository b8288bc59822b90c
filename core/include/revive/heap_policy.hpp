#pragma once
// How the two daemons (revive-agent, revive-server) use glibc's heap.

#include <malloc.h>

namespace revive {

/// Keeps freed heap memory for reuse instead of giving it back to the kernel at once. Call it
/// first thing in main.
///
/// By default glibc trims the heap's top back to the kernel once 128 KiB of it is free, and
/// serves blocks over its (moving) mmap threshold with an mmap each, unmapped on free. Both
/// daemons allocate and free such amounts all day: the agent a frame per chunk for its relay
/// cache, the server the buffers of every request. Each trim or unmap is a TLB shootdown
/// across the process's threads, and each reuse faults the pages in again. In the VM the
/// benchmarks ran in, where a page fault is dear, that was 13% of the agent's CPU in a deploy
/// (perf) and 13% of the server's while a thousand laptops enrolled. Kept, the agent deploys
/// with 6-11% less CPU (deploy_bench) for ~10 MiB more peak RSS, and the server answers with
/// ~30% less CPU per request (agent_swarm), its peak RSS unchanged.
inline void keep_freed_heap() {
  mallopt(M_TRIM_THRESHOLD, 64 << 20);  // up to 64 MiB free at the heap's top stays
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // blocks under 32 MiB (4 MiB frames) from the heap
}

}  // namespace revive
