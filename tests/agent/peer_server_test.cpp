// The relay side of a deploying agent: a real HTTP server on 127.0.0.1 (libmicrohttpd), asked
// by a real client (libcurl), serving from a RelayStore over a file standing in for the disk.
#include "revive/agent/transport/peer_server.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <gtest/gtest.h>
#include <linux/pkt_sched.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <thread>

#include "revive/agent/deploy.hpp"
#include "revive/agent/transport/chunk_stream.hpp"
#include "revive/agent/transport/relay_store.hpp"
#include "revive/zstd_codec.hpp"
#include "temp_dir.hpp"
#include "test_files.hpp"

namespace revive::agent {
namespace {

using namespace std::chrono_literals;

constexpr std::uint64_t kChunk = 64 << 10;

struct Answer {
  long status = 0;
  std::string body;
  std::string headers;
};

extern "C" size_t append(char* p, size_t size, size_t n, void* ud) {
  static_cast<std::string*>(ud)->append(p, size * n);
  return size * n;
}

class Client {
 public:
  Client() : curl_(curl_easy_init()) {}
  ~Client() { curl_easy_cleanup(curl_); }
  Answer get(const std::string& url, const char* range = nullptr, bool post = false) {
    Answer a;
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, append);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &a.body);
    curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, append);
    curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &a.headers);
    curl_easy_setopt(curl_, CURLOPT_RANGE, range);
    if (post) curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, "x");
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT, 10L);
    if (curl_easy_perform(curl_) == CURLE_OK) {
      curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &a.status);
    }
    return a;
  }
  long new_connections() {
    long n = 0;
    curl_easy_getinfo(curl_, CURLINFO_NUM_CONNECTS, &n);
    return n;
  }

 private:
  CURL* curl_;
};

std::string text(const std::vector<std::byte>& b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// An image of three data chunks and a hole, its frames, and a disk file holding it.
class PeerServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ZstdCompressor z(3);
    m_.chunk_size = kChunk;
    for (int i = 0; i < 4; ++i) {
      Extent e{static_cast<std::uint64_t>(i) * kChunk, kChunk, std::nullopt, 0};
      if (i != 2) {
        raw_.push_back(test::compressible_bytes(kChunk, 10 + i));
        e.sha256 = sha256(raw_.back());
        frames_.emplace_back();
        ASSERT_TRUE(z.compress(raw_.back(), frames_.back()));
        e.stored_size = frames_.back().size();
        test::write_at(disk_path_, raw_.back(), e.offset);
      }
      m_.extents.push_back(e);
    }
    m_.logical_size = 4 * kChunk;
    auto dev = open_block_device(disk_path_);
    ASSERT_TRUE(dev);
    disk_ = std::move(*dev);
  }

  void serve(RelayStoreOptions so = {}, PeerServerOptions po = {}) {
    store_ = std::make_unique<RelayStore>(m_, disk_.get(), so);
    po.address = "127.0.0.1";
    auto s = PeerServer::start(*store_, po);
    ASSERT_TRUE(s) << s.error().message;
    server_ = std::move(*s);
  }
  Frame frame(std::size_t i) { return std::make_shared<std::vector<std::byte>>(frames_[i]); }
  std::string url(std::size_t i) { return url_for(digest_hex(*m_.extents[i == 2 ? 3 : i].sha256)); }
  std::string url_for(const std::string& name) {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + "/chunks/" + name;
  }

  test::TempDir dir_;
  std::filesystem::path disk_path_ = dir_ / "disk";
  Manifest m_;
  std::vector<std::vector<std::byte>> raw_, frames_;  // by data-extent index
  std::unique_ptr<BlockDevice> disk_;
  std::unique_ptr<RelayStore> store_;
  std::unique_ptr<PeerServer> server_;
};

TEST_F(PeerServerTest, ServesAVerifiedChunkFromTheCacheOverOneKeptAliveConnection) {
  serve();
  store_->mark_held(0, frame(0));
  store_->mark_held(1, frame(1));
  Client c;
  Answer a = c.get(url(0));
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, text(frames_[0]));
  a = c.get(url(1));
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, text(frames_[1]));
  EXPECT_EQ(c.new_connections(), 0) << "the second request reused the connection: " << a.headers;
  EXPECT_EQ(server_->stats().chunks_served, 2u);
  EXPECT_EQ(store_->stats().cache_hits, 2u);
}

// reno is built into every kernel and allowed to any process; a name the kernel does not know
// leaves the connection on the default, and it is still served.
TEST_F(PeerServerTest, PeersConnectionsGetTheAskedCongestionControlOrKeepTheDefault) {
  PeerServerOptions po;
  po.congestion_control = "reno";
  serve({}, po);
  store_->mark_held(0, frame(0));
  EXPECT_EQ(Client().get(url(0)).status, 200);
  EXPECT_EQ(server_->stats().default_congestion, 0u);

  po.congestion_control = "no-such-congestion-control";
  serve({}, po);
  store_->mark_held(0, frame(0));
  const Answer a = Client().get(url(0));
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, text(frames_[0]));
  EXPECT_EQ(server_->stats().default_congestion, 1u);
}

// The relay's uploads wait behind this laptop's own traffic in its transmit queue (its
// download's ACKs above all): every connection it serves is marked bulk.
TEST_F(PeerServerTest, PeersConnectionsAreMarkedBulk) {
  serve();
  store_->mark_held(0, frame(0));
  Client c;  // keeps its connection, so the relay's end of it is still open below
  ASSERT_EQ(c.get(url(0)).status, 200);
  int served = 0;
  for (int fd = 3; fd < 1024; ++fd) {
    sockaddr_in local{}, peer{};
    socklen_t len = sizeof local;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) != 0 ||
        local.sin_family != AF_INET || ntohs(local.sin_port) != server_->port())
      continue;
    len = sizeof peer;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) != 0) continue;  // listening
    int priority = -1;
    len = sizeof priority;
    ASSERT_EQ(::getsockopt(fd, SOL_SOCKET, SO_PRIORITY, &priority, &len), 0);
    EXPECT_EQ(priority, TC_PRIO_BULK);
    ++served;
  }
  EXPECT_EQ(served, 1) << "the relay's end of the client's connection";
}

TEST_F(PeerServerTest, RefusesWhatIsNotAChunkOfThisImage) {
  serve();
  Client c;
  EXPECT_EQ(c.get(url_for(std::string(64, 'a'))).status, 404);
  EXPECT_EQ(c.get(url_for("not-hex")).status, 404);
  EXPECT_EQ(c.get("http://127.0.0.1:" + std::to_string(server_->port()) + "/etc/passwd").status,
            404);
  EXPECT_EQ(c.get(url(0), nullptr, /*post=*/true).status, 405);
  EXPECT_EQ(server_->stats().chunks_served, 0u);
}

TEST_F(PeerServerTest, AChildRightBehindItsParentWaitsForTheChunk) {
  serve();
  std::jthread later([&] {
    std::this_thread::sleep_for(200ms);
    store_->mark_held(1, frame(1));
  });
  Client c;
  const auto started = std::chrono::steady_clock::now();
  Answer a = c.get(url(1));
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, text(frames_[1]));
  EXPECT_GE(std::chrono::steady_clock::now() - started, 150ms);
  EXPECT_EQ(store_->stats().waits, 1u);
}

TEST_F(PeerServerTest, AChunkNotHeldInTimeIsRetryLater) {
  serve({}, {.chunk_wait = 100ms});
  Client c;
  Answer a = c.get(url(0));
  EXPECT_EQ(a.status, 503);
  EXPECT_NE(a.headers.find("Retry-After: 1"), std::string::npos) << a.headers;
  store_->mark_held(0, frame(0));
  store_->close();
  EXPECT_EQ(c.get(url(0)).status, 503) << "a closed store serves nothing";
}

// A relay behind its asker (the plan may put it there) says so: it gained other chunks while
// the request waited. One that gained nothing does not claim to be filling.
TEST_F(PeerServerTest, ARelayGainingChunksWhileARequestWaitsSaysItIsFilling) {
  serve({}, {.chunk_wait = 300ms});
  std::jthread later([&] {
    std::this_thread::sleep_for(100ms);
    store_->mark_held(0, frame(0));
  });
  Client c;
  Answer a = c.get(url(1));
  EXPECT_EQ(a.status, 503);
  EXPECT_NE(a.headers.find("X-Revive-Relay: filling"), std::string::npos) << a.headers;
  later.join();
  a = c.get(url(1));
  EXPECT_EQ(a.status, 503);
  EXPECT_EQ(a.headers.find("X-Revive-Relay"), std::string::npos) << a.headers;
}

TEST_F(PeerServerTest, AChunkThatLeftTheCacheIsReadBackFromTheDiskAndRecompressed) {
  serve({.cache_bytes = 1});  // nothing fits: every chunk is read back
  store_->mark_held(0, frame(0));
  store_->mark_held_range(1, 2);  // from a resumed attempt: on disk, no frame
  Client c;
  for (std::size_t i : {0u, 1u, 2u}) {
    Answer a = c.get(url(i));
    ASSERT_EQ(a.status, 200);
    ZstdDecompressor d;
    std::vector<std::byte> out(kChunk);
    ASSERT_TRUE(d.decompress_exact(std::as_bytes(std::span(a.body)), out));
    EXPECT_EQ(out, raw_[i]);
  }
  EXPECT_EQ(store_->stats().disk_reads, 3u);
}

TEST_F(PeerServerTest, ADiskThatNoLongerHoldsTheVerifiedChunkServesNothing) {
  serve({.cache_bytes = 1});
  store_->mark_held_range(0, 0);
  auto bad = raw_[0];
  bad[100] ^= std::byte{1};
  test::write_at(disk_path_, bad, 0);
  Client c;
  EXPECT_EQ(c.get(url(0)).status, 500);
  EXPECT_EQ(server_->stats().chunks_served, 0u);
}

TEST_F(PeerServerTest, AnswersASingleRange) {
  serve();
  store_->mark_held(0, frame(0));
  Client c;
  Answer a = c.get(url(0), "0-9");
  EXPECT_EQ(a.status, 206);
  EXPECT_EQ(a.body, text(frames_[0]).substr(0, 10));
  EXPECT_NE(a.headers.find("Content-Range: bytes 0-9/" + std::to_string(frames_[0].size())),
            std::string::npos)
      << a.headers;
  EXPECT_EQ(c.get(url(0), "999999999-").status, 416);
}

TEST(RelayStore, ARepeatedChunkIsHeldWhenAnyOfItsExtentsIs) {
  Manifest m;
  m.chunk_size = kChunk;
  const auto data = test::random_bytes(kChunk, 1);
  for (int i = 0; i < 2; ++i) {
    m.extents.push_back({static_cast<std::uint64_t>(i) * kChunk, kChunk, sha256(data), 1});
  }
  RelayStore s(m, nullptr);
  EXPECT_EQ(s.chunk_count(), 2u);
  s.mark_held(1, std::make_shared<std::vector<std::byte>>(std::vector<std::byte>(3)));
  auto f = s.frame_for(sha256(data), 0ms);
  ASSERT_TRUE(f);
  EXPECT_EQ((*f)->size(), 3u);
  EXPECT_EQ(s.held_count(), 1u);
}

namespace stream_test {

struct Record {
  Digest digest{};
  std::vector<std::byte> frame;
  bool keep_alive = false;
};

std::vector<Record> parse_stream(const std::string& body) {
  std::vector<Record> out;
  chunk_stream::Parser p(
      1 << 20,
      [&](const Digest& d, std::vector<std::byte>&& f) -> Result<void> {
        out.push_back({d, std::move(f), false});
        return {};
      },
      [&](bool) -> Result<void> {
        out.push_back({{}, {}, true});
        return {};
      });
  EXPECT_TRUE(p.feed(std::as_bytes(std::span(body.data(), body.size()))));
  EXPECT_TRUE(p.at_record_boundary());
  return out;
}

}  // namespace stream_test

// A chain's child asks once and gets each chunk as its parent verifies it, in the image's order;
// while the parent waits, keep-alive records say so.
TEST_F(PeerServerTest, StreamsTheChunksInOrderAsTheyAreVerified) {
  serve({}, {.stream_keep_alive = 100ms});
  store_->mark_held(0, frame(0));
  std::jthread later([&] {
    std::this_thread::sleep_for(350ms);
    store_->mark_held(1, frame(1));
    store_->mark_held(2, frame(2));
  });
  Client c;
  const std::string base = "http://127.0.0.1:" + std::to_string(server_->port());
  Answer a = c.get(base + "/stream/0");
  ASSERT_EQ(a.status, 200) << a.body;
  const auto records = stream_test::parse_stream(a.body);
  std::vector<std::size_t> chunks;
  int keep_alives = 0;
  for (const auto& r : records) {
    if (r.keep_alive) {
      ++keep_alives;
      continue;
    }
    for (std::size_t i = 0; i < 3; ++i) {
      if (r.digest == *m_.extents[i == 2 ? 3 : i].sha256) {
        chunks.push_back(i);
        EXPECT_EQ(r.frame, frames_[i]);
      }
    }
  }
  EXPECT_EQ(chunks, (std::vector<std::size_t>{0, 1, 2}));
  EXPECT_GE(keep_alives, 2);  // ~350 ms of waiting at 100 ms each
  EXPECT_EQ(server_->stats().chunks_served, 3u);
  // From a later data extent on; positions outside the image are refused.
  a = c.get(base + "/stream/2");
  ASSERT_EQ(a.status, 200);
  ASSERT_EQ(stream_test::parse_stream(a.body).size(), 1u);
  EXPECT_EQ(c.get(base + "/stream/3").status, 404);
  EXPECT_EQ(c.get(base + "/stream/-1").status, 404);
  EXPECT_EQ(c.get(base + "/stream/").status, 404);
}

// A relay whose deploy ended (the disk is about to change) cuts its streams off.
TEST_F(PeerServerTest, AStreamEndsBrokenWhenTheRelayCloses) {
  serve({}, {.stream_keep_alive = 100ms});
  store_->mark_held(0, frame(0));
  std::jthread later([&] {
    std::this_thread::sleep_for(200ms);
    store_->close();
  });
  Client c;
  Answer a = c.get("http://127.0.0.1:" + std::to_string(server_->port()) + "/stream/0");
  // The chunked body has no proper end: curl reports the transfer failed (no status kept), so
  // a child cannot take a cut stream for a finished one.
  EXPECT_EQ(a.status, 0);
  EXPECT_EQ(server_->stats().chunks_served, 1u);
}

}  // namespace
}  // namespace revive::agent
