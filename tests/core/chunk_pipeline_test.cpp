#include "revive/chunk_pipeline.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "revive/zstd_codec.hpp"
#include "test_files.hpp"

namespace revive {
namespace {

using namespace std::chrono_literals;

constexpr std::uint64_t kChunk = 4096;

// Frames by digest, with faults injected by the test.
class FakeSource : public ChunkSource {
 public:
  void add(const Digest& d, std::vector<std::byte> frame) { frames_[d] = std::move(frame); }

  Result<void> fetch(const Digest& d, std::vector<std::byte>& out) override {
    std::chrono::milliseconds delay{0};
    {
      std::lock_guard lock(mu_);
      ++calls_[d];
      if (unreachable_calls_ > 0) {
        --unreachable_calls_;
        return make_error(Errc::io, "connection refused (injected)");
      }
      if (always_unreachable_) return make_error(Errc::io, "connection refused (injected)");
      if (cancelled_) return make_error(Errc::cancelled, "stopped (injected)");
      if (missing_.count(d) > 0 || frames_.count(d) == 0) {
        return make_error(Errc::not_found, "chunk " + digest_hex(d) + " is missing (injected)");
      }
      out = frames_.at(d);
      if (corrupt_once_.erase(d) > 0 || corrupt_always_.count(d) > 0) {
        out[out.size() / 2] ^= std::byte{1};  // still a frame of the right size, wrong content
      }
      if (delay_for_) delay = delay_for_(d);
      fetched_ += out.size();
    }
    std::this_thread::sleep_for(delay);
    return {};
  }
  std::uint64_t bytes_fetched() const override {
    std::lock_guard lock(mu_);
    return fetched_;
  }
  void rejected(const Digest& d, const Error& why) override {
    std::lock_guard lock(mu_);
    rejected_.emplace_back(d, why.code);
  }

  int calls(const Digest& d) {
    std::lock_guard lock(mu_);
    return calls_[d];
  }
  int total_calls() {
    std::lock_guard lock(mu_);
    int n = 0;
    for (const auto& [d, c] : calls_) n += c;
    return n;
  }

  mutable std::mutex mu_;
  int unreachable_calls_ = 0;
  bool always_unreachable_ = false;
  std::set<Digest> corrupt_once_, corrupt_always_, missing_;
  std::function<std::chrono::milliseconds(const Digest&)> delay_for_;
  bool cancelled_ = false;  ///< every fetch answers cancelled (a source that saw the stop flag)
  std::vector<std::pair<Digest, Errc>> rejected_;

 private:
  std::map<Digest, std::vector<std::byte>> frames_;
  std::map<Digest, int> calls_;
  std::uint64_t fetched_ = 0;
};

// An image in memory; records every put.
class MemorySink : public ChunkSink {
 public:
  explicit MemorySink(std::uint64_t size) : bytes_(size) {}
  Result<void> put(std::uint64_t offset, std::span<const std::byte> data) override {
    std::lock_guard lock(mu_);
    if (fail_at_ && *fail_at_ == offset) return make_error(Errc::io, "write failed (injected)");
    std::memcpy(bytes_.data() + offset, data.data(), data.size());
    puts_.push_back(offset);
    return {};
  }
  std::vector<std::byte> bytes_;
  std::vector<std::uint64_t> puts_;
  std::optional<std::uint64_t> fail_at_;

 private:
  std::mutex mu_;
};

// Ten chunks of 4 KiB: a hole at 4, chunk 7 repeats chunk 2 (dedup), the last one short.
class ChunkPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_.chunk_size = kChunk;
    ZstdCompressor zc;
    for (std::uint64_t i = 0; i < 10; ++i) {
      Extent e{i * kChunk, i == 9 ? 1000 : kChunk, std::nullopt, 0};
      if (i != 4) {
        const auto bytes = i == 7 ? chunk_bytes(2) : chunk_bytes(i);
        e.sha256 = sha256(bytes);
        std::vector<std::byte> frame;
        ASSERT_TRUE(zc.compress(bytes, frame));
        e.stored_size = frame.size();
        source_.add(*e.sha256, std::move(frame));
        image_.resize(e.offset);
        image_.insert(image_.end(), bytes.begin(), bytes.end());
        m_.data_bytes += e.length;
      }
      m_.extents.push_back(e);
    }
    m_.logical_size = 9 * kChunk + 1000;
    image_.resize(m_.logical_size);
    data_ = m_.data_extents();
  }

  static std::vector<std::byte> chunk_bytes(std::uint64_t i) {
    auto b = i % 2 ? test::random_bytes(kChunk, i + 1) : test::compressible_bytes(kChunk, i + 1);
    if (i == 9) b.resize(1000);
    return b;
  }
  const Digest& digest_of_item(std::size_t k) const { return *m_.extents[data_[k]].sha256; }

  Result<ChunkPipelineReport> run(ChunkPipelineOptions o, MemorySink& sink,
                                  std::vector<std::size_t> items = {}) {
    ChunkPipeline p(m_, items.empty() ? data_ : std::move(items), std::move(o));
    return p.run(source_, sink);
  }

  Manifest m_;
  std::vector<std::size_t> data_;
  std::vector<std::byte> image_;
  FakeSource source_;
};

TEST_F(ChunkPipelineTest, DeliversEveryChunkCheckedOnceWhateverTheOrder) {
  // Later chunks answer faster, and the claim order is given forwards, then backwards: the
  // result is the same image either way.
  source_.delay_for_ = [&](const Digest& d) {
    for (std::size_t k = 0; k < data_.size(); ++k) {
      if (digest_of_item(k) == d) return std::chrono::milliseconds(2 * (data_.size() - k));
    }
    return 0ms;
  };
  for (bool backwards : {false, true}) {
    std::vector<std::size_t> items = data_;
    if (backwards) std::reverse(items.begin(), items.end());
    MemorySink sink(m_.logical_size);
    ChunkPipeline p(m_, items, {.workers = 4});
    auto r = p.run(source_, sink);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->chunks, data_.size());
    EXPECT_EQ(r->bytes, m_.data_bytes);
    EXPECT_EQ(r->retries, 0u);
    EXPECT_EQ(r->outages, 0u);
    EXPECT_EQ(sink.bytes_, image_);
    std::sort(sink.puts_.begin(), sink.puts_.end());
    EXPECT_EQ(std::adjacent_find(sink.puts_.begin(), sink.puts_.end()), sink.puts_.end());
    EXPECT_EQ(sink.puts_.size(), data_.size());
    EXPECT_EQ(p.bytes_done(), p.bytes_total());
    EXPECT_EQ(p.done_ranges(), (ChunkRanges{{0, data_.size() - 1}}));
  }
}

TEST_F(ChunkPipelineTest, RefetchesAWrongAnswerThenNamesAChunkThatStaysWrong) {
  const Digest& d = digest_of_item(3);
  const std::uint64_t offset = m_.extents[data_[3]].offset;
  source_.corrupt_once_.insert(d);
  MemorySink sink(m_.logical_size);
  auto r = run({.workers = 2, .chunk_retries = 2}, sink);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->retries, 1u);
  EXPECT_EQ(sink.bytes_, image_);

  source_.corrupt_always_.insert(d);
  const int before = source_.calls(d);
  MemorySink sink2(m_.logical_size);
  r = run({.workers = 2, .chunk_retries = 2}, sink2);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::corrupt);
  EXPECT_NE(r.error().message.find(digest_hex(d)), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("at offset " + std::to_string(offset)), std::string::npos)
      << r.error().message;
  EXPECT_EQ(source_.calls(d) - before, 3);  // the first answer and two retries
  EXPECT_EQ(std::count(sink2.puts_.begin(), sink2.puts_.end(), offset), 0);
}

TEST_F(ChunkPipelineTest, WaitsOutAnUnreachableSourceWithoutSpendingRetries) {
  source_.unreachable_calls_ = 6;  // a network cut spanning several fetches
  int down = 0, up = 0;
  ChunkPipelineOptions o{.workers = 3, .chunk_retries = 0, .outage_timeout = 30s};
  o.on_outage = [&](bool reachable, const std::string& why) {
    if (reachable) {
      ++up;
    } else {
      ++down;
      EXPECT_NE(why.find("injected"), std::string::npos) << why;
    }
  };
  MemorySink sink(m_.logical_size);
  auto r = run(std::move(o), sink);
  ASSERT_TRUE(r) << r.error().message;  // no retries to spend: waiting did not spend any
  EXPECT_EQ(r->retries, 0u);
  EXPECT_GE(r->outages, 1u);
  EXPECT_EQ(down, static_cast<int>(r->outages));
  EXPECT_EQ(up, down);
  EXPECT_EQ(sink.bytes_, image_);
}

TEST_F(ChunkPipelineTest, GivesUpWhenTheOutageOutlastsItsBudget) {
  source_.always_unreachable_ = true;
  MemorySink sink(m_.logical_size);
  const auto start = std::chrono::steady_clock::now();
  auto r = run({.workers = 2, .chunk_retries = 3, .outage_timeout = 300ms}, sink);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::io);
  EXPECT_NE(r.error().message.find("stayed unreachable"), std::string::npos) << r.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_TRUE(sink.puts_.empty());
}

TEST_F(ChunkPipelineTest, WithoutAnOutageBudgetAnUnreachableSourceIsAWrongAnswer) {
  source_.always_unreachable_ = true;
  MemorySink sink(m_.logical_size);
  auto r = run({.workers = 1, .chunk_retries = 1}, sink);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::io);
  EXPECT_NE(r.error().message.find("injected"), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().message.find("stayed unreachable"), std::string::npos);
  EXPECT_EQ(source_.total_calls(), 2);  // one chunk, one retry, then the run stops
}

TEST_F(ChunkPipelineTest, TheStopFlagEndsTheRunAlsoDuringAnOutage) {
  std::atomic<bool> stop{true};
  MemorySink sink(m_.logical_size);
  auto r = run({.workers = 2, .stop = &stop}, sink);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::cancelled);
  EXPECT_EQ(source_.total_calls(), 0);

  // Workers waiting for an unreachable source notice the flag within their 50 ms naps.
  stop = false;
  source_.always_unreachable_ = true;
  std::jthread stopper([&] {
    std::this_thread::sleep_for(300ms);
    stop = true;
  });
  const auto start = std::chrono::steady_clock::now();
  r = run({.workers = 2, .outage_timeout = 600s, .stop = &stop}, sink);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::cancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST_F(ChunkPipelineTest, SkipsTheGivenRanges) {
  MemorySink sink(m_.logical_size);
  // Overlapping ranges, one reaching past the end: items 0-3 and the last are skipped.
  const std::size_t n = data_.size();
  ChunkPipeline p(m_, data_, {.workers = 2, .skip = {{0, 2}, {2, 3}, {n - 1, n + 5}}});
  EXPECT_EQ(p.done_ranges(), (ChunkRanges{{0, 3}, {n - 1, n - 1}}));
  auto r = p.run(source_, sink);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->skipped, 5u);
  EXPECT_EQ(r->chunks, n - 5);
  EXPECT_EQ(r->skipped_bytes + r->bytes, m_.data_bytes);
  for (std::size_t k : {0u, 1u, 3u}) EXPECT_EQ(source_.calls(digest_of_item(k)), 0) << k;
  EXPECT_EQ(source_.calls(digest_of_item(n - 1)), 0);
  EXPECT_EQ(sink.puts_.size(), n - 5);
  EXPECT_EQ(p.done_ranges(), (ChunkRanges{{0, n - 1}}));
  EXPECT_EQ(p.bytes_done(), m_.data_bytes);
}

TEST_F(ChunkPipelineTest, KeepGoingListsEveryBadChunkWithItsOffsetAndReason) {
  source_.missing_.insert(digest_of_item(1));
  source_.corrupt_always_.insert(digest_of_item(5));
  MemorySink sink(m_.logical_size);
  ChunkPipeline p(m_, data_, {.workers = 3, .keep_going = true});
  auto r = p.run(source_, sink);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->failures.size(), 2u);
  EXPECT_EQ(r->failures[0].extent, data_[1]);
  EXPECT_EQ(r->failures[0].offset, m_.extents[data_[1]].offset);
  EXPECT_EQ(r->failures[0].sha256, digest_of_item(1));
  EXPECT_EQ(r->failures[0].error.code, Errc::not_found);
  EXPECT_EQ(r->failures[1].extent, data_[5]);
  EXPECT_EQ(r->failures[1].error.code, Errc::corrupt);
  EXPECT_TRUE(r->failures[1].error.message.find("does not match its hash") != std::string::npos ||
              r->failures[1].error.message.find("zstd") != std::string::npos)
      << r->failures[1].error.message;
  EXPECT_EQ(r->chunks, data_.size() - 2);
  EXPECT_EQ(p.bytes_done(), p.bytes_total());  // a bad chunk was checked: progress moves on
  EXPECT_EQ(p.done_ranges(), (ChunkRanges{{0, 0}, {2, 4}, {6, data_.size() - 1}}));
}

TEST_F(ChunkPipelineTest, ASinkErrorStopsThePipelineAsItIs) {
  MemorySink sink(m_.logical_size);
  sink.fail_at_ = m_.extents[data_[2]].offset;
  auto r = run({.workers = 2, .keep_going = true}, sink);  // a write error is never a bad chunk
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "write failed (injected)");
}

TEST_F(ChunkPipelineTest, TickSeesProgressAndDoneRanges) {
  source_.delay_for_ = [](const Digest&) { return 40ms; };
  MemorySink sink(m_.logical_size);
  ChunkPipeline p(m_, data_, {.workers = 1});
  std::vector<std::uint64_t> seen;
  auto r = p.run(source_, sink, [&] {
    seen.push_back(p.bytes_done());
    const ChunkRanges ranges = p.done_ranges();
    // One worker in item order: what is done is always a prefix.
    EXPECT_LE(ranges.size(), 1u);
    if (!ranges.empty()) {
      EXPECT_EQ(ranges[0].first, 0u);
    }
  });
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_FALSE(seen.empty());
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_LE(seen.back(), p.bytes_total());
  EXPECT_EQ(p.bytes_done(), p.bytes_total());
}

TEST_F(ChunkPipelineTest, TellsTheSourceWhichFrameFailedItsCheckAndNothingElse) {
  // A peer serving a bad frame must be blamed; an absent chunk is the source's own answer.
  source_.corrupt_once_.insert(digest_of_item(3));
  source_.missing_.insert(digest_of_item(5));
  MemorySink sink(m_.logical_size);
  auto r = run({.workers = 2, .chunk_retries = 1, .keep_going = true}, sink);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(source_.rejected_.size(), 1u);
  EXPECT_EQ(source_.rejected_[0].first, digest_of_item(3));
  EXPECT_EQ(source_.rejected_[0].second, Errc::corrupt);
  EXPECT_EQ(r->retries, 2u);  // item 3 once, item 5 once
}

TEST_F(ChunkPipelineTest, AfterPutSeesEveryItemOnceWithItsFrameAfterTheSinkTookIt) {
  std::mutex mu;
  std::map<std::size_t, std::vector<std::byte>> seen;
  MemorySink sink(m_.logical_size);
  ChunkPipelineOptions o{.workers = 3};
  o.after_put = [&](std::size_t item, std::span<const std::byte> frame) {
    std::lock_guard lock(mu);
    EXPECT_TRUE(seen.emplace(item, std::vector<std::byte>(frame.begin(), frame.end())).second);
    // Already on its way to the disk: whoever is told may read it back.
    const std::uint64_t offset = m_.extents[data_[item]].offset;
    EXPECT_EQ(std::memcmp(sink.bytes_.data() + offset, image_.data() + offset,
                          m_.extents[data_[item]].length),
              0);
  };
  auto r = run(std::move(o), sink);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(seen.size(), data_.size());
  ZstdDecompressor z;
  for (const auto& [item, frame] : seen) {
    std::vector<std::byte> raw(m_.extents[data_[item]].length);
    ASSERT_TRUE(z.decompress_exact(frame, raw));
    EXPECT_EQ(sha256(raw), digest_of_item(item)) << item;
  }
}

TEST_F(ChunkPipelineTest, ASourceThatSawTheStopFlagEndsTheRunWithoutSpendingRetries) {
  source_.cancelled_ = true;
  MemorySink sink(m_.logical_size);
  auto r = run({.workers = 2, .chunk_retries = 3}, sink);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::cancelled);
  EXPECT_LE(source_.total_calls(), 2);  // one per worker, no retries
}

}  // namespace
}  // namespace revive
