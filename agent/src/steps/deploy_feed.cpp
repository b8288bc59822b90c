#include "deploy_feed.hpp"

#include <fmt/core.h>

namespace revive::agent::steps {

namespace {
constexpr std::chrono::seconds kReportEvery{1};
// Rates over about this long: long enough to smooth one chunk's arrival, short enough to show a
// peer that slowed down.
constexpr std::chrono::seconds kRateWindow{3};
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
      rate_since_(std::chrono::steady_clock::now()) {}

protocol::DeployProgress DeployFeed::figures() {
  const auto now = std::chrono::steady_clock::now();
  const double span = std::chrono::duration<double>(now - rate_since_).count();
  const std::uint64_t fetched = source_.bytes_fetched();
  const WriteMeter::Totals written = meter_.totals();
  if (span > 0.5) {
    receive_rate_ = static_cast<double>(fetched - fetched_at_rate_since_) / span;
    // The disk's speed while it wrote, not bytes over elapsed time: that is the network's
    // speed when the network is slower, and the scheduler would take it for a slow disk.
    write_rate_ = disk_write_rate(written_at_rate_since_, written, m_.chunk_size);
  }
  if (now - rate_since_ >= kRateWindow) {
    rate_since_ = now;
    fetched_at_rate_since_ = fetched;
    written_at_rate_since_ = written;
  }
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
