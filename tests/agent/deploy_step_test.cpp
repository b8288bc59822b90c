// The deploy step through the runner against the scripted fake server: where chunks come from
// follows the source assignments in the answers to its progress reports, failures of a source
// are reported there, and the relay it starts outlives the step until the server releases it.
// Chunks come over real HTTP from fake servers and peers (HttpTestServer) serving a real store.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>

#include "app/certificate_key.hpp"
#include "fake_server_api.hpp"
#include "http_test_server.hpp"
#include "revive/agent/runner.hpp"
#include "revive/image_ops.hpp"
#include "revive/image_store.hpp"
#include "temp_dir.hpp"
#include "test_files.hpp"
#include "test_image.hpp"

namespace revive::agent {
namespace {

namespace fs = std::filesystem;
namespace proto = revive::protocol;
using proto::Json;
using proto::StepKind;
using Kind = proto::SourceAssignment::Kind;
using test::CannedReply;
using test::FakeServerApi;
using test::HttpTestServer;
using test::ReceivedRequest;

const std::string kData = REVIVE_TEST_DATA;

class DeployStep : public ::testing::Test {
 protected:
  void SetUp() override {
    auto img = test::make_test_image(dir_.path(), 10, 5);
    ASSERT_TRUE(img) << img.error().message;
    store_ = std::move(img->store);
    src_ = img->raw;
    m_ = img->manifest;
    server_.manifests["img"] = sign_manifest(m_, store_->key());
    server_.job_key = store_->key();  // one server key signs manifests and jobs
    disk_ = dir_ / "disk";
    test::make_sparse(disk_, 1 << 20);
    opts_.server_api = &server_;
    opts_.root = &root_;
    opts_.exec = &exec_;
    opts_.simulate = true;
    opts_.disk = disk_;
    opts_.server_key = store_->key().public_key();
    opts_.log = [this](const std::string& line) { lines_.push_back(line); };
    opts_.stop = &stop_;
  }

  CannedReply chunk_reply(const ReceivedRequest& r) const {
    const auto d = parse_digest(std::string_view(r.target).substr(std::string("/chunks/").size()));
    std::vector<std::byte> frame;
    if (!d || !store_->chunks().read(*d, frame, kMaxChunkSize * 2)) return {404, "no such chunk"};
    return {200, std::string(reinterpret_cast<const char*>(frame.data()), frame.size())};
  }

  void lying_peer(bool stream);

  Json deploy_params() const {
    return {{"image", "img"}, {"direct_io", false}, {"fit", false}, {"replan_wait_ms", 5000}};
  }

  bool disk_holds_image() {
    auto disk = test::read_all(disk_);
    const auto img = test::read_all(src_);
    disk.resize(img.size());
    return disk == img;
  }

  bool logged(std::string_view text) const {
    return std::any_of(lines_.begin(), lines_.end(),
                       [&](const std::string& l) { return l.find(text) != std::string::npos; });
  }
  std::string log_text() const {
    std::string all;
    for (const auto& l : lines_) all += l + "\n";
    return all;
  }

  std::vector<proto::DeployProgress> deploy_reports() const {
    std::vector<proto::DeployProgress> out;
    for (const auto& p : server_.progress_reports)
      if (p.progress.deploy) out.push_back(*p.progress.deploy);
    return out;
  }

  test::TempDir dir_;
  std::unique_ptr<ImageStore> store_;
  fs::path src_, disk_;
  Manifest m_;
  MachineRoot root_{kData + "/laptops/thinkpad-t480"};
  RecordedExec exec_{root_.path()};
  FakeServerApi server_;
  std::vector<std::string> lines_;
  std::atomic<bool> stop_{false};
  RunnerOptions opts_;
};

// With `peer_stream` the agent first asks the liar for a stream, which it does not serve (404):
// then chunk by chunk, as without.
void DeployStep::lying_peer(bool stream) {
  HttpTestServer chunks([&](const ReceivedRequest& r) { return chunk_reply(r); });
  const std::string victim = "/chunks/" + digest_hex(*m_.extents[4].sha256);
  HttpTestServer liar([&](const ReceivedRequest& r) {
    CannedReply c = chunk_reply(r);
    if (r.target == victim) c.body[c.body.size() / 2] ^= 1;
    return c;
  });
  opts_.server = chunks.url();
  std::optional<proto::SourceFailure> reported;
  server_.on_progress = [&](const proto::ProgressReport& r) {
    proto::ProgressAck ack;
    if (!r.progress.deploy) return ack;
    proto::SourceAssignment a;
    if (r.progress.deploy->source_failed) reported = r.progress.deploy->source_failed;
    if (reported) {
      a.kind = Kind::server;  // the re-plan: the liar is dropped
      a.epoch = 2;
    } else {
      a.kind = Kind::peer;
      a.peer = 9;
      a.url = liar.url();
      a.epoch = 1;
    }
    ack.source = a;
    return ack;
  };
  int relay_reports = 0;
  server_.on_relay = [&](const proto::RelayReport&) {
    return Result<proto::RelayAck>(proto::RelayAck{++relay_reports >= 2});
  };
  Json params = deploy_params();
  params["peer_stream"] = stream;
  server_.next_answers = {FakeServerApi::step(1, StepKind::deploy, params),
                          FakeServerApi::step(2, StepKind::finish, {{"relay_linger_s", 20}}),
                          FakeServerApi::done()};
  ASSERT_EQ(run_workflow(opts_), 0) << log_text();

  EXPECT_TRUE(disk_holds_image());
  ASSERT_EQ(server_.results.size(), 2u);
  const auto& result = server_.results[0].second;
  ASSERT_EQ(result.status, proto::StepStatus::ok) << result.error;
  ASSERT_TRUE(reported);
  EXPECT_EQ(reported->peer, 9);
  EXPECT_TRUE(reported->bad_chunk);
  EXPECT_TRUE(logged("peer 9 chunk " + digest_hex(*m_.extents[4].sha256))) << log_text();
  const Json& sources = result.result["sources"];
  EXPECT_EQ(sources["replans"], 2);
  EXPECT_GT(sources["peer_bytes"].get<std::uint64_t>(), 0u);
  EXPECT_GT(sources["server_bytes"].get<std::uint64_t>(), 0u);
  // One timeline point per chunk on an image this small, in the order they were written.
  const Json& timeline = result.result["timeline"];
  EXPECT_EQ(timeline["every_chunks"], 1);
  EXPECT_EQ(timeline["first_at_chunks"], 1);
  const auto points = timeline["ms"].get<std::vector<std::int64_t>>();
  EXPECT_EQ(points.size(), m_.data_chunk_count());
  EXPECT_TRUE(std::is_sorted(points.begin(), points.end()));
  EXPECT_GT(timeline["start_unix_ms"].get<std::int64_t>(), 0);
  // The server saw what it plans with.
  const auto reports = deploy_reports();
  ASSERT_GE(reports.size(), 2u);
  EXPECT_EQ(reports.front().image_id, m_.image_id);
  EXPECT_EQ(reports.front().chunk_count, m_.data_chunk_count());
  EXPECT_EQ(reports.front().chunks_held, 0u);
  EXPECT_NE(reports.front().relay_port, 0);
  EXPECT_EQ(reports.back().chunks_held, m_.data_chunk_count());
  EXPECT_EQ(reports.back().source, "server");
  // After the step the relay reported until the server released it, before the finish step.
  EXPECT_EQ(server_.relay_report_count(), 2u);
  EXPECT_EQ(server_.relay_reports[0].chunks_held, m_.data_chunk_count());
  EXPECT_TRUE(logged("relay released by the server")) << log_text();
  const auto asked = liar.requests();
  EXPECT_EQ(std::any_of(asked.begin(), asked.end(),
                        [](const auto& r) { return r.target.starts_with("/stream/"); }),
            stream);
}

TEST_F(DeployStep, ALyingPeerIsReportedTheServerReplansAndTheRelayLingersUntilReleased) {
  lying_peer(false);
}
TEST_F(DeployStep, ALyingPeerWithoutStreamsIsAskedChunkByChunkAndReportedAllTheSame) {
  lying_peer(true);
}

// Issue 15, finding 7: the server's certificate key is not the key the live image pins, so a
// manifest signed with it (a leaked certificate key, a mix-up) is refused before the disk changes.
TEST_F(DeployStep, AManifestSignedWithTheCertificateKeyIsRefusedAndNothingIsWritten) {
  // dir_ is laid out as a server's state directory: the store (and its key) in dir_/store.
  auto cert_key = server::load_certificate_key(dir_.path(), store_->key().public_key());
  ASSERT_TRUE(cert_key) << cert_key.error().message;
  server_.manifests["img"] = sign_manifest(m_, *cert_key);
  HttpTestServer chunks([&](const ReceivedRequest& r) { return chunk_reply(r); });
  opts_.server = chunks.url();
  const auto before = test::read_all(disk_);
  server_.next_answers = {FakeServerApi::step(1, StepKind::deploy, deploy_params()),
                          FakeServerApi::done()};
  ASSERT_EQ(run_workflow(opts_), 0) << log_text();
  ASSERT_EQ(server_.results.size(), 1u);
  const auto& result = server_.results[0].second;
  EXPECT_EQ(result.status, proto::StepStatus::failed);
  EXPECT_TRUE(result.error.starts_with("manifest of img refused: ")) << result.error;
  EXPECT_NE(result.error.find(key_id(cert_key->public_key())), std::string::npos) << result.error;
  EXPECT_EQ(test::read_all(disk_), before) << "nothing may be written";
}

TEST_F(DeployStep, AQueuedLaptopWaitsForItsTurnAndAResumeFetchesOnlyWhatIsMissing) {
  std::atomic<int> fetched{0};
  HttpTestServer chunks([&](const ReceivedRequest& r) {
    if (r.target.find("/stream/") != std::string::npos) return CannedReply{404, "no streams"};
    ++fetched;
    return chunk_reply(r);
  });
  opts_.server = chunks.url();
  // Chunks 0-3 were written and flushed by the attempt before the reboot.
  test::write_at(disk_, test::read_all(src_), 0);
  int reports = 0;
  server_.on_progress = [&](const proto::ProgressReport& r) {
    proto::ProgressAck ack;
    if (!r.progress.deploy) return ack;
    proto::SourceAssignment a;
    if (++reports < 3) {
      a.kind = Kind::queued;
      a.place = 1;
      a.epoch = 1;
      EXPECT_EQ(fetched.load(), 0);  // nothing while queued
    } else {
      a.kind = Kind::server;
      a.epoch = 2;
    }
    ack.source = a;
    return ack;
  };
  agent::NextAnswer resumed = FakeServerApi::step(1, StepKind::deploy, deploy_params(), 1, true);
  // As the server hands it back: parsed JSON (numbers unsigned).
  resumed.next.step->checkpoint =
      Json::parse(R"({"image_id": ")" + m_.image_id + R"(", "done": [[0, 3]]})");
  server_.next_answers = {resumed,
                          FakeServerApi::step(2, StepKind::finish, {{"relay_linger_s", 0}}),
                          FakeServerApi::done()};
  ASSERT_EQ(run_workflow(opts_), 0) << log_text();
  EXPECT_TRUE(disk_holds_image());
  EXPECT_EQ(fetched.load(), static_cast<int>(m_.data_chunk_count()) - 4);
  // The server's stream was asked for from the first chunk missing (this one has none).
  const auto requests = chunks.requests();
  const auto streams = std::count_if(requests.begin(), requests.end(), [](const auto& q) {
    return q.target.find("/stream/") != std::string::npos;
  });
  EXPECT_EQ(streams, 1);
  EXPECT_TRUE(std::any_of(requests.begin(), requests.end(),
                          [](const auto& q) { return q.target == "/api/v1/images/img/stream/4"; }));
  // The resumed attempt's timeline starts past the chunks the first attempt held.
  ASSERT_FALSE(server_.results.empty());
  const Json& timeline = server_.results[0].second.result["timeline"];
  EXPECT_EQ(timeline["first_at_chunks"], 5);
  EXPECT_EQ(timeline["ms"].size(), m_.data_chunk_count() - 4);
  EXPECT_TRUE(logged("queued (place 1)")) << log_text();
  const auto deploys = deploy_reports();
  ASSERT_FALSE(deploys.empty());
  EXPECT_EQ(deploys.front().chunks_held, 4u);
  EXPECT_EQ(deploys.front().source, "server");  // before the first answer
  EXPECT_TRUE(std::any_of(deploys.begin(), deploys.end(),
                          [](const auto& d) { return d.source == "queued"; }));
  // No relay route on this fake server: the relay stops at its first report, if the finish
  // step (lingering 0 s) has not closed it before.
  EXPECT_LE(server_.relay_report_count(), 1u);
}

TEST_F(DeployStep, ARelayNeverReleasedStopsBeforeTheDiskChangesAndAtTheFinishStepsLimit) {
  HttpTestServer chunks([&](const ReceivedRequest& r) { return chunk_reply(r); });
  opts_.server = chunks.url();
  server_.on_relay = [](const proto::RelayReport&) {
    return Result<proto::RelayAck>(proto::RelayAck{false});  // a peer might still need it
  };
  server_.next_answers = {FakeServerApi::step(1, StepKind::deploy, deploy_params()),
                          FakeServerApi::step(2, StepKind::deploy, deploy_params()),
                          FakeServerApi::step(3, StepKind::finish, {{"relay_linger_s", 1}}),
                          FakeServerApi::done()};
  const auto started = std::chrono::steady_clock::now();
  ASSERT_EQ(run_workflow(opts_), 0) << log_text();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(20));
  EXPECT_TRUE(disk_holds_image());
  EXPECT_TRUE(logged("stopped relaying: the disk is about to change")) << log_text();
  EXPECT_TRUE(logged("relaying to peers until the server releases this laptop (at most 1 s)"));
  // The finish step gave up waiting for a release after its limit.
  EXPECT_EQ(std::count(lines_.begin(), lines_.end(), "  stopped relaying"), 1) << log_text();
  EXPECT_FALSE(logged("relay released by the server"));
}

}  // namespace
}  // namespace revive::agent
