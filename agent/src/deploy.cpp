#include "revive/agent/deploy.hpp"

#include <algorithm>
#include <chrono>
#include <random>
#include <string>
#include <vector>

namespace revive::agent {

namespace {

// Deploy's sink: each checked chunk written at its offset on the disk (with direct I/O where
// the device allows it: the pipeline's chunk buffers are aligned).
class DeviceSink : public ChunkSink {
 public:
  DeviceSink(BlockDevice& dev, WriteMeter* meter) : dev_(dev), meter_(meter) {}
  /// The device's write; its error names the device and offset.
  Result<void> put(std::uint64_t offset, std::span<const std::byte> data) override {
    const WriteMeter::Busy busy(meter_, data.size());
    return dev_.write_at(offset, data);
  }
  /// The device's flush, timed: a cached write costs its time here.
  Result<void> flush() {
    const WriteMeter::Busy busy(meter_, 0);
    return dev_.flush();
  }

 private:
  BlockDevice& dev_;
  WriteMeter* meter_;
};

/// Makes every run of holes in `m` read as zeros on `dev`; the bytes zeroed. Redone on every
/// attempt (cheap), so a resume needs no record of it.
Result<std::uint64_t> zero_holes(const Manifest& m, BlockDevice& dev) {
  std::uint64_t zeroed = 0;
  for (std::size_t i = 0; i < m.extents.size();) {
    if (!m.extents[i].is_hole()) {
      ++i;
      continue;
    }
    const std::uint64_t start = m.extents[i].offset;
    std::uint64_t end = start;
    for (; i < m.extents.size() && m.extents[i].is_hole(); ++i)
      end = m.extents[i].offset + m.extents[i].length;
    REVIVE_TRY(dev.zero_range(start, end - start));
    zeroed += end - start;
  }
  return zeroed;
}

ChunkPipelineOptions pipeline_options(const DeployOptions& opts) {
  ChunkPipelineOptions po;
  po.workers = opts.workers;
  po.chunk_retries = opts.chunk_retries;
  po.outage_timeout = opts.outage_timeout;
  po.on_outage = opts.on_outage;
  po.skip = opts.already_done;
  po.stop = opts.stop;
  po.after_put = opts.after_put;
  return po;
}

}  // namespace

void WriteMeter::begin() {
  const std::scoped_lock lock(mu_);
  if (under_way_++ == 0) since_ = std::chrono::steady_clock::now();
}

// Busy time is credited up to each write's end (not only when all are done), so a disk that is
// never idle still shows its figures.
void WriteMeter::end(std::uint64_t bytes) {
  const std::scoped_lock lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  done_.busy_seconds += std::chrono::duration<double>(now - since_).count();
  done_.bytes += bytes;
  since_ = now;
  --under_way_;
}

WriteMeter::Totals WriteMeter::totals() const {
  const std::scoped_lock lock(mu_);
  return done_;
}

std::chrono::milliseconds checkpoint_interval(std::chrono::milliseconds every,
                                              std::chrono::steady_clock::duration flush_took) {
  using std::chrono::milliseconds;
  constexpr int kFlushTimes = 20;
  constexpr milliseconds kLongest{60'000};
  const auto paced = std::chrono::ceil<milliseconds>(flush_took * kFlushTimes);
  return std::max(every, std::min(paced, kLongest));
}

double disk_write_rate(const WriteMeter::Totals& from, const WriteMeter::Totals& to,
                       std::uint64_t chunk_size) {
  constexpr std::uint64_t kMinChunks = 2;
  constexpr double kMinBusySeconds = 0.2;
  const std::uint64_t bytes = to.bytes - from.bytes;
  const double busy = to.busy_seconds - from.busy_seconds;
  if (bytes < kMinChunks * chunk_size || busy < kMinBusySeconds) return 0;
  return static_cast<double>(bytes) / busy;
}

Result<DeployReport> deploy_image(const Manifest& m, ChunkSource& source, BlockDevice& dev,
                                  const DeployOptions& opts) {
  if (dev.size() < m.min_disk_size) {
    return make_error(Errc::invalid_input, "the disk holds " + std::to_string(dev.size()) +
                                               " bytes, the image needs at least " +
                                               std::to_string(m.min_disk_size) +
                                               ": nothing was written");
  }
  DeployReport report;
  if (opts.zero_holes) {
    auto zeroed = zero_holes(m, dev);
    if (!zeroed) return zeroed.error();
    report.holes_zeroed_bytes = *zeroed;
  }
  // Item k of the pipeline is data extent k: its done ranges are the checkpoint's ranges.
  ChunkPipeline pipeline(m, m.data_extents(), pipeline_options(opts));
  DeviceSink sink(dev, opts.write_meter);
  using Clock = std::chrono::steady_clock;
  Clock::time_point next_checkpoint = Clock::now() + opts.checkpoint_every;
  // The calling thread reports progress and checkpoints while the workers run.
  auto r = pipeline.run(source, sink, [&] {
    if (opts.progress) opts.progress(pipeline.bytes_done(), m.data_bytes);
    if (!opts.checkpoint || Clock::now() < next_checkpoint) return;
    // Ranges first, then the flush: every range reported was written before the flush.
    DoneRanges ranges = pipeline.done_ranges();
    const Clock::time_point flush_start = Clock::now();
    const bool flushed = static_cast<bool>(sink.flush());
    const Clock::time_point flush_end = Clock::now();
    next_checkpoint =
        flush_end + checkpoint_interval(opts.checkpoint_every, flush_end - flush_start);
    if (flushed) opts.checkpoint(ranges);
  });
  if (!r) {
    if (r.error().code == Errc::cancelled) return make_error(Errc::cancelled, "deploy stopped");
    return r.error();
  }
  REVIVE_TRY(sink.flush());
  if (opts.progress) opts.progress(pipeline.bytes_done(), m.data_bytes);
  report.chunks_written = r->chunks;
  report.bytes_written = r->bytes;
  report.bytes_fetched = source.bytes_fetched();
  report.chunk_retries = r->retries;
  report.chunks_skipped = r->skipped;
  report.outages = r->outages;
  return report;
}

Result<std::vector<std::string>> verify_sample(const Manifest& m, BlockDevice& dev,
                                               unsigned samples, std::uint64_t seed) {
  const std::vector<std::size_t> data = m.data_extents();
  std::vector<std::string> bad;
  if (data.empty()) return bad;
  std::mt19937_64 rng(seed);
  std::vector<std::byte> buf(m.chunk_size);
  for (unsigned s = 0; s < samples; ++s) {
    const Extent& e = m.extents[data[rng() % data.size()]];
    REVIVE_TRY(dev.read_at(e.offset, {buf.data(), e.length}));
    if (sha256({buf.data(), e.length}) != *e.sha256) {
      bad.push_back("offset " + std::to_string(e.offset) + ": read back differs from chunk " +
                    digest_hex(*e.sha256));
    }
  }
  return bad;
}

}  // namespace revive::agent
