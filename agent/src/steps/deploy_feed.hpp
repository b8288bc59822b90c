#pragma once
// The deploy step's conversation with the scheduler: its progress reports carry what the
// server plans with (chunks held, the relay's port, receive and write rates, the current
// source, a failed source), and each answer's source assignment goes to the chunk source.
// Reports go at most once a second, and at once when a source failed, so a dead or lying peer
// is replaced within about a second and a re-plan.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "revive/agent/deploy.hpp"
#include "revive/agent/transport/relay.hpp"
#include "revive/agent/transport/scheduled_chunk_source.hpp"
#include "step.hpp"

namespace revive::agent::steps {

class DeployFeed {
 public:
  /// `relay` may be null (not relaying). `meter`: the deploy's disk writes. `already_held`:
  /// chunks on disk from an earlier attempt.
  DeployFeed(const StepContext& ctx, const Manifest& m, const std::string& image,
             ScheduledChunkSource& source, Relay* relay, const WriteMeter& meter,
             std::uint64_t already_held);

  /// A chunk was verified and written (from the deploy's workers).
  void chunk_written();
  /// When every n-th chunk was written (about 64 points over the image), in ms since the feed
  /// started, with the start's wall-clock time: laptops deploying side by side compare their
  /// timelines to see whether a relay chain's hops lag each other by a constant or drift apart.
  Json timeline() const;
  /// From the deploy's calling thread about every 100 ms: reports when due; `last` always.
  void tick(std::uint64_t done, std::uint64_t total, bool last = false);

 private:
  protocol::DeployProgress figures();
  void update_rates();
  void apply(const protocol::ProgressAck& ack);

  const StepContext& ctx_;
  const Manifest& m_;
  std::string image_;
  ScheduledChunkSource& source_;
  Relay* relay_;
  const WriteMeter& meter_;
  std::atomic<std::uint64_t> held_;
  const std::uint64_t already_held_;
  const std::uint64_t timeline_every_;
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  const std::chrono::system_clock::time_point started_wall_ = std::chrono::system_clock::now();
  mutable std::mutex timeline_mu_;
  std::vector<std::int64_t> timeline_ms_;  ///< one per timeline_every_ chunks written
  std::chrono::steady_clock::time_point last_report_{};
  struct Sample {
    std::chrono::steady_clock::time_point at;
    std::uint64_t arrived = 0;  ///< source_.bytes_arrived()
    WriteMeter::Totals written;
  };
  std::deque<Sample> samples_;  ///< one per report, the last few seconds (reset on a new source)
  std::uint64_t replans_seen_ = 0;
  double receive_rate_ = 0;
  double write_rate_ = 0;
  bool first_ = true;
};

}  // namespace revive::agent::steps
