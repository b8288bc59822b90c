#pragma once
// What the scheduler is told once: the server's port, what a laptop's port is assumed to be
// until measured, the images being deployed, whether laptops may relay, and its tuning.

#include <cstdint>
#include <map>
#include <string>

#include "revive/error.hpp"

namespace revive::sched {

/// Seconds on the caller's monotonic clock (any epoch). The scheduler never reads a clock.
using Seconds = double;
/// Bytes per second. Network rates count stored (compressed) bytes, disk rates raw bytes.
using BytesPerSecond = double;
/// The server's device id of a laptop.
using LaptopId = std::int64_t;

/// The part of a manifest the scheduler needs: agents fetch data chunks in manifest order.
struct ImageShape {
  std::uint64_t data_chunks = 0;   ///< chunks that carry data (holes are never fetched)
  std::uint64_t stored_bytes = 0;  ///< their zstd frames: what crosses the network
  std::uint64_t raw_bytes = 0;     ///< their raw lengths: what the disk writes

  /// Stored bytes of an average chunk: one "chunk" of network transfer.
  double stored_chunk() const { return static_cast<double>(stored_bytes) / data_chunks; }
  /// Stored bytes per raw byte (< 1): converts a disk's raw write rate to a network rate.
  double stored_per_raw() const {
    return static_cast<double>(stored_bytes) / static_cast<double>(raw_bytes);
  }
  bool operator==(const ImageShape&) const = default;
};

struct Config {
  BytesPerSecond server_port_rate = 125e6;   ///< what the server's port can send
  BytesPerSecond default_port_rate = 125e6;  ///< a laptop's port until it says or we measure
  bool relay_allowed = true;                 ///< false: every laptop fetches from the server
  std::map<std::string, ImageShape> images;  ///< more can be added with Scheduler::add_image

  /// Agents report progress this often; a stall needs at least `stall_reports` of silence.
  Seconds report_interval = 1.0;
  double stall_reports = 2.5;
  /// No progress for this many chunk-times (at the planned rate) means stalled.
  double stall_chunk_times = 2.0;
  /// A laptop offered less than this fraction of what it can take in queues instead.
  double useful_share = 0.25;
  /// A rate estimate that moves this much (relative) re-places the laptop ("turned out slow").
  double rate_change = 0.15;
  /// Laptops whose intakes are within this factor of each other sort as equals (by chunks
  /// held) in a chain: TCP's goodput through equal ports varies by about this much (at
  /// 50 Mbit/s, 4.6 to 5.6 MB/s), and a laptop sent to the tail for it waits there behind
  /// laptops holding less. Slow laptops worth moving are slower by far more (a 30% port, a QLC
  /// disk past its cache).
  double speed_step = 0.3;
  /// A re-plan from scratch replaces the kept plan only when no laptop finishes more than
  /// `move_harm` later (relative to its remaining time) and some laptop finishes `move_gain`
  /// sooner, or all together do: sources flapping costs reconnects.
  double move_gain = 0.10;
  double move_harm = 0.05;
  /// Chunk counts closer than this are report noise: a parent this far ahead of its child
  /// had chunks to give (its receive rate is its own); laptops closer than this sort alike.
  double lag_chunks = 4.0;
  /// A laptop is never made the parent of one holding more chunks (beyond `lag_chunks`): the
  /// child idles until its parent has caught up, then goes at the parent's pace. The one
  /// exception by choice: a parent that makes up the difference within this share of the
  /// child's remaining time (a slow disk moved to the tail of a chain a few chunks behind it).
  /// Late joiners, restarted laptops and orphans with nowhere else to go wait at the tail.
  double catch_up_share = 0.05;
  /// A peer reported dead or stalled is not a parent for this long; after `relay_strikes`
  /// such reports never again in this deploy. A bad chunk bans it at once.
  Seconds relay_cooldown = 30.0;
  int relay_strikes = 2;
  /// Progress drifts the estimates: re-plan at least this often while laptops deploy.
  Seconds replan_interval = 5.0;
  /// Finished laptops kept as idle relays per image while others still deploy it (late
  /// joiners and re-parented children get a source that holds everything).
  int spare_finished_relays = 4;
  /// A finished laptop stops relaying this long after it finished at the latest (the finish
  /// step's `relay_linger_s`: the laptop then powers off), unless its Finished event says how
  /// long. A child that would not be done by then is handed to a source that stays (the
  /// server, a later finished relay) as soon as one has room, not cut off when the relay leaves.
  Seconds finished_relay_linger = 60.0;
};

/// Checks a configuration: rates positive, fractions in range, images non-empty.
/// Returns invalid_input naming the first bad field.
Result<void> validate(const Config& config);
/// Checks one image's shape; returns invalid_input for an image without chunks or bytes.
Result<void> validate(const std::string& name, const ImageShape& shape);

}  // namespace revive::sched
