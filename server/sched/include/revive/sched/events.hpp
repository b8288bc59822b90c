#pragma once
// The scheduler's inputs: what the server learns from agents' reports, and time passing.
// Rates are measured by the agent; "held" comes from its checkpoints (flushed chunk ranges).

#include <optional>
#include <string>
#include <variant>

#include "revive/sched/chunk_ranges.hpp"
#include "revive/sched/config.hpp"

namespace revive::sched {

/// A laptop enters its deploy step (or resumes it after a reboot, with its checkpoint).
struct Joined {
  LaptopId laptop = 0;
  std::string image{};
  ChunkRanges held{};                         ///< from its checkpoint; empty when new
  std::optional<BytesPerSecond> disk_rate{};  ///< raw write rate from its test step
  std::optional<BytesPerSecond> link_rate{};  ///< its NIC's negotiated speed, when known
  bool can_relay = false;                     ///< it reported a reachable relay address
};

/// A progress report.
struct Progressed {
  LaptopId laptop = 0;
  ChunkRanges held{};                            ///< verified (checkpointed) chunks
  std::uint64_t bytes_received = 0;              ///< stored bytes fetched so far
  std::optional<BytesPerSecond> receive_rate{};  ///< stored bytes/s since its last report
  std::optional<BytesPerSecond> disk_rate{};  ///< raw bytes/s its disk sustains (bytes/busy time)
};

enum class SourceFault {
  dead,       ///< refused or timed out
  stalled,    ///< answers but sends nothing for about two chunk-times
  bad_chunk,  ///< served a chunk whose SHA-256 is not the manifest's
};

/// A laptop reports that its source failed. `peer` empty: the server itself.
struct SourceFailed {
  LaptopId laptop = 0;
  std::optional<LaptopId> peer{};
  SourceFault fault = SourceFault::dead;
};

/// The laptop holds every chunk; it may keep serving its children.
struct Finished {
  LaptopId laptop = 0;
  /// How long it goes on relaying at most (its finish step's relay_linger_s); unset: the
  /// config's finished_relay_linger.
  std::optional<Seconds> relay_linger{};
};

/// The deploy failed; the laptop is no longer a source.
struct Failed {
  LaptopId laptop = 0;
};

/// The laptop is gone (powered off, rebooted to its disk, unplugged).
struct Left {
  LaptopId laptop = 0;
};

/// Time passed (the server's deadline tick): stall detection and periodic re-plans.
struct Tick {};

using Event = std::variant<Joined, Progressed, SourceFailed, Finished, Failed, Left, Tick>;

}  // namespace revive::sched
