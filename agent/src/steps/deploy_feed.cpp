#include "deploy_feed.hpp"

#include <fmt/core.h>

#include <algorithm>

namespace revive::agent::steps {

namespace {
constexpr std::chrono::seconds kReportEvery{1};
// Rates over the last this long (a sliding window over the reports' samples): long enough to
// smooth TCP's bursts, short enough to show a peer that slowed down. A window that restarted
// every 3 s made every third figure span one second.
constexpr std::chrono::seconds kRateWindow{3};
// A shorter span than this gives no figure (the first report, just after a source change).
constexpr double kMinSpan = 0.5;
// About this many points in a deploy's timeline, whatever the image's size.
constexpr std::uint64_t kTimelinePoints = 64;
}  // namespace

DeployFeed::DeployFeed(const StepContext& ctx, const Manifest& m, const std::string& image,
                       ScheduledChunkSource& source, Relay* relay, const WriteMeter& meter,
                       std::uint64_t already_held)
    : ctx_(ctx),
      m_(m),
      image_(image),
      source_(source),
      relay_(relay),
      meter_(meter),
      held_(already_held),
      already_held_(already_held),
      timeline_every_(std::max<std::uint64_t>(1, m.data_chunk_count() / kTimelinePoints)) {}

// Counted and timed under one lock: four workers finishing together must not enter the
// timeline out of order (a chunk at a time, the lock costs nothing next to the chunk).
void DeployFeed::chunk_written() {
  std::lock_guard lock(timeline_mu_);
  const std::uint64_t held = held_.fetch_add(1, std::memory_order_relaxed) + 1;
  if (held % timeline_every_ != 0) return;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started_);
  timeline_ms_.push_back(ms.count());
}

Json DeployFeed::timeline() const {
  const auto start =
      std::chrono::duration_cast<std::chrono::milliseconds>(started_wall_.time_since_epoch());
  std::lock_guard lock(timeline_mu_);
  // The first entry is the first multiple of every_chunks past what an earlier attempt held.
  return {{"every_chunks", timeline_every_},
          {"first_at_chunks", (already_held_ / timeline_every_ + 1) * timeline_every_},
          {"start_unix_ms", start.count()},
          {"ms", timeline_ms_}};
}

// The scheduler judges a laptop's link by what arrived from the source it was told of, so
// the window starts afresh when the source changes: bytes from the old source, or a wait
// for the new one to connect, would make a fast laptop look slow.
void DeployFeed::update_rates() {
  const Sample now{std::chrono::steady_clock::now(), source_.bytes_arrived(), meter_.totals()};
  if (source_.replans() != replans_seen_) {
    replans_seen_ = source_.replans();
    samples_.clear();
    receive_rate_ = 0;
  }
  samples_.push_back(now);
  // The base is the newest sample at least a window old (or the oldest there is).
  while (samples_.size() > 2 && now.at - samples_[1].at >= kRateWindow) samples_.pop_front();
  const Sample& base = samples_.front();
  const double span = std::chrono::duration<double>(now.at - base.at).count();
  if (span < kMinSpan) return;
  receive_rate_ = static_cast<double>(now.arrived - base.arrived) / span;
  // The disk's speed while it wrote, not bytes over elapsed time: that is the network's
  // speed when the network is slower, and the scheduler would take it for a slow disk.
  write_rate_ = disk_write_rate(base.written, now.written, m_.chunk_size);
}

protocol::DeployProgress DeployFeed::figures() {
  update_rates();
  protocol::DeployProgress d;
  d.image_id = m_.image_id;
  d.chunks_held = held_.load(std::memory_order_relaxed);
  d.chunk_count = m_.data_chunk_count();
  d.relay_port = relay_ != nullptr ? relay_->port() : 0;
  d.receive_rate = receive_rate_;
  d.write_rate = write_rate_;
  d.source = source_.source_label();
  d.source_failed = source_.take_failure();
  return d;
}

void DeployFeed::tick(std::uint64_t done, std::uint64_t total, bool last) {
  const auto now = std::chrono::steady_clock::now();
  if (!last && !first_ && now - last_report_ < kReportEvery && !source_.failure_pending()) return;
  first_ = false;
  last_report_ = now;
  protocol::DeployProgress d = figures();
  if (d.source_failed) {
    ctx_.log(fmt::format("  {} {}: reported, asking for another source",
                         d.source_failed->peer != 0
                             ? "peer " + std::to_string(d.source_failed->peer)
                             : std::string("the server"),
                         d.source_failed->reason));
  }
  const std::string stage = "writing " + image_ + " (" + source_.describe() + ")";
  auto ack =
      ctx_.progress(stage, static_cast<double>(done), static_cast<double>(total), std::move(d));
  if (ack) apply(*ack);
}

void DeployFeed::apply(const protocol::ProgressAck& ack) {
  if (!ack.source) return;
  if (source_.assign(*ack.source)) ctx_.log("  chunk source: " + source_.describe());
}

}  // namespace revive::agent::steps
