// The scheduled chunk source against real HTTP: a fake server and fake peers (HttpTestServer)
// serving the chunks of a real image store, with faults the tests inject. Every chunk still
// goes through the real pipeline (deploy_image), which checks it against the manifest.

#include "revive/agent/transport/scheduled_chunk_source.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "http_test_server.hpp"
#include "revive/agent/deploy.hpp"
#include "revive/agent/transport/chunk_stream.hpp"
#include "revive/image_ops.hpp"
#include "revive/image_store.hpp"
#include "temp_dir.hpp"
#include "test_files.hpp"
#include "test_image.hpp"

namespace revive::agent {
namespace {

namespace fs = std::filesystem;
namespace proto = revive::protocol;
using Kind = proto::SourceAssignment::Kind;
using test::CannedReply;
using test::HttpTestServer;
using test::ReceivedRequest;

proto::SourceAssignment peer_at(std::int64_t peer, const std::string& url, std::int64_t epoch) {
  proto::SourceAssignment a;
  a.kind = Kind::peer;
  a.peer = peer;
  a.url = url;
  a.epoch = epoch;
  return a;
}

proto::SourceAssignment server_at(std::int64_t epoch) {
  proto::SourceAssignment a;
  a.kind = Kind::server;
  a.epoch = epoch;
  return a;
}

class ScheduledSource : public ::testing::Test {
 protected:
  void SetUp() override {
    auto img = test::make_test_image(dir_.path(), 6, 7);
    ASSERT_TRUE(img) << img.error().message;
    store_ = std::move(img->store);
    src_ = img->raw;
    m_ = img->manifest;
    disk_ = dir_ / "disk";
    test::make_sparse(disk_, 1 << 20);
  }

  // The stored frame of the chunk a request names, or 404.
  CannedReply chunk_reply(const ReceivedRequest& r) const {
    const auto d = parse_digest(std::string_view(r.target).substr(std::string("/chunks/").size()));
    std::vector<std::byte> frame;
    if (!d || !store_->chunks().read(*d, frame, kMaxChunkSize * 2)) return {404, "no such chunk"};
    return {200, std::string(reinterpret_cast<const char*>(frame.data()), frame.size())};
  }

  ScheduledSourceOptions options(const std::string& server) {
    ScheduledSourceOptions o;
    o.server = server;
    o.peer_first_byte_timeout = std::chrono::milliseconds(1500);
    o.peer_stall_timeout = std::chrono::milliseconds(400);
    o.replan_wait = std::chrono::milliseconds(300);
    o.stop = &stop_;
    return o;
  }

  // Streams every chunk the pipeline asks for (the data extents in order).
  ScheduledSourceOptions streaming(const std::string& server) {
    ScheduledSourceOptions o = options(server);
    for (const std::size_t i : m_.data_extents()) o.order.push_back(*m_.extents[i].sha256);
    return o;
  }

  // A relay's chunk stream from data extent `from` on, with data extent `corrupt` (if any)
  // flipped.
  std::string stream_body(std::optional<std::size_t> corrupt = std::nullopt,
                          std::size_t from = 0) const {
    std::string body;
    std::set<Digest> sent;
    const auto data = m_.data_extents();
    for (std::size_t k = from; k < data.size(); ++k) {
      const Digest& d = *m_.extents[data[k]].sha256;
      if (!sent.insert(d).second) continue;
      std::vector<std::byte> frame;
      EXPECT_TRUE(store_->chunks().read(d, frame, kMaxChunkSize * 2));
      if (corrupt == k) frame[frame.size() / 2] ^= std::byte{1};
      const auto head = chunk_stream::encode({d, static_cast<std::uint32_t>(frame.size()), 0});
      body.append(reinterpret_cast<const char*>(head.data()), head.size());
      body.append(reinterpret_cast<const char*>(frame.data()), frame.size());
    }
    return body;
  }

  // Deploys through `source` from peer 9 at `peer_url`; the disk must end up right whatever the
  // peer did. The failure reported, if any.
  std::optional<proto::SourceFailure> deploy_from_peer(ScheduledChunkSource& source,
                                                       const std::string& peer_url) {
    EXPECT_TRUE(source.assign(peer_at(9, peer_url, 1)));
    auto r = deploy(source);
    EXPECT_TRUE(r) << r.error().message;
    EXPECT_TRUE(disk_holds_image());  // a bad frame never reaches the disk
    return source.take_failure();
  }

  Result<DeployReport> deploy(ScheduledChunkSource& source) {
    auto dev = open_block_device(disk_);
    if (!dev) return dev.error();
    DeployOptions o;
    o.outage_timeout = std::chrono::seconds(5);
    o.stop = &stop_;
    return deploy_image(m_, source, **dev, o);
  }

  // A peer streams the whole image: one request brings every distinct chunk (a repeat is
  // asked for alone), nothing comes from the server, the disk ends up right.
  void expect_one_stream_request_from_a_peer() {
    HttpTestServer server([&](const ReceivedRequest& r) { return chunk_reply(r); });
    const std::string body = stream_body();
    HttpTestServer peer([&](const ReceivedRequest& r) {
      return r.target == "/stream/0" ? CannedReply{200, body} : chunk_reply(r);
    });
    ScheduledChunkSource source(streaming(server.url()));
    EXPECT_FALSE(deploy_from_peer(source, peer.url()));
    EXPECT_EQ(source.bytes_by_source().server, 0u);
    EXPECT_EQ(source.bytes_by_source().by_peer.at(9), source.bytes_fetched());
    const auto requests = peer.requests();
    ASSERT_FALSE(requests.empty());
    EXPECT_EQ(requests.front().target, "/stream/0");
    EXPECT_EQ(requests.size(), 1 + repeated_chunks());
  }

  // Data extents whose chunk an earlier extent has too: a stream sends each chunk once.
  std::size_t repeated_chunks() const {
    std::set<Digest> distinct;
    for (const std::size_t i : m_.data_extents()) distinct.insert(*m_.extents[i].sha256);
    return m_.data_extents().size() - distinct.size();
  }

  bool disk_holds_image() {
    auto disk = test::read_all(disk_);
    const auto img = test::read_all(src_);
    disk.resize(img.size());
    return disk == img;
  }

  test::TempDir dir_;
  std::unique_ptr<ImageStore> store_;
  fs::path src_, disk_;
  Manifest m_;
  std::atomic<bool> stop_{false};
};

TEST_F(ScheduledSource, FetchesFromTheServerUntilAPeerIsAssignedThenFromThePeer) {
  HttpTestServer server([&](const ReceivedRequest& r) { return chunk_reply(r); });
  HttpTestServer peer([&](const ReceivedRequest& r) { return chunk_reply(r); });
  ScheduledChunkSource source(options(server.url()));
  EXPECT_EQ(source.source_label(), "server");
  const Digest first = *m_.extents[0].sha256;
  std::vector<std::byte> frame;
  ASSERT_TRUE(source.fetch(first, frame));
  EXPECT_EQ(server.requests().size(), 1u);

  ASSERT_TRUE(source.assign(peer_at(7, peer.url(), 1)));
  EXPECT_EQ(source.source_label(), "peer 7");
  auto r = deploy(source);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(disk_holds_image());
  EXPECT_EQ(server.requests().size(), 1u);  // nothing more from the server
  EXPECT_EQ(peer.requests().size(), m_.data_chunk_count());
  const SourceBytes b = source.bytes_by_source();
  EXPECT_EQ(b.server, frame.size());
  EXPECT_EQ(b.peers, b.by_peer.at(7));
  EXPECT_EQ(source.bytes_fetched(), b.server + b.peers);
  EXPECT_EQ(source.bytes_arrived(), source.bytes_fetched()) << "every answer was whole";
  EXPECT_FALSE(source.take_failure());
}

TEST_F(ScheduledSource, AnOlderOrRepeatedEpochIsIgnored) {
  HttpTestServer server([&](const ReceivedRequest& r) { return chunk_reply(r); });
  ScheduledChunkSource source(options(server.url()));
  ASSERT_TRUE(source.assign(peer_at(7, "http://127.0.0.1:9", 5)));
  EXPECT_FALSE(source.assign(server_at(4)));
  EXPECT_FALSE(source.assign(server_at(5)));
  EXPECT_EQ(source.source_label(), "peer 7");
  EXPECT_TRUE(source.assign(server_at(6)));
  EXPECT_EQ(source.source_label(), "server");
  EXPECT_EQ(source.replans(), 2u);
}

// A link-local peer is reached through this laptop's own interface: the one its server URL
// names. Other addresses, and peers already zoned, are used as the server wrote them.
TEST_F(ScheduledSource, ALinkLocalPeerGetsTheZoneOfTheServersUrl) {
  struct Case {
    std::string server, peer, used;
  };
  const Case cases[] = {
      {"http://[fe80::1%25enp3s0]:8080", "http://[fe80::7]:4100", "http://[fe80::7%25enp3s0]:4100"},
      {"http://[fe80::1%25enp3s0]:8080", "http://[FEB0::7]:4100", "http://[FEB0::7%25enp3s0]:4100"},
      {"http://[fe80::1%25enp3s0]:8080", "http://[fe80::7%25eth1]:4100",
       "http://[fe80::7%25eth1]:4100"},
      {"http://[fe80::1%25enp3s0]:8080", "http://[fec0::7]:4100", "http://[fec0::7]:4100"},
      {"http://[fe80::1%25enp3s0]:8080", "http://[2001:db8::7]:4100", "http://[2001:db8::7]:4100"},
      {"http://[fe80::1%25enp3s0]:8080", "http://10.0.0.7:4100", "http://10.0.0.7:4100"},
      {"http://[2001:db8::1]:8080", "http://[fe80::7]:4100", "http://[fe80::7]:4100"},
      {"http://10.0.0.1:8080", "http://[fe80::7]:4100", "http://[fe80::7]:4100"},
  };
  for (const Case& c : cases) {
    ScheduledChunkSource source(options(c.server));
    ASSERT_TRUE(source.assign(peer_at(7, c.peer, 1)));
    EXPECT_EQ(source.describe(), "from peer 7 (" + c.used + ")") << c.server << " " << c.peer;
  }
}

TEST_F(ScheduledSource, ARefusedConnectionIsReportedOnceAndTheServerTakesOverWithoutAReplan) {
  HttpTestServer server([&](const ReceivedRequest& r) { return chunk_reply(r); });
  // A port nobody listens on: the peer died (a laptop killed mid-deploy).
  std::string dead;
  {
    HttpTestServer gone([](const ReceivedRequest&) { return CannedReply{200, ""}; });
    dead = gone.url();
  }
  ScheduledChunkSource source(options(server.url()));
  ASSERT_TRUE(source.assign(peer_at(3, dead, 1)));
  auto r = deploy(source);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(disk_holds_image());
  auto failure = source.take_failure();
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure->peer, 3);
  EXPECT_FALSE(failure->bad_chunk);
  EXPECT_NE(failure->reason.find(dead), std::string::npos) << failure->reason;
  EXPECT_EQ(source.failures(), 1u);  // four workers saw it; one report
  EXPECT_FALSE(source.take_failure());
  // The report carrying it did not reach the server: it goes with the next one.
  source.unreport(*failure);
  ASSERT_TRUE(source.failure_pending());
  EXPECT_EQ(source.take_failure()->peer, 3);
  EXPECT_EQ(source.bytes_by_source().peers, 0u);
  EXPECT_EQ(server.requests().size(), m_.data_chunk_count());
}

TEST_F(ScheduledSource, AReplanWhileWaitingSwitchesAtOnce) {
  HttpTestServer server([&](const ReceivedRequest& r) { return chunk_reply(r); });
  HttpTestServer good([&](const ReceivedRequest& r) { return chunk_reply(r); });
  auto o = options(server.url());
  o.replan_wait = std::chrono::seconds(30);  // only the re-plan can unblock the workers
  ScheduledChunkSource source(o);
  ASSERT_TRUE(source.assign(peer_at(3, "http://127.0.0.1:1", 1)));
  std::thread replanner([&] {
    while (!source.failure_pending()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    auto f = source.take_failure();  // what the deploy step's next report carries
    EXPECT_EQ(f->peer, 3);
    source.assign(peer_at(4, good.url(), 2));
  });
  const auto started = std::chrono::steady_clock::now();
  auto r = deploy(source);
  replanner.join();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  EXPECT_TRUE(disk_holds_image());
  EXPECT_EQ(source.bytes_by_source().by_peer.at(4), source.bytes_fetched());
  EXPECT_TRUE(server.requests().empty());
}

TEST_F(ScheduledSource, APeerServingABadChunkIsBlamedAndNeverUsedAgain) {
  HttpTestServer server([&](const ReceivedRequest& r) { return chunk_reply(r); });
  const std::string victim = "/chunks/" + digest_hex(*m_.extents[2].sha256);
  HttpTestServer liar([&](const ReceivedRequest& r) {
    CannedReply c = chunk_reply(r);
    if (r.target == victim) c.body[c.body.size() / 2] ^= 1;  // a frame of the right size, wrong
    return c;
  });
  ScheduledChunkSource source(options(server.url()));
  ASSERT_TRUE(source.assign(peer_at(9, liar.url(), 1)));
  auto r = deploy(source);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(disk_holds_image());  // the bad frame never reached the disk
  auto failure = source.take_failure();
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure->peer, 9);
  EXPECT_TRUE(failure->bad_chunk);
  EXPECT_NE(failure->reason.find(digest_hex(*m_.extents[2].sha256)), std::string::npos);
  // The server (lagging) names the liar again: refused, reported again, the server serves.
  const auto before = liar.requests().size();
  ASSERT_TRUE(source.assign(peer_at(9, liar.url(), 2)));
  auto again = source.take_failure();
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->bad_chunk);
  std::vector<std::byte> frame;
  ASSERT_TRUE(source.fetch(*m_.extents[2].sha256, frame));
  EXPECT_EQ(liar.requests().size(), before);
}

TEST_F(ScheduledSource, APeerStreamsEveryChunkOverOneRequest) {
  expect_one_stream_request_from_a_peer();
}

// An image cut by content (a recipe build's) has many small chunks, which the stream brings
// faster than the workers take them. A worker that asked for the chunk the stream had just
// received, while that chunk waited for room in the buffer, used to ask for it alone (about
// half the runs of an image this size).
TEST_F(ScheduledSource, ManySmallChunksStreamOverOneRequestToo) {
  test::TempDir dir;
  auto img = test::make_test_image(dir.path(), 48, 11, true);
  ASSERT_TRUE(img) << img.error().message;
  store_ = std::move(img->store);
  src_ = img->raw;
  m_ = img->manifest;
  ASSERT_GT(m_.data_chunk_count(), 96u) << "4-64 KiB pieces";
  test::make_sparse(disk_, 4 << 20);
  for (int round = 0; round < 5; ++round) expect_one_stream_request_from_a_peer();
}

// The server streams the image to the laptop it feeds, as a relay does to its child: one
// request, with the agent's credentials (the stream's order is the manifest's).
TEST_F(ScheduledSource, TheServerStreamsTheImageWithTheAgentsCredentials) {
  const std::string body = stream_body();
  HttpTestServer server([&](const ReceivedRequest& r) {
    if (!r.target.starts_with("/api/v1/images/")) return chunk_reply(r);
    if (r.headers.count("authorization") == 0 || r.headers.at("authorization") != "Bearer t")
      return CannedReply{401, "token required"};
    return r.target == "/api/v1/images/img/stream/0" ? CannedReply{200, body}
                                                     : CannedReply{404, "no such stream"};
  });
  ScheduledSourceOptions o = streaming(server.url());
  o.server_stream = server.url() + chunk_stream::image_stream_base("img");
  o.server_headers = {"Authorization: Bearer t"};
  ScheduledChunkSource source(std::move(o));
  ASSERT_TRUE(source.assign(server_at(1)));
  auto r = deploy(source);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(disk_holds_image());
  EXPECT_EQ(source.bytes_by_source().server, source.bytes_fetched());
  EXPECT_FALSE(source.take_failure());
  const auto requests = server.requests();
  ASSERT_FALSE(requests.empty());
  EXPECT_EQ(requests.front().target, "/api/v1/images/img/stream/0");
  EXPECT_EQ(requests.size(), 1 + repeated_chunks()) << "a repeat is asked for alone, nothing else";
}

// A server stream that goes wrong (an older server without streams, a frame that fails its
// check, a stream cut off) costs nothing but the stream: the chunks come one request each, and
// no failure is reported (the server is no peer to replace).
TEST_F(ScheduledSource, AServerStreamThatFailsLeavesAChunkAtATimeFromTheServer) {
  const std::string whole = stream_body();
  const std::string bodies[] = {"", stream_body(2), whole.substr(0, whole.size() / 2 + 7)};
  for (const std::string& body : bodies) {
    HttpTestServer server([&](const ReceivedRequest& r) {
      if (!r.target.starts_with("/api/v1/images/")) return chunk_reply(r);
      return body.empty() ? CannedReply{404, "no route"} : CannedReply{200, body};
    });
    ScheduledSourceOptions o = streaming(server.url());
    o.server_stream = server.url() + chunk_stream::image_stream_base("img");
    ScheduledChunkSource source(std::move(o));
    ASSERT_TRUE(source.assign(server_at(1)));
    auto r = deploy(source);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(disk_holds_image()) << body.size();
    EXPECT_FALSE(source.take_failure());
    EXPECT_EQ(source.bytes_by_source().server, source.bytes_fetched());
    const auto requests = server.requests();
    EXPECT_TRUE(std::any_of(requests.begin(), requests.end(), [](const auto& q) {
      return q.target.starts_with("/chunks/");
    })) << body.size();
  }
}

// Moved from the server to a peer mid-deploy: the stream starts at the first chunk it still
// needs. (It used to start at 0, fill its buffer with chunks the server had brought, and wait
// for ever: bench/workshop.sh, a head moved behind the tail.)
TEST_F(ScheduledSource, AStreamStartsAtTheFirstChunkNotFetchedYet) {
  HttpTestServer server([&](const ReceivedRequest& r) { return chunk_reply(r); });
  HttpTestServer peer([&](const ReceivedRequest& r) {
    if (!r.target.starts_with("/stream/")) return chunk_reply(r);
    return CannedReply{200, stream_body(std::nullopt, std::stoul(r.target.substr(8)))};
  });
  ScheduledChunkSource source(streaming(server.url()));
  ASSERT_TRUE(source.assign(server_at(1)));
  const auto data = m_.data_extents();
  std::vector<std::byte> frame;
  for (std::size_t k = 0; k < 3; ++k) ASSERT_TRUE(source.fetch(*m_.extents[data[k]].sha256, frame));
  ASSERT_TRUE(source.assign(peer_at(9, peer.url(), 2)));
  for (std::size_t k = 3; k < data.size(); ++k) {
    ASSERT_TRUE(source.fetch(*m_.extents[data[k]].sha256, frame)) << k;
  }
  ASSERT_FALSE(peer.requests().empty());
  EXPECT_EQ(peer.requests().front().target, "/stream/3");
  EXPECT_FALSE(source.take_failure());
}

TEST_F(ScheduledSource, AStreamCarryingABadChunkIsBlamedAndTheServerTakesOver) {
  HttpTestServer server([&](const ReceivedRequest& r) { return chunk_reply(r); });
  const std::string body = stream_body(2);
  HttpTestServer liar([&](const ReceivedRequest& r) {
    return r.target == "/stream/0" ? CannedReply{200, body} : chunk_reply(r);
  });
  ScheduledChunkSource source(streaming(server.url()));
  const auto failure = deploy_from_peer(source, liar.url());
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure->peer, 9);
  EXPECT_TRUE(failure->bad_chunk);
  EXPECT_NE(failure->reason.find(digest_hex(*m_.extents[m_.data_extents()[2]].sha256)),
            std::string::npos)
      << failure->reason;
  EXPECT_GT(source.bytes_by_source().server, 0u);  // the rest came from the server
}

TEST_F(ScheduledSource, AStreamCutOffMidRecordFailsThePeer) {
  HttpTestServer server([&](const ReceivedRequest& r) { return chunk_reply(r); });
  const std::string body = stream_body();
  const std::string cut = body.substr(0, body.size() / 2 + 7);  // inside a record
  HttpTestServer broken([&](const ReceivedRequest& r) {
    return r.target == "/stream/0" ? CannedReply{200, cut} : chunk_reply(r);
  });
  ScheduledChunkSource source(streaming(server.url()));
  const auto failure = deploy_from_peer(source, broken.url());
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure->peer, 9);
  EXPECT_FALSE(failure->bad_chunk);
  EXPECT_NE(failure->reason.find("cut off"), std::string::npos) << failure->reason;
}

TEST_F(ScheduledSource, APeerThatStallsMidChunkIsReported) {
  HttpTestServer server([&](const ReceivedRequest& r) { return chunk_reply(r); });
  HttpTestServer frozen([&](const ReceivedRequest& r) {
    CannedReply c = chunk_reply(r);
    c.stall_after = 100;
    return c;
  });
  ScheduledChunkSource source(options(server.url()));
  ASSERT_TRUE(source.assign(peer_at(5, frozen.url(), 1)));
  const auto started = std::chrono::steady_clock::now();
  auto r = deploy(source);
  ASSERT_TRUE(r) << r.error().message;
  // Stall noticed within the stall timeout and libcurl's one-second check, then replan_wait.
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(4));
  EXPECT_TRUE(disk_holds_image());
  auto failure = source.take_failure();
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure->peer, 5);
  EXPECT_NE(failure->reason.find("stalled"), std::string::npos) << failure->reason;
  // The link's rate counts what arrived, the frozen peer's first bytes too.
  EXPECT_GE(source.bytes_arrived(), source.bytes_fetched() + 100);
}

TEST_F(ScheduledSource, APeerThatKeepsNotHavingTheChunkCountsAsStalled) {
  HttpTestServer server([&](const ReceivedRequest& r) { return chunk_reply(r); });
  HttpTestServer empty([](const ReceivedRequest&) { return CannedReply{503, "not here yet\n"}; });
  ScheduledChunkSource source(options(server.url()));
  ASSERT_TRUE(source.assign(peer_at(6, empty.url(), 1)));
  auto r = deploy(source);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(disk_holds_image());
  auto failure = source.take_failure();
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure->peer, 6);
  EXPECT_FALSE(failure->bad_chunk);
  EXPECT_TRUE(failure->reason.starts_with("stalled")) << "it answers: " << failure->reason;
  EXPECT_GE(empty.requests().size(), 3u);
}

// A parent the plan put behind this laptop answers 503 until it catches up, but says it is
// filling (it gained chunks meanwhile): more of those than the busy limit are waited out.
TEST_F(ScheduledSource, APeerThatIsStillFillingIsWaitedFor) {
  HttpTestServer server([&](const ReceivedRequest& r) { return chunk_reply(r); });
  std::atomic<int> asked{0};
  const std::string filling = std::string(proto::kRelayStateHeader) + ": " + proto::kRelayFilling;
  HttpTestServer behind([&](const ReceivedRequest& r) {
    if (++asked <= 10) return CannedReply{503, "not here yet\n", {filling}};
    return chunk_reply(r);
  });
  ScheduledChunkSource source(options(server.url()));
  ASSERT_TRUE(source.assign(peer_at(8, behind.url(), 1)));
  auto r = deploy(source);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(disk_holds_image());
  EXPECT_FALSE(source.take_failure()) << "a peer gaining chunks is not stalled";
  EXPECT_TRUE(server.requests().empty());
  EXPECT_EQ(source.bytes_by_source().peers, source.bytes_fetched());
}

// ... but only so long: a peer that only claims to fill cannot hold a laptop up for ever.
TEST_F(ScheduledSource, APeerThatClaimsToFillForEverCountsAsStalled) {
  HttpTestServer server([&](const ReceivedRequest& r) { return chunk_reply(r); });
  const std::string filling = std::string(proto::kRelayStateHeader) + ": " + proto::kRelayFilling;
  HttpTestServer claims([&](const ReceivedRequest&) {
    return CannedReply{503, "not here yet\n", {filling}};
  });
  ScheduledSourceOptions o = options(server.url());
  o.peer_filling_limit = 6;
  ScheduledChunkSource source(o);
  ASSERT_TRUE(source.assign(peer_at(9, claims.url(), 1)));
  auto r = deploy(source);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(disk_holds_image());
  auto failure = source.take_failure();
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure->peer, 9);
  EXPECT_GE(claims.requests().size(), 6u);
}

TEST_F(ScheduledSource, QueuedWaitsForItsTurnAndTheStopFlagEndsTheWait) {
  HttpTestServer server([&](const ReceivedRequest& r) { return chunk_reply(r); });
  ScheduledChunkSource source(options(server.url()));
  proto::SourceAssignment queued;
  queued.kind = Kind::queued;
  queued.place = 2;
  queued.reason = "the server's port is busy";
  queued.epoch = 1;
  ASSERT_TRUE(source.assign(queued));
  EXPECT_EQ(source.source_label(), "queued");
  EXPECT_EQ(source.describe(), "queued (place 2): the server's port is busy");
  auto fetched = std::async(std::launch::async, [&] {
    std::vector<std::byte> frame;
    return source.fetch(*m_.extents[0].sha256, frame);
  });
  EXPECT_EQ(fetched.wait_for(std::chrono::milliseconds(500)), std::future_status::timeout);
  EXPECT_TRUE(server.requests().empty());
  source.assign(server_at(2));  // its turn
  ASSERT_EQ(fetched.wait_for(std::chrono::seconds(3)), std::future_status::ready);
  EXPECT_TRUE(fetched.get());

  queued.epoch = 3;
  source.assign(queued);
  auto stopped = std::async(std::launch::async, [&] {
    std::vector<std::byte> frame;
    return source.fetch(*m_.extents[1].sha256, frame);
  });
  stop_ = true;
  ASSERT_EQ(stopped.wait_for(std::chrono::seconds(2)), std::future_status::ready);
  auto r = stopped.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::cancelled);
}

}  // namespace
}  // namespace revive::agent
