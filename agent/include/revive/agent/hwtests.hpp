#pragma once
// Hardware tests with time budgets and raw figures: CPU score (fixed deterministic workload,
// single thread and all threads), memory bandwidth and a pattern test over a bounded buffer,
// and a non-destructive sequential read of the disk.

#include <nlohmann/json_fwd.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "revive/error.hpp"

namespace revive::agent {

using Json = nlohmann::json;

/// Millions of rounds of a fixed integer mixing workload per second: single thread, and all
/// `threads` together, `budget` each. The workload is deterministic (its checksum is reported
/// and checked). `single_done` (if set) runs between the two, for the caller's progress.
Json cpu_test(std::chrono::milliseconds budget, unsigned threads,
              const std::function<void()>& single_done = {});

/// Memory: copy bandwidth over two buffers, then walking-ones / address-in-address / inverse
/// patterns over `test_mib` (the caller bounds it by free RAM). {bandwidth_mb_s, tested_mib,
/// errors, first_error_offset}.
Json memory_test(std::size_t test_mib, std::chrono::milliseconds budget);

/// Sequential read of a disk (block device or, in simulation, a file) opened read-only: up to
/// `max_bytes` or `budget`. {read_bytes, mb_s} or an error naming the device.
Result<Json> disk_read_test(const std::filesystem::path& disk, std::uint64_t max_bytes,
                            std::chrono::milliseconds budget);

class Exec;

/// SMART short self-test of /dev/<device> through smartctl: starts it, polls the self-test log
/// until it is no longer in progress or `budget` runs out. {device, result: "passed" | "failed"
/// | "not supported" | "timed out" | "error", detail}. `wait` sleeps between polls (tests pass
/// a no-op).
Json smart_selftest(Exec& exec, const std::string& device, std::chrono::seconds budget,
                    const std::function<void(std::chrono::seconds)>& wait);

}  // namespace revive::agent
