#pragma once
// A fluid model of a workshop network, driving the real scheduler: each port has an up and a
// down rate (full duplex), each disk a write rate (with an optional fast cache), each laptop a
// decompression rate. A chunk moves parent -> child at min(the child's share of the parent's
// uplink, the child's downlink, what its bounded pipeline can absorb), and a child can fetch
// chunk k only once its parent has verified chunk k. Agents report progress periodically
// (with noisy measured rates) and learn their source from the answers, as real agents do.
//
// A planning tool, not a test: it predicts makespans for workshops bigger than any machine
// here can host, and the namespace benchmark (bench/workshop.sh) checks it at small scale.

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "revive/sched/config.hpp"

namespace revive::bench {

using sched::LaptopId;

struct DiskModel {
  double fast = 500e6;     ///< raw bytes/s for the first `cache_bytes`
  double cache_bytes = 0;  ///< bytes written at `fast` before it drops to `slow`
  double slow = 500e6;     ///< raw bytes/s once the cache is full

  /// Raw bytes/s it writes once `written` bytes are on it.
  double rate_at(double written) const { return written < cache_bytes ? fast : slow; }
  /// Seconds to write `bytes` from empty.
  double time_for(double bytes) const;
};

struct LaptopSpec {
  LaptopId id = 0;
  std::string label{};  ///< "nvme", "sata", "qlc", "slow link"... for the printout
  double link = 125e6;  ///< bytes/s each way (a full-duplex switch port)
  DiskModel disk{};
  double decompress = 1e9;          ///< raw bytes/s of zstd output
  double join_at = 0;               ///< when it enters the deploy step
  std::optional<double> dies_at{};  ///< SIGKILL / power cut: stops everything
  bool can_relay = true;
  bool link_known = false;  ///< reports its NIC speed at join
};

struct ImageSpec {
  std::uint64_t chunks = 0;  ///< data chunks (4 MiB raw each)
  double stored_bytes = 0;
  double raw_bytes = 0;

  double stored_chunk() const { return stored_bytes / static_cast<double>(chunks); }
  double raw_chunk() const { return raw_bytes / static_cast<double>(chunks); }
  /// The scheduler's view of this image.
  sched::ImageShape shape() const;
};

struct Scenario {
  std::string name{};
  double server_port = 125e6;  ///< bytes/s the scheduler is told the server's port sends
  double server_sends = 0;     ///< bytes/s it really sends (0: server_port)
  double laptop_port = 125e6;  ///< what the scheduler assumes of a laptop's port until measured
  ImageSpec image{};
  std::vector<LaptopSpec> laptops{};
};

struct ModelOptions {
  double report_interval = 1.0;     ///< agents report progress this often
  double tick_interval = 0.5;       ///< the server's deadline tick
  double detect_chunk_times = 2.0;  ///< a child notices a dead parent after this many chunk-times
  double detect_floor = 0.1;        ///< ...and never sooner than this
  double buffer_chunks = 4.0;       ///< verified chunks an agent holds before its disk takes them
  double noise = 0.05;              ///< relative noise on reported rates
  bool leave_when_released = true;  ///< finished laptops power off once the plan lets them
  bool relay_allowed = true;
  std::uint64_t seed = 1;
  double time_limit = 100000;
  bool trace = false;  ///< print every change of plan to stderr
};

enum class Mode {
  scheduled,  ///< the real scheduler assigns sources (relay when allowed)
  unicast,    ///< every laptop fetches from the server, its port shared fairly
};

struct LaptopOutcome {
  LaptopId id = 0;
  std::string label{};
  double start = 0;
  double finish = -1;  ///< -1: never finished (died)
  double bound = 0;    ///< its own physical bound (seconds from its start)
  bool died = false;
  double duration() const { return finish - start; }
};

struct Outcome {
  std::vector<LaptopOutcome> laptops;
  double makespan = 0;        ///< last finish of a laptop that did not die
  double bound_makespan = 0;  ///< max over those laptops of start + own bound
  double server_bytes = 0;    ///< sent by the server's port
  std::uint64_t replans = 0;
  std::uint64_t changes = 0;
  std::uint64_t moves = 0;
  bool completed = false;  ///< every surviving laptop finished within the time limit
};

/// A laptop's physical bound: max(stored / link, raw / disk, raw / decompression).
double physical_bound(const LaptopSpec& laptop, const ImageSpec& image);

/// Runs one scenario to the end (or the time limit). Aborts on a scheduler error: the model
/// only sends events the scheduler must accept.
Outcome run_model(const Scenario& scenario, Mode mode, const ModelOptions& options = {});

/// Splits `capacity` max-min fairly among demands `caps`; returns each one's rate.
std::vector<double> water_fill(double capacity, const std::vector<double>& caps);

}  // namespace revive::bench
