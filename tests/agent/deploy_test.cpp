#include "revive/agent/deploy.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "revive/image_ops.hpp"
#include "revive/image_store.hpp"
#include "temp_dir.hpp"
#include "test_files.hpp"

namespace revive::agent {
namespace {

namespace fs = std::filesystem;

// Chunks straight from a local store, with faults injected by the test.
class FaultySource : public ChunkSource {
 public:
  explicit FaultySource(const ImageStore& store) : store_(store) {}
  Result<void> fetch(const Digest& d, std::vector<std::byte>& out) override {
    {
      std::lock_guard lock(mu_);
      ++calls_;
      if (unreachable_calls_ > 0) {
        --unreachable_calls_;
        return make_error(Errc::io, "connection refused (injected)");
      }
      if (always_unreachable_) return make_error(Errc::io, "connection refused (injected)");
    }
    REVIVE_TRY(store_.chunks().read(d, out, kMaxChunkSize * 2));
    std::lock_guard lock(mu_);
    if (corrupt_.count(d) > 0 || corrupt_always_.count(d) > 0) {
      corrupt_.erase(d);
      out[out.size() / 2] ^= std::byte{1};  // still a frame of the right size, wrong content
    }
    fetched_ += out.size();
    return {};
  }
  std::uint64_t bytes_fetched() const override { return fetched_; }

  std::mutex mu_;
  int unreachable_calls_ = 0;
  bool always_unreachable_ = false;
  std::set<Digest> corrupt_, corrupt_always_;
  int calls_ = 0;

 private:
  const ImageStore& store_;
  std::uint64_t fetched_ = 0;
};

class Deploy : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = ImageStore::open(dir_ / "store", true);
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
    // 8 chunks of 64 KiB: 5 with data (one compressible), 3 holes.
    src_ = dir_ / "image.raw";
    test::write_at(src_, test::random_bytes(3 * 65536UL, 1), 0);
    test::write_at(src_, test::compressible_bytes(65536, 2), 4 * 65536UL);
    test::write_at(src_, test::random_bytes(65536 + 100, 3), 6 * 65536UL);
    ImportOptions o;
    o.name = "img";
    o.chunk_size = 65536;
    o.raw = true;  // odd-sized random data: no disk, on purpose (the last chunk is short)
    ASSERT_TRUE(import_raw_image(*store_, src_, o));
    auto m = store_->load("img");
    ASSERT_TRUE(m);
    m_ = *m;
    disk_ = dir_ / "disk";
    test::make_sparse(disk_, 1 << 20);
  }

  std::unique_ptr<BlockDevice> open_disk() {
    auto d = open_block_device(disk_);
    EXPECT_TRUE(d) << d.error().message;
    return std::move(*d);
  }

  bool disk_holds_image() {
    const auto img = test::read_all(src_);
    auto disk = test::read_all(disk_);
    if (disk.size() < img.size()) return false;
    for (std::size_t i = img.size(); i < disk.size(); ++i) {
      if (disk[i] != std::byte{0}) return false;
    }
    disk.resize(img.size());
    return disk == img;
  }

  test::TempDir dir_;
  std::unique_ptr<ImageStore> store_;
  fs::path src_, disk_;
  Manifest m_;
};

TEST_F(Deploy, WritesEveryDataChunkAndNothingElse) {
  FaultySource src(*store_);
  auto dev = open_disk();
  DeployOptions o;
  auto r = deploy_image(m_, src, *dev, o);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->chunks_written, m_.data_chunk_count());
  EXPECT_EQ(r->chunk_retries, 0u);
  EXPECT_EQ(r->outages, 0u);
  EXPECT_TRUE(disk_holds_image());
  auto bad = verify_sample(m_, *dev, 32, 42);
  ASSERT_TRUE(bad);
  EXPECT_TRUE(bad->empty());
}

// The meter sees every byte the deploy writes, and time spent writing (flushes included).
TEST_F(Deploy, TimesEveryWriteIntoItsMeter) {
  FaultySource src(*store_);
  auto dev = open_disk();
  WriteMeter meter;
  DeployOptions o;
  o.write_meter = &meter;
  auto r = deploy_image(m_, src, *dev, o);
  ASSERT_TRUE(r) << r.error().message;
  const WriteMeter::Totals t = meter.totals();
  EXPECT_EQ(t.bytes, r->bytes_written);
  EXPECT_GT(t.busy_seconds, 0.0);
}

// Writes that overlap count their time once: four workers writing at once for 100 ms keep
// the disk busy 100 ms, not 400 (else a disk would look four times slower than it is).
TEST(WriteMeter, OverlappingWritesCountTheirTimeOnce) {
  WriteMeter meter;
  std::vector<std::thread> writers;
  writers.reserve(4);
  for (int i = 0; i < 4; ++i) {
    writers.emplace_back([&meter] {
      const WriteMeter::Busy busy(&meter, 1000);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    });
  }
  for (auto& w : writers) w.join();
  const WriteMeter::Totals t = meter.totals();
  EXPECT_EQ(t.bytes, 4000u);
  EXPECT_GE(t.busy_seconds, 0.1);
  EXPECT_LT(t.busy_seconds, 0.3) << "overlapping writes were counted once each";
  // Idle time between writes is not busy time.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  { const WriteMeter::Busy busy(&meter, 0); }
  EXPECT_LT(meter.totals().busy_seconds, t.busy_seconds + 0.05);
}

// The reported rate is bytes over busy time, not over the window: a network-bound laptop whose
// disk wrote 8 MB in 0.25 s of a 3 s window writes at 32 MB/s, whatever arrived. Too little
// written to tell is 0, which the server reads as "unknown".
TEST(WriteMeter, TheDiskRateIsBytesOverBusyTimeOrUnknown) {
  constexpr std::uint64_t kChunk = 4'000'000;
  struct Case {
    const char* what;
    WriteMeter::Totals from, to;
    double rate;
  };
  const std::vector<Case> cases{
      {"busy a quarter second for two chunks", {0, 0}, {8'000'000, 0.25}, 32e6},
      {"from a later reading", {40'000'000, 2.0}, {80'000'000, 2.5}, 80e6},
      {"one chunk only", {0, 0}, {4'000'000, 0.5}, 0},
      {"busy too briefly to tell (the page cache took it)", {0, 0}, {40'000'000, 0.1}, 0},
      {"nothing written (waiting for its parent)", {8'000'000, 1.0}, {8'000'000, 1.0}, 0},
  };
  for (const Case& c : cases)
    EXPECT_DOUBLE_EQ(disk_write_rate(c.from, c.to, kChunk), c.rate) << c.what;
}

// A flush holds the disk's writes up while it runs: checkpoints come no sooner than 20
// flush-times apart (at most a minute), so on a disk that flushes slowly they cost ~5 %.
TEST(CheckpointInterval, SlowFlushesSpaceCheckpointsOutWithinAMinute) {
  using std::chrono::milliseconds;
  struct Case {
    const char* what;
    milliseconds every, flush_took, next;
  };
  const std::vector<Case> cases{
      {"a fast flush keeps the asked interval", milliseconds(2000), milliseconds(20),
       milliseconds(2000)},
      {"a virtual disk's half-second flush: 10 s", milliseconds(2000), milliseconds(500),
       milliseconds(10'000)},
      {"a flush of 10 s: a minute at most", milliseconds(2000), milliseconds(10'000),
       milliseconds(60'000)},
      {"an interval asked longer than a minute stays", milliseconds(90'000), milliseconds(10'000),
       milliseconds(90'000)},
  };
  for (const Case& c : cases)
    EXPECT_EQ(checkpoint_interval(c.every, c.flush_took), c.next) << c.what;
}

TEST_F(Deploy, ZeroesTheHolesOfAUsedDisk) {
  // A used disk: old data everywhere, also where the image has holes.
  test::write_at(disk_, std::vector<std::byte>(1 << 20, std::byte{0xa5}), 0);
  {
    FaultySource src(*store_);
    auto dev = open_disk();
    DeployOptions o;
    o.zero_holes = false;
    ASSERT_TRUE(deploy_image(m_, src, *dev, o));
    EXPECT_FALSE(disk_holds_image());  // the old data still shows through the holes
  }
  FaultySource src(*store_);
  auto dev = open_disk();
  auto r = deploy_image(m_, src, *dev, {});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->holes_zeroed_bytes, m_.logical_size - m_.data_bytes);
  const auto img = test::read_all(src_);
  auto disk = test::read_all(disk_);
  disk.resize(img.size());
  EXPECT_EQ(disk, img);
}

TEST_F(Deploy, WaitsForAnUnreachableSourceAndCarriesOn) {
  FaultySource src(*store_);
  src.unreachable_calls_ = 5;  // a network cut spanning several fetches
  auto dev = open_disk();
  DeployOptions o;
  int down = 0, up = 0;
  o.on_outage = [&](bool reachable, const std::string& why) {
    if (reachable) {
      ++up;
    } else {
      ++down;
      EXPECT_NE(why.find("injected"), std::string::npos);
    }
  };
  auto r = deploy_image(m_, src, *dev, o);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_GE(r->outages, 1u);
  EXPECT_EQ(down, static_cast<int>(r->outages));
  EXPECT_EQ(up, down);
  EXPECT_EQ(r->chunk_retries, 0u);  // waiting for the network is not a wrong answer
  EXPECT_TRUE(disk_holds_image());
}

TEST_F(Deploy, GivesUpWhenTheOutageOutlastsItsBudget) {
  FaultySource src(*store_);
  src.always_unreachable_ = true;
  auto dev = open_disk();
  DeployOptions o;
  o.outage_timeout = std::chrono::seconds(1);
  auto r = deploy_image(m_, src, *dev, o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::io);
  EXPECT_NE(r.error().message.find("stayed unreachable"), std::string::npos) << r.error().message;
}

TEST_F(Deploy, RefetchesAChunkThatFailsItsHashThenNamesOneThatKeepsFailing) {
  const Digest first = *m_.extents[m_.data_extents()[0]].sha256;
  {
    FaultySource src(*store_);
    src.corrupt_.insert(first);  // wrong once
    auto dev = open_disk();
    auto r = deploy_image(m_, src, *dev, {});
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->chunk_retries, 1u);
    EXPECT_TRUE(disk_holds_image());
  }
  test::make_sparse(dir_ / "disk2", 1 << 20);
  disk_ = dir_ / "disk2";
  FaultySource src(*store_);
  src.corrupt_always_.insert(first);
  auto dev = open_disk();
  DeployOptions o;
  o.chunk_retries = 2;
  auto r = deploy_image(m_, src, *dev, o);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find(digest_hex(first)), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("offset 0"), std::string::npos) << r.error().message;
}

TEST_F(Deploy, RefusesASmallDiskBeforeWritingAnything) {
  test::make_sparse(dir_ / "small", 65536);
  disk_ = dir_ / "small";
  FaultySource src(*store_);
  auto dev = open_disk();
  auto r = deploy_image(m_, src, *dev, {});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("nothing was written"), std::string::npos);
  EXPECT_EQ(src.calls_, 0);
  EXPECT_EQ(test::read_all(disk_), std::vector<std::byte>(65536));
}

TEST_F(Deploy, SkipsWhatTheCheckpointSaysIsOnDisk) {
  FaultySource src(*store_);
  auto dev = open_disk();
  ASSERT_TRUE(deploy_image(m_, src, *dev, {}));
  // Second run with everything but the last data chunk marked done: only that one is fetched.
  const std::size_t n = m_.data_chunk_count();
  FaultySource again(*store_);
  DeployOptions o2;
  o2.already_done = {{0, n - 2}};
  auto r = deploy_image(m_, again, *dev, o2);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->chunks_skipped, n - 1);
  EXPECT_EQ(r->chunks_written, 1u);
  EXPECT_EQ(again.calls_, 1);
  EXPECT_TRUE(disk_holds_image());
}

}  // namespace
}  // namespace revive::agent
