// A laptop's relay (RelayStore + PeerServer) over a file standing in for its disk, and two
// laptops in one process: one deploys from a fake server and relays, the other deploys from
// the first one's relay. Real sockets on 127.0.0.1, the real pipeline on both sides.

#include "revive/agent/transport/relay.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "http_test_server.hpp"
#include "revive/agent/deploy.hpp"
#include "revive/agent/transport/scheduled_chunk_source.hpp"
#include "revive/http_client.hpp"
#include "revive/image_ops.hpp"
#include "revive/image_store.hpp"
#include "temp_dir.hpp"
#include "test_files.hpp"
#include "test_image.hpp"

namespace revive::agent {
namespace {

namespace fs = std::filesystem;
namespace proto = revive::protocol;
using namespace std::chrono_literals;
using test::CannedReply;
using test::HttpTestServer;
using test::ReceivedRequest;

class RelayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto img = test::make_test_image(dir_.path(), 12, 11);
    ASSERT_TRUE(img) << img.error().message;
    store_ = std::move(img->store);
    src_ = img->raw;
    m_ = img->manifest;
  }

  std::shared_ptr<BlockDevice> disk(const std::string& name) {
    test::make_sparse(dir_ / name, 1 << 20);
    auto d = open_block_device(dir_ / name);
    EXPECT_TRUE(d) << d.error().message;
    return std::shared_ptr<BlockDevice>(std::move(*d));
  }

  CannedReply chunk_reply(const ReceivedRequest& r) const {
    const auto d = parse_digest(std::string_view(r.target).substr(std::string("/chunks/").size()));
    std::vector<std::byte> frame;
    if (!d || !store_->chunks().read(*d, frame, kMaxChunkSize * 2)) return {404, "no such chunk"};
    return {200, std::string(reinterpret_cast<const char*>(frame.data()), frame.size())};
  }

  void chain(bool streamed);

  bool holds_image(const std::string& name) {
    auto disk = test::read_all(dir_ / name);
    const auto img = test::read_all(src_);
    disk.resize(img.size());
    return disk == img;
  }

  static long status_of(std::uint16_t port, const Digest& d) {
    http::ConnectionOptions o;
    o.connect_timeout = 2s;
    http::Connection c(o);
    http::Request req;
    req.url = "http://127.0.0.1:" + std::to_string(port) + "/chunks/" + digest_hex(d);
    req.timeout = 5s;
    auto r = c.request(req);
    return r ? r->status : -1;
  }

  test::TempDir dir_;
  std::unique_ptr<ImageStore> store_;
  fs::path src_;
  Manifest m_;
};

TEST_F(RelayTest, ServesOnlyWhatItHoldsAndNothingOnceClosed) {
  auto dev = disk("a");
  // Chunks 0-2 are on disk from an earlier attempt (a resumed deploy).
  test::write_at(dir_ / "a", test::read_all(src_), 0);
  std::vector<std::byte> frame;
  RelayOptions ro;
  ro.server.address = "127.0.0.1";
  ro.server.chunk_wait = 200ms;
  auto relay = Relay::start(m_, dev, {{0, 2}}, ro);
  ASSERT_TRUE(relay) << relay.error().message;
  const std::uint16_t port = (*relay)->port();
  ASSERT_NE(port, 0);
  EXPECT_EQ((*relay)->chunks_held(), 3u);
  const auto data = m_.data_extents();
  EXPECT_EQ(status_of(port, *m_.extents[data[1]].sha256), 200);  // read back from the disk
  EXPECT_EQ(status_of(port, *m_.extents[data[5]].sha256), 503);  // not held yet
  ASSERT_TRUE(store_->chunks().read(*m_.extents[data[5]].sha256, frame, kMaxChunkSize * 2));
  (*relay)->held(5, frame);
  EXPECT_EQ(status_of(port, *m_.extents[data[5]].sha256), 200);
  EXPECT_EQ(status_of(port, sha256(std::vector<std::byte>(10))), 404);  // not of this image
  EXPECT_GT((*relay)->bytes_served(), 0u);
  (*relay)->close();
  EXPECT_TRUE((*relay)->closed());
  EXPECT_EQ((*relay)->port(), 0);
  EXPECT_EQ(status_of(port, *m_.extents[data[1]].sha256), -1);  // nobody listens any more
}

TEST_F(RelayTest, LingersReportingUntilTheServerReleasesIt) {
  auto relay = Relay::start(m_, disk("a"), {{0, 11}}, {});
  ASSERT_TRUE(relay);
  std::mutex mu;
  std::vector<proto::RelayReport> reports;
  (*relay)->linger(
      [&](const proto::RelayReport& r) -> Result<proto::RelayAck> {
        std::lock_guard lock(mu);
        reports.push_back(r);
        if (reports.size() == 1) return make_error(Errc::io, "server away for a moment");
        return proto::RelayAck{reports.size() >= 3};
      },
      20ms);
  EXPECT_TRUE((*relay)->finish(5s));
  EXPECT_TRUE((*relay)->closed());
  std::lock_guard lock(mu);
  ASSERT_EQ(reports.size(), 3u);
  EXPECT_EQ(reports[0].image_id, m_.image_id);
  EXPECT_EQ(reports[0].chunks_held, 12u);
  EXPECT_NE(reports[0].relay_port, 0);
}

TEST_F(RelayTest, FinishGivesUpOnAServerThatNeverReleasesIt) {
  auto relay = Relay::start(m_, disk("a"), {}, {});
  ASSERT_TRUE(relay);
  std::atomic<int> reports{0};
  (*relay)->linger(
      [&](const proto::RelayReport&) -> Result<proto::RelayAck> {
        ++reports;
        return proto::RelayAck{false};
      },
      20ms);
  const auto started = std::chrono::steady_clock::now();
  EXPECT_FALSE((*relay)->finish(300ms));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
  EXPECT_TRUE((*relay)->closed());
  EXPECT_GE(reports.load(), 2);
}

TEST_F(RelayTest, AServerWithoutRelaysEndsTheLingeringAtOnce) {
  auto relay = Relay::start(m_, disk("a"), {}, {});
  ASSERT_TRUE(relay);
  (*relay)->linger([](const proto::RelayReport&) -> Result<proto::RelayAck> {
    return make_error(Errc::not_found, "server answered 404");
  });
  for (int i = 0; i < 100 && !(*relay)->closed(); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE((*relay)->closed());
  EXPECT_FALSE((*relay)->finish(0ms));
}

// A chain: laptop A deploys from the server and relays; laptop B, assigned A as its source
// from the start, fetches every chunk from A while A is still deploying: a request per chunk,
// or (given the order) as one stream.
void RelayTest::chain(bool streamed) {
  std::atomic<int> served{0};
  HttpTestServer server([&](const ReceivedRequest& r) {
    ++served;
    CannedReply c = chunk_reply(r);
    c.delay = 20ms;  // A is slower than its link to B: B waits for each chunk
    return c;
  });
  auto dev_a = disk("a");
  RelayOptions ro;
  ro.server.address = "127.0.0.1";
  auto relay = Relay::start(m_, dev_a, {}, ro);
  ASSERT_TRUE(relay);

  std::atomic<bool> stop{false};
  ScheduledSourceOptions so_b;
  so_b.server = server.url();
  so_b.stop = &stop;
  if (streamed) {
    for (const std::size_t i : m_.data_extents()) so_b.order.push_back(*m_.extents[i].sha256);
  }
  ScheduledChunkSource source_b(so_b);
  proto::SourceAssignment a_as_peer;
  a_as_peer.kind = proto::SourceAssignment::Kind::peer;
  a_as_peer.peer = 1;
  a_as_peer.url = "http://127.0.0.1:" + std::to_string((*relay)->port());
  a_as_peer.epoch = 1;
  source_b.assign(a_as_peer);

  std::thread b([&] {
    auto dev_b = disk("b");
    DeployOptions o;
    o.stop = &stop;
    auto r = deploy_image(m_, source_b, *dev_b, o);
    EXPECT_TRUE(r) << r.error().message;
  });
  ScheduledSourceOptions so_a;
  so_a.server = server.url();
  so_a.stop = &stop;
  ScheduledChunkSource source_a(so_a);
  DeployOptions o;
  o.after_put = [&](std::size_t item, std::span<const std::byte> frame) {
    (*relay)->held(item, frame);
  };
  auto r = deploy_image(m_, source_a, *dev_a, o);
  ASSERT_TRUE(r) << r.error().message;
  b.join();
  EXPECT_TRUE(holds_image("a"));
  EXPECT_TRUE(holds_image("b"));
  EXPECT_EQ(served.load(), static_cast<int>(m_.data_chunk_count()));  // only A's fetches
  EXPECT_EQ(source_b.bytes_by_source().server, 0u);
  EXPECT_FALSE(source_b.take_failure());
  EXPECT_EQ((*relay)->bytes_served(), source_b.bytes_fetched());
}

TEST_F(RelayTest, APeerDeploysFromAnotherLaptopsRelayWhileThatOneDeploys) { chain(false); }
TEST_F(RelayTest, APeerStreamsFromAnotherLaptopsRelayWhileThatOneDeploys) { chain(true); }

}  // namespace
}  // namespace revive::agent
