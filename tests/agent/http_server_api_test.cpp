// HttpServerApi against a real HTTP server on 127.0.0.1: the protocol's paths and bodies, the
// token, typed errors by status, retries while the server is away.

#include "revive/agent/http_server_api.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "http_test_server.hpp"
#include "revive/signed_job.hpp"

namespace revive::agent {
namespace {

namespace proto = revive::protocol;
using proto::Json;
using test::CannedReply;
using test::HttpTestServer;
using test::ReceivedRequest;

const std::string kEnrolled =
    R"({"device_id": 17, "agent_token": "tok17", "new_device": true, "protocol": 1})";

HttpServerApiOptions quick(const std::string& url, std::vector<std::string>* log = nullptr) {
  HttpServerApiOptions o;
  o.server = url + "/";
  o.backoff.first = std::chrono::milliseconds(5);
  o.backoff.max = std::chrono::milliseconds(20);
  if (log != nullptr) o.log = [log](const std::string& line) { log->push_back(line); };
  return o;
}

proto::EnrolRequest laptop() {
  proto::EnrolRequest r;
  r.identity = {"UUID-1", "SERIAL1", "T480", "LENOVO"};
  r.macs = {"02:00:00:00:00:01"};
  r.inventory = Json::object();
  r.boot_token = "boot-1";
  return r;
}

// The job a server signs for device 17's request with nonce "ab12".
std::string signed_wipe_job(const KeyPair& key) {
  proto::Job job;
  job.device = 17;
  job.step = {93,   proto::StepKind::wipe,
              2,    {{"pattern", "prng"}},
              true, Json{{"done", Json::array({Json::array({0, 3})})}}};
  job.nonce = "ab12";
  job.issued_at = 100;
  job.expires_at = 700;
  return proto::sign_job(job, key);
}

TEST(HttpServerApi, EnrolsThenCallsTheProtocolPathsWithItsToken) {
  const auto key = KeyPair::generate();
  const std::string job = signed_wipe_job(key);
  HttpTestServer server([&](const ReceivedRequest& r) -> CannedReply {
    if (r.target == "/api/v1/agents/enrol") return {200, kEnrolled};
    if (r.target == "/api/v1/agents/17/next?wait=5")
      return {200, R"({"state": "step", "job": )" + job + "}"};
    if (r.target == "/api/v1/agents/17/progress") return {200, "{}"};
    if (r.target == "/api/v1/agents/17/steps/93/checkpoint") return {200, "{}"};
    if (r.target == "/api/v1/agents/17/steps/93/result") return {200, R"({"recorded": true})"};
    if (r.target == "/api/v1/agents/17/events") return {200, "{}"};
    if (r.target == "/api/v1/agents/17/certificates")
      return {200, R"([{"cert_id": "c1", "kind": "laptop", "result": "passed", "step": 93,
                        "created_at": 5}])"};
    if (r.target == "/api/v1/images/office/manifest") return {200, "{\"signed\": 1}\n"};
    return {404, R"({"error": "no route"})"};
  });
  HttpServerApi api(quick(server.url()));

  auto enrolled = api.enrol(laptop());
  ASSERT_TRUE(enrolled) << enrolled.error().message;
  EXPECT_EQ(enrolled->device_id, 17);

  auto next = api.next(std::chrono::seconds(5), "ab12");
  ASSERT_TRUE(next) << next.error().message;
  EXPECT_FALSE(next->next.step) << "a step is only ever taken from the checked job";
  EXPECT_LT(next->age.count(), 5);
  // The job arrives as the signed bytes (the JSON on the wire re-serialises to them).
  auto opened = proto::open_job(next->next.job, key.public_key());
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_EQ(opened->step.kind, proto::StepKind::wipe);
  EXPECT_EQ(opened->step.attempt, 2);
  EXPECT_TRUE(opened->step.resumed);
  EXPECT_EQ(opened->step.params["pattern"], "prng");
  ASSERT_TRUE(opened->step.checkpoint);

  proto::ProgressReport p;
  p.step = 93;
  p.progress.stage = "overwrite";
  p.progress.bytes_done = 1;
  p.progress.bytes_total = 2;
  EXPECT_TRUE(api.progress(p));
  EXPECT_TRUE(api.checkpoint(93, {2, Json{{"done", Json::array()}}}));
  auto ack = api.result(93, {2, proto::StepStatus::ok, Json{{"drives", Json::array()}}, ""});
  ASSERT_TRUE(ack) << ack.error().message;
  EXPECT_TRUE(ack->recorded);
  EXPECT_TRUE(api.events({Json::array({Json{{"level", "warn"}, {"message", "hot"}}})}));
  auto certs = api.certificates();
  ASSERT_TRUE(certs) << certs.error().message;
  ASSERT_EQ(certs->size(), 1u);
  EXPECT_EQ((*certs)[0].cert_id, "c1");
  auto manifest = api.manifest_text("office");
  ASSERT_TRUE(manifest) << manifest.error().message;
  EXPECT_EQ(*manifest, "{\"signed\": 1}\n");  // byte for byte: the signature is over these

  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 8u);
  EXPECT_EQ(reqs[0].headers.count("authorization"), 0u);
  const Json enrol_body = Json::parse(reqs[0].body);
  EXPECT_EQ(enrol_body["identity"]["serial"], "SERIAL1");
  EXPECT_EQ(enrol_body["boot_token"], "boot-1");
  for (std::size_t i = 1; i < reqs.size(); ++i) {
    EXPECT_EQ(reqs[i].headers.at("authorization"), "Bearer tok17") << reqs[i].target;
  }
  EXPECT_EQ(Json::parse(reqs[1].body), (Json{{"nonce", "ab12"}}));
  const Json progress_body = Json::parse(reqs[2].body);
  EXPECT_EQ(progress_body["step"], 93);
  EXPECT_EQ(progress_body["progress"]["stage"], "overwrite");
  const Json result_body = Json::parse(reqs[4].body);
  EXPECT_EQ(result_body["status"], "ok");
  EXPECT_EQ(result_body["attempt"], 2);
  EXPECT_EQ(reqs[6].method, "GET");
  EXPECT_EQ(reqs[7].method, "GET");
  EXPECT_EQ(server.connections(), 1);  // one keep-alive connection for the whole session
}

TEST(HttpServerApi, AStepWithoutASignedJobIsInvalidInput) {
  // What a server before signed jobs (or a rogue one) sends: a plain step.
  HttpTestServer server([](const ReceivedRequest& r) -> CannedReply {
    if (r.target == "/api/v1/agents/enrol") return {200, kEnrolled};
    return {200, R"({"state": "step", "step": {"id": 4, "kind": "wipe", "attempt": 1}})"};
  });
  HttpServerApi api(quick(server.url()));
  ASSERT_TRUE(api.enrol(laptop()));
  auto next = api.next(std::chrono::seconds(1), "ab12");
  ASSERT_FALSE(next);
  EXPECT_EQ(next.error().code, Errc::invalid_input);
  EXPECT_NE(next.error().message.find("no signed job"), std::string::npos) << next.error().message;
}

TEST(HttpServerApi, AnAnswerThatDoesNotDecodeIsInvalidInput) {
  HttpTestServer server([](const ReceivedRequest& r) -> CannedReply {
    if (r.target == "/api/v1/agents/enrol") return {200, kEnrolled};
    return {200, R"({"state": "step", "step": {"id": "x", "kind": "wipe", "attempt": 1}})"};
  });
  HttpServerApi api(quick(server.url()));
  ASSERT_TRUE(api.enrol(laptop()));
  auto next = api.next(std::chrono::seconds(1), "ab12");
  ASSERT_FALSE(next);
  EXPECT_EQ(next.error().code, Errc::invalid_input);
  EXPECT_TRUE(next.error().message.starts_with("the answer to next: ")) << next.error().message;
}

TEST(HttpServerApi, StatusesBecomeTypedErrors) {
  HttpTestServer server([](const ReceivedRequest& r) -> CannedReply {
    if (r.target == "/api/v1/agents/enrol") return {200, kEnrolled};
    if (r.target.find("/next") != std::string::npos)
      return {401, R"({"error": "token replaced", "code": "unauthorized"})"};
    if (r.target.find("/result") != std::string::npos)
      return {409, R"({"error": "step 3 is not running"})"};
    return {404, "plain text"};
  });
  HttpServerApi api(quick(server.url()));
  ASSERT_TRUE(api.enrol(laptop()));
  auto next = api.next(std::chrono::seconds(1), "ab12");
  ASSERT_FALSE(next);
  EXPECT_EQ(next.error().code, Errc::unauthorized);
  EXPECT_EQ(next.error().message, "server answered 401: token replaced");
  auto ack = api.result(3, {1, proto::StepStatus::failed, Json::object(), "x"});
  ASSERT_FALSE(ack);
  EXPECT_EQ(ack.error().code, Errc::conflict);
  EXPECT_EQ(ack.error().message, "server answered 409: step 3 is not running");
  auto manifest = api.manifest_text("nope");
  ASSERT_FALSE(manifest);
  EXPECT_EQ(manifest.error().code, Errc::not_found);
  EXPECT_EQ(manifest.error().message, "server answered 404: plain text");
}

TEST(HttpServerApi, CallsBeforeEnrolmentAreUnauthorizedWithoutAsking) {
  HttpTestServer server([](const ReceivedRequest&) { return CannedReply{500, ""}; });
  HttpServerApi api(quick(server.url()));
  auto next = api.next(std::chrono::seconds(1), "ab12");
  ASSERT_FALSE(next);
  EXPECT_EQ(next.error().code, Errc::unauthorized);
  EXPECT_TRUE(server.requests().empty());
}

TEST(HttpServerApi, RetriesWhileTheServerIsInTroubleAndSaysSo) {
  std::atomic<int> enrol_calls{0};
  HttpTestServer server([&](const ReceivedRequest& r) -> CannedReply {
    if (r.target == "/api/v1/agents/enrol" && ++enrol_calls < 3) return {503, "restarting"};
    if (r.target == "/api/v1/agents/enrol") return {200, kEnrolled};
    return {404, "{}"};
  });
  std::vector<std::string> log;
  HttpServerApi api(quick(server.url(), &log));
  auto enrolled = api.enrol(laptop());
  ASSERT_TRUE(enrolled) << enrolled.error().message;
  EXPECT_EQ(enrol_calls.load(), 3);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_TRUE(log[0].starts_with("server answered 503; retrying in ")) << log[0];
}

TEST(HttpServerApi, AnUnreachableServerIsRetriedUntilStopped) {
  // Nothing listens on the port once the test server is gone.
  std::string url;
  {
    url = HttpTestServer([](const ReceivedRequest&) { return CannedReply{}; }).url();
  }
  std::atomic<bool> stop{false};
  std::vector<std::string> log;
  HttpServerApiOptions o = quick(url);
  o.stop = &stop;
  o.log = [&](const std::string& line) {
    log.push_back(line);
    if (log.size() == 3) stop.store(true);
  };
  HttpServerApi api(o);
  auto enrolled = api.enrol(laptop());
  ASSERT_FALSE(enrolled);
  EXPECT_EQ(enrolled.error().code, Errc::cancelled);
  ASSERT_EQ(log.size(), 3u);
  EXPECT_TRUE(log[0].starts_with("server unreachable (POST " + url + "/api/v1/agents/enrol: "))
      << log[0];
}

}  // namespace
}  // namespace revive::agent

namespace revive::agent {
namespace {

TEST(HttpServerApi, AProgressAnswerCarriesTheDeploySourceAssignment) {
  HttpTestServer server([&](const ReceivedRequest& r) -> CannedReply {
    if (r.target == "/api/v1/agents/enrol") return {200, kEnrolled};
    if (r.target == "/api/v1/agents/17/progress") {
      if (r.body.find("\"deploy\"") == std::string::npos) return {200, ""};  // an older server
      return {200, R"({"source": {"kind": "peer", "peer": 7, "url": "http://10.0.0.7:41234",
                                  "reason": "chain", "epoch": 12}})"};
    }
    return {404, R"({"error": "no route"})"};
  });
  HttpServerApi api(quick(server.url()));
  ASSERT_TRUE(api.enrol(laptop()));
  proto::ProgressReport p;
  p.step = 93;
  auto plain = api.progress(p);
  ASSERT_TRUE(plain) << plain.error().message;
  EXPECT_FALSE(plain->source);
  p.progress.deploy = proto::DeployProgress{};
  p.progress.deploy->relay_port = 41000;
  auto ack = api.progress(p);
  ASSERT_TRUE(ack) << ack.error().message;
  ASSERT_TRUE(ack->source);
  EXPECT_EQ(ack->source->kind, proto::SourceAssignment::Kind::peer);
  EXPECT_EQ(ack->source->peer, 7);
  EXPECT_EQ(ack->source->url, "http://10.0.0.7:41234");
  EXPECT_EQ(ack->source->epoch, 12);
}

TEST(HttpServerApi, RelayReportsGoOnceOnTheirOwnConnectionWhileALongPollWaits) {
  std::atomic<int> relay_calls{0};
  HttpTestServer server([&](const ReceivedRequest& r) -> CannedReply {
    if (r.target == "/api/v1/agents/enrol") return {200, kEnrolled};
    if (r.target.starts_with("/api/v1/agents/17/next")) {
      CannedReply c{200, R"({"state": "done"})"};
      c.delay = std::chrono::milliseconds(1500);  // a long-poll in progress
      return c;
    }
    if (r.target == "/api/v1/agents/17/relay") {
      EXPECT_EQ(r.headers.at("authorization"), "Bearer tok17");
      EXPECT_NE(r.body.find("\"relay_port\":41000"), std::string::npos) << r.body;
      if (++relay_calls == 1) return {200, R"({"release": false})"};
      if (relay_calls == 2) return {503, "restarting"};
      return {404, R"({"error": "no route"})"};
    }
    return {404, R"({"error": "no route"})"};
  });
  HttpServerApi api(quick(server.url()));
  proto::RelayReport report;
  report.relay_port = 41000;
  EXPECT_EQ(api.relay(report).error().code, Errc::unauthorized);  // not enrolled: not even sent
  ASSERT_TRUE(api.enrol(laptop()));
  std::thread poll([&] { EXPECT_TRUE(api.next(std::chrono::seconds(1), "ab12")); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto started = std::chrono::steady_clock::now();
  auto first = api.relay(report);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(1000));
  poll.join();
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_FALSE(first->release);
  auto busy = api.relay(report);  // no retries: the next report is a second away anyway
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().code, Errc::io);
  EXPECT_EQ(relay_calls.load(), 2);
  auto gone = api.relay(report);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, Errc::not_found);
}

}  // namespace
}  // namespace revive::agent
