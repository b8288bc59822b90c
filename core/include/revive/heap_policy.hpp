#pragma once
// How the two daemons (revive-agent, revive-server) use glibc's heap.

#include <malloc.h>

#include <cstdlib>
#include <cstring>

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

/// Grows the calling thread's heap by `bytes` at once, to be kept (after keep_freed_heap()).
/// glibc gives a new thread an arena of its own, which grows a page at a time, each page an
/// mprotect(2) that takes the process's memory-map lock (the first thread's heap grows with a
/// 128 KiB pad instead): revive-server's network thread made ~2,500 of them in a 1,000-laptop
/// start, 8.6% of its CPU (perf). Call first thing in such a thread.
inline void grow_thread_heap(std::size_t bytes) {
  void* p = std::malloc(bytes);
  if (p == nullptr) return;
  std::memset(p, 0, bytes);  // its pages faulted in now, not under the first requests
  // The pointer made to look used, so that the compiler cannot drop the pair as dead.
  asm volatile("" : : "r"(p) : "memory");
  std::free(p);
}

}  // namespace revive
