#include "revive/chunk_pipeline.hpp"

#include <algorithm>
#include <mutex>
#include <optional>
#include <thread>

#include "revive/aligned_buffer.hpp"
#include "revive/parallel.hpp"
#include "revive/zstd_codec.hpp"

namespace revive {

namespace {

using std::chrono::milliseconds;

// Shared by the workers: when the source stops answering, every worker waits (with backoff,
// watching the stop flag) until it answers again or the outage outlasts its budget.
class OutageTracker {
 public:
  explicit OutageTracker(const ChunkPipelineOptions& opts) : opts_(opts) {}

  /// Whether outages are waited out at all (a budget was given).
  bool enabled() const { return opts_.outage_timeout > milliseconds(0); }

  /// One worker saw the source unreachable: waits a little. io once the outage has lasted
  /// longer than its budget, cancelled when the stop flag is set meanwhile.
  Result<void> wait(const Error& why) {
    const milliseconds pause = note_unreachable(why);
    if (pause < milliseconds(0)) {
      return make_error(Errc::io, "the image source stayed unreachable for " +
                                      std::to_string(age_s()) + " s: " + why.message);
    }
    for (auto slept = milliseconds(0); slept < pause; slept += milliseconds(50)) {
      if (opts_.stop && opts_.stop->load()) return make_error(Errc::cancelled, "stopped");
      std::this_thread::sleep_for(milliseconds(50));
    }
    return {};
  }

  /// A worker got an answer: the outage, if any, is over.
  void reachable() {
    if (!in_outage_.load(std::memory_order_relaxed)) return;  // the common case, no lock
    std::lock_guard lock(mu_);
    if (!since_) return;
    since_.reset();
    in_outage_ = false;
    if (opts_.on_outage) opts_.on_outage(true, "");
  }

  /// Outages so far. Never fails.
  std::uint64_t count() const {
    std::lock_guard lock(mu_);
    return count_;
  }

 private:
  // Starts the outage clock if needed; how long to pause, negative once the budget is spent.
  milliseconds note_unreachable(const Error& why) {
    std::lock_guard lock(mu_);
    const auto now = std::chrono::steady_clock::now();
    if (!since_) {
      since_ = now;
      in_outage_ = true;
      ++count_;
      if (opts_.on_outage) opts_.on_outage(false, why.message);
    }
    const auto age = std::chrono::duration_cast<milliseconds>(now - *since_);
    if (age >= opts_.outage_timeout) return milliseconds(-1);
    // Back off with the outage's age (0.25 s up to 5 s), never past the budget's end.
    return std::min(
        {std::max(age, milliseconds(250)), milliseconds(5000), opts_.outage_timeout - age});
  }

  long long age_s() const {
    std::lock_guard lock(mu_);
    if (!since_) return 0;
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() -
                                                            *since_)
        .count();
  }

  const ChunkPipelineOptions& opts_;
  mutable std::mutex mu_;
  std::optional<std::chrono::steady_clock::time_point> since_;
  std::atomic<bool> in_outage_{false};
  std::uint64_t count_ = 0;
};

/// One worker's buffers, reused for every chunk it handles: all the memory the pipeline needs.
struct WorkerBuffers {
  explicit WorkerBuffers(std::size_t chunk_size) : chunk(chunk_size) {}
  ZstdDecompressor zstd;
  std::vector<std::byte> frame;
  AlignedBuffer chunk;  // aligned: a sink may write it with direct I/O
};

/// Decodes `frame` into exactly `out` and checks its SHA-256 against `d`; corrupt naming the
/// chunk otherwise.
Result<void> decode_and_check(const Digest& d, std::span<const std::byte> frame,
                              ZstdDecompressor& zstd, std::span<std::byte> out) {
  if (auto r = zstd.decompress_exact(frame, out); !r) {
    return r.error().with_context("chunk " + digest_hex(d));
  }
  if (const Digest got = sha256(out); got != d) {
    return make_error(Errc::corrupt, "chunk " + digest_hex(d) +
                                         " does not match its hash (content hashes to " +
                                         digest_hex(got) + ")");
  }
  return {};
}

}  // namespace

// The state of one run, shared by its workers.
class ChunkPipeline::Run {
 public:
  Run(ChunkPipeline& p, ChunkSource& source, ChunkSink& sink)
      : p_(p), source_(source), sink_(sink), outage_(p.opts_) {}

  Result<ChunkPipelineReport> go(const std::function<void()>& tick) {
    detail::run_threads(
        std::max(1u, p_.opts_.workers), [&](unsigned) { worker(); },
        [&] {
          if (!first_error_.failed() && tick) tick();
        });
    if (auto e = first_error_.take()) return *e;
    ChunkPipelineReport r;
    r.chunks = chunks_.load();
    r.bytes = bytes_.load();
    r.retries = retries_.load();
    r.skipped = p_.skipped_;
    r.skipped_bytes = p_.skipped_bytes_;
    r.outages = outage_.count();
    std::sort(failures_.begin(), failures_.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& [item, failure] : failures_) r.failures.push_back(std::move(failure));
    return r;
  }

 private:
  void worker() {
    WorkerBuffers b(p_.m_.chunk_size);
    const std::vector<std::size_t>& items = p_.extents_;
    for (std::size_t k; !first_error_.failed() && (k = next_.fetch_add(1)) < items.size();) {
      if (p_.done_[k].load(std::memory_order_relaxed)) continue;  // skipped
      if (p_.opts_.stop && p_.opts_.stop->load()) {
        return first_error_.set(make_error(Errc::cancelled, "stopped"));
      }
      const Extent& e = p_.m_.extents[items[k]];
      const std::span<std::byte> out = b.chunk.first(e.length);
      if (auto r = fetch_checked(e, b, out); !r) {
        if (first_error_.failed()) return;  // the run is over (outage, stop, another failure)
        if (!p_.opts_.keep_going) {
          return first_error_.set(r.error().with_context("at offset " + std::to_string(e.offset)));
        }
        record_failure(k, e, r.error());
        continue;
      }
      if (auto w = sink_.put(e.offset, out); !w) return first_error_.set(w.error());
      if (p_.opts_.after_put) p_.opts_.after_put(k, b.frame);
      // Release: whoever sees the item done (a checkpoint, before its flush) sees the put done.
      p_.done_[k].store(true, std::memory_order_release);
      p_.bytes_done_ += e.length;
      bytes_ += e.length;
      ++chunks_;
    }
  }

  // The chunk's checked bytes in `out`, or its last error once its retries are spent. Outages
  // are waited out here without spending retries; one that outlasts its budget, or the stop
  // flag during the wait, ends the whole run (first_error_ is set).
  Result<void> fetch_checked(const Extent& e, WorkerBuffers& b, std::span<std::byte> out) {
    int wrong = 0;
    for (;;) {
      auto r = source_.fetch(*e.sha256, b.frame);
      if (!r && r.error().code == Errc::io && outage_.enabled()) {
        if (auto w = outage_.wait(r.error()); !w) {
          first_error_.set(w.error());
          return w.error();
        }
        continue;
      }
      if (!r && r.error().code == Errc::cancelled) {  // the source saw the stop flag (a wait)
        first_error_.set(r.error());
        return r.error();
      }
      outage_.reachable();
      if (r) {
        r = decode_and_check(*e.sha256, b.frame, b.zstd, out);
        if (!r) source_.rejected(*e.sha256, r.error());
      }
      if (r || ++wrong > p_.opts_.chunk_retries) return r;
      ++retries_;
    }
  }

  void record_failure(std::size_t item, const Extent& e, Error why) {
    p_.bytes_done_ += e.length;  // checked, if not good: progress moves on
    std::lock_guard lock(failures_mu_);
    failures_.emplace_back(item,
                           ChunkFailure{p_.extents_[item], e.offset, *e.sha256, std::move(why)});
  }

  ChunkPipeline& p_;
  ChunkSource& source_;
  ChunkSink& sink_;
  OutageTracker outage_;
  detail::FirstError first_error_;
  std::atomic<std::size_t> next_{0};
  std::atomic<std::uint64_t> chunks_{0}, bytes_{0}, retries_{0};
  std::mutex failures_mu_;
  std::vector<std::pair<std::size_t, ChunkFailure>> failures_;
};

ChunkPipeline::ChunkPipeline(const Manifest& m, std::vector<std::size_t> extents,
                             ChunkPipelineOptions opts)
    : m_(m),
      extents_(std::move(extents)),
      opts_(std::move(opts)),
      done_(new std::atomic<bool>[extents_.size()]) {
  for (std::size_t k = 0; k < extents_.size(); ++k) {
    REVIVE_CHECK(extents_[k] < m_.extents.size());
    const Extent& e = m_.extents[extents_[k]];
    REVIVE_CHECK(!e.is_hole() && e.length <= m_.chunk_size);
    bytes_total_ += e.length;
    done_[k] = false;
  }
  for (const auto& [first, last] : opts_.skip) {
    for (std::size_t k = first; k <= last && k < extents_.size(); ++k) {
      if (done_[k].exchange(true)) continue;  // ranges may overlap
      ++skipped_;
      skipped_bytes_ += m_.extents[extents_[k]].length;
    }
  }
  bytes_done_ = skipped_bytes_;
}

ChunkPipeline::~ChunkPipeline() = default;

Result<ChunkPipelineReport> ChunkPipeline::run(ChunkSource& source, ChunkSink& sink,
                                               const std::function<void()>& tick) {
  REVIVE_CHECK(!ran_);
  ran_ = true;
  Run run(*this, source, sink);
  return run.go(tick);
}

std::uint64_t ChunkPipeline::bytes_done() const { return bytes_done_.load(); }

ChunkRanges ChunkPipeline::done_ranges() const {
  ChunkRanges ranges;
  for (std::size_t k = 0; k < extents_.size(); ++k) {
    if (!done_[k].load(std::memory_order_acquire)) continue;
    if (!ranges.empty() && ranges.back().second + 1 == k) {
      ranges.back().second = k;
    } else {
      ranges.emplace_back(k, k);
    }
  }
  return ranges;
}

}  // namespace revive
