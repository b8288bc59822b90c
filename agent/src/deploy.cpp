#include "revive/agent/deploy.hpp"

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
  explicit DeviceSink(BlockDevice& dev) : dev_(dev) {}
  /// The device's write; its error names the device and offset.
  Result<void> put(std::uint64_t offset, std::span<const std::byte> data) override {
    return dev_.write_at(offset, data);
  }

 private:
  BlockDevice& dev_;
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
  return po;
}

}  // namespace

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
  DeviceSink sink(dev);
  auto last_checkpoint = std::chrono::steady_clock::now();
  // The calling thread reports progress and checkpoints while the workers run.
  auto r = pipeline.run(source, sink, [&] {
    if (opts.progress) opts.progress(pipeline.bytes_done(), m.data_bytes);
    if (!opts.checkpoint ||
        std::chrono::steady_clock::now() - last_checkpoint < opts.checkpoint_every)
      return;
    last_checkpoint = std::chrono::steady_clock::now();
    // Ranges first, then the flush: every range reported was written before the flush.
    DoneRanges ranges = pipeline.done_ranges();
    if (dev.flush()) opts.checkpoint(ranges);
  });
  if (!r) {
    if (r.error().code == Errc::cancelled) return make_error(Errc::cancelled, "deploy stopped");
    return r.error();
  }
  REVIVE_TRY(dev.flush());
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
