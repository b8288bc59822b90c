// HttpServerApi against a real HTTP server on 127.0.0.1: the protocol's paths and bodies, the
// token, typed errors by status, retries while the server is away.

#include "revive/agent/http_server_api.hpp"

#include <gtest/gtest.h>

#include <atomic>

#include "http_test_server.hpp"

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

TEST(HttpServerApi, EnrolsThenCallsTheProtocolPathsWithItsToken) {
  HttpTestServer server([&](const ReceivedRequest& r) -> CannedReply {
    if (r.target == "/api/v1/agents/enrol") return {200, kEnrolled};
    if (r.target == "/api/v1/agents/17/next?wait=5")
      return {200, R"({"state": "step", "step": {"id": 93, "kind": "wipe", "attempt": 2,
                       "params": {"pattern": "prng"}, "resumed": true,
                       "checkpoint": {"done": [[0, 3]]}}})"};
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

  auto next = api.next(std::chrono::seconds(5));
  ASSERT_TRUE(next) << next.error().message;
  ASSERT_TRUE(next->next.step);
  EXPECT_FALSE(next->unknown_step);
  EXPECT_EQ(next->next.step->kind, proto::StepKind::wipe);
  EXPECT_EQ(next->next.step->attempt, 2);
  EXPECT_TRUE(next->next.step->resumed);
  EXPECT_EQ(next->next.step->params["pattern"], "prng");
  ASSERT_TRUE(next->next.step->checkpoint);

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

TEST(HttpServerApi, AStepOfAnUnknownKindComesBackAsSuch) {
  HttpTestServer server([](const ReceivedRequest& r) -> CannedReply {
    if (r.target == "/api/v1/agents/enrol") return {200, kEnrolled};
    return {200,
            R"({"state": "step", "step": {"id": 4, "kind": "firmware_update", "attempt": 1}})"};
  });
  HttpServerApi api(quick(server.url()));
  ASSERT_TRUE(api.enrol(laptop()));
  auto next = api.next(std::chrono::seconds(1));
  ASSERT_TRUE(next) << next.error().message;
  EXPECT_EQ(next->next.state, proto::NextResponse::State::step);
  EXPECT_FALSE(next->next.step);
  ASSERT_TRUE(next->unknown_step);
  EXPECT_EQ(next->unknown_step->id, 4);
  EXPECT_EQ(next->unknown_step->kind, "firmware_update");
}

TEST(HttpServerApi, AnAnswerThatDoesNotDecodeIsInvalidInput) {
  HttpTestServer server([](const ReceivedRequest& r) -> CannedReply {
    if (r.target == "/api/v1/agents/enrol") return {200, kEnrolled};
    return {200, R"({"state": "step", "step": {"id": "x", "kind": "wipe", "attempt": 1}})"};
  });
  HttpServerApi api(quick(server.url()));
  ASSERT_TRUE(api.enrol(laptop()));
  auto next = api.next(std::chrono::seconds(1));
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
  auto next = api.next(std::chrono::seconds(1));
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
  auto next = api.next(std::chrono::seconds(1));
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
