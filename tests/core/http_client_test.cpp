// The shared HTTP client and the retry policy against a real HTTP server on 127.0.0.1.

#include "revive/http_client.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "http_test_server.hpp"
#include "revive/http_retry.hpp"
#include "temp_dir.hpp"
#include "test_files.hpp"

namespace revive::http {
namespace {

using test::CannedReply;
using test::HttpTestServer;
using test::ReceivedRequest;

Request get(const std::string& url) {
  Request r;
  r.url = url;
  return r;
}

Request make(const std::string& method, const std::string& url) {
  Request r;
  r.method = method;
  r.url = url;
  return r;
}

ConnectionOptions max_body(std::size_t n) {
  ConnectionOptions o;
  o.max_body = n;
  return o;
}

Response status(long code) {
  Response r;
  r.status = code;
  return r;
}

CannedReply slow(std::string body, std::chrono::milliseconds delay) {
  CannedReply c;
  c.body = std::move(body);
  c.delay = delay;
  return c;
}

// A port nothing listens on: bound, never listened to, then closed.
std::string closed_port_url() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  const bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) == 0 &&
                     ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  ::close(fd);
  if (!bound) ADD_FAILURE() << "could not bind a loopback port: " << std::strerror(errno);
  return "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
}

TEST(HttpClient, RequestsShareOneKeepAliveConnection) {
  HttpTestServer server([](const ReceivedRequest& r) {
    return CannedReply{200, r.method + " " + r.target + " " + r.body};
  });
  Connection conn;
  for (int i = 0; i < 3; ++i) {
    Request req;
    req.method = i == 1 ? "POST" : "GET";
    req.url = server.url() + "/x/" + std::to_string(i);
    req.body = i == 1 ? "{\"a\":1}" : "";
    auto r = conn.request(req);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, req.method + " /x/" + std::to_string(i) + " " + req.body);
  }
  EXPECT_EQ(server.connections(), 1);
}

TEST(HttpClient, SendsHeadersAndKeepsOnlyTheHeadersAskedFor) {
  HttpTestServer server([](const ReceivedRequest& r) {
    return CannedReply{201, r.headers.at("authorization"), {"ETag: \"abc\"", "X-Other: 1"}};
  });
  Connection conn;
  Request req;
  req.method = "PUT";
  req.url = server.url() + "/thing";
  req.headers = {bearer("t0ken"), "Content-Type: application/json"};
  req.body = "{}";
  req.keep_headers = {"etag"};
  auto r = conn.request(req);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 201);
  EXPECT_TRUE(r->ok());
  EXPECT_EQ(r->body, "Bearer t0ken");
  EXPECT_EQ(r->header("ETag"), "\"abc\"");
  EXPECT_EQ(r->header("x-other"), "");
  EXPECT_EQ(r->content_length, 12u);
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].method, "PUT");
  EXPECT_EQ(server.requests()[0].body, "{}");
}

TEST(HttpClient, AnHttpErrorStatusIsAnAnswerNotAnError) {
  HttpTestServer server([](const ReceivedRequest&) {
    return CannedReply{409, R"({"error": "not running"})"};
  });
  Connection conn;
  auto r = conn.request(make("DELETE", server.url() + "/x"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 409);
  EXPECT_FALSE(r->ok());
  EXPECT_EQ(r->body, R"({"error": "not running"})");
}

TEST(HttpClient, NoAnswerIsAnIoErrorNamingTheRequest) {
  Connection conn;
  const std::string url = closed_port_url() + "/api";
  auto r = conn.request(make("POST", url));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::io);
  EXPECT_TRUE(r.error().message.starts_with("POST " + url + ": ")) << r.error().message;
}

TEST(HttpClient, TheTimeoutBoundsTheExchange) {
  HttpTestServer server(
      [](const ReceivedRequest&) { return slow("late", std::chrono::milliseconds(2500)); });
  Connection conn;
  const auto started = std::chrono::steady_clock::now();
  Request req = get(server.url() + "/slow");
  req.timeout = std::chrono::seconds(1);
  auto r = conn.request(req);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::io);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
}

TEST(HttpClient, AnAnswerThatDoesNotBeginInTimeIsCut) {
  HttpTestServer server(
      [](const ReceivedRequest&) { return slow("late", std::chrono::milliseconds(2500)); });
  ConnectionOptions o;
  o.first_byte_timeout = std::chrono::milliseconds(300);
  Connection conn(o);
  const auto started = std::chrono::steady_clock::now();
  auto r = conn.request(get(server.url() + "/frozen"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::io);
  EXPECT_NE(r.error().message.find("no answer within"), std::string::npos) << r.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(1600));
}

TEST(HttpClient, ATransferThatStallsMidBodyIsCutButASlowStartIsNot) {
  HttpTestServer server([](const ReceivedRequest& r) {
    CannedReply c{200, std::string(100000, 'x')};
    if (r.target == "/stall") c.stall_after = 1000;
    if (r.target == "/late") c.delay = std::chrono::milliseconds(800);
    return c;
  });
  ConnectionOptions o;
  o.first_byte_timeout = std::chrono::milliseconds(3000);
  o.stall_timeout = std::chrono::milliseconds(400);
  Connection conn(o);
  // The answer may take its time to begin (a peer waiting for the chunk)...
  auto late = conn.request(get(server.url() + "/late"));
  ASSERT_TRUE(late) << late.error().message;
  EXPECT_EQ(late->body.size(), 100000u);
  // ...but once it flows, it must keep flowing.
  const auto started = std::chrono::steady_clock::now();
  std::uint64_t received = 0;
  auto r = conn.download(get(server.url() + "/stall"), [&](std::span<const std::byte> b) {
    received += b.size();
    return Result<void>{};
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::io);
  EXPECT_NE(r.error().message.find("stalled"), std::string::npos) << r.error().message;
  EXPECT_EQ(received, 1000u);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(1800));
}

TEST(HttpClient, ABodyLargerThanTheLimitAbortsTheTransfer) {
  HttpTestServer server([](const ReceivedRequest&) {
    return CannedReply{200, std::string(10000, 'x')};
  });
  Connection conn(max_body(4096));
  auto r = conn.request(get(server.url() + "/big"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::invalid_input);
  EXPECT_NE(r.error().message.find("larger than 4096 bytes"), std::string::npos);
}

TEST(HttpClient, DownloadStreamsA2xxBodyToTheSink) {
  const std::string big(3 << 20, 'z');
  HttpTestServer server([&](const ReceivedRequest& r) {
    return r.target == "/missing" ? CannedReply{404, R"({"error": "no such chunk"})"}
                                  : CannedReply{200, big};
  });
  Connection conn(max_body(1024));  // the sink's bytes are not held in memory
  std::uint64_t received = 0;
  int calls = 0;
  const BodySink sink = [&](std::span<const std::byte> piece) -> Result<void> {
    received += piece.size();
    ++calls;
    return {};
  };
  auto r = conn.download(get(server.url() + "/chunk"), sink);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(received, big.size());
  EXPECT_GT(calls, 1);
  EXPECT_TRUE(r->body.empty());
  EXPECT_EQ(r->body_bytes, big.size());
  EXPECT_EQ(r->content_length, big.size());

  received = 0;
  auto missing = conn.download(get(server.url() + "/missing"), sink);
  ASSERT_TRUE(missing) << missing.error().message;
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(received, 0u);
  EXPECT_EQ(missing->body, R"({"error": "no such chunk"})");
  EXPECT_EQ(server.connections(), 1);
}

TEST(HttpClient, ASinkErrorAbortsTheDownloadAndComesBackAsIs) {
  HttpTestServer server([](const ReceivedRequest&) {
    return CannedReply{200, std::string(1 << 20, 'z')};
  });
  Connection conn;
  auto r = conn.download(get(server.url() + "/chunk"), [](std::span<const std::byte>) {
    return Result<void>(make_error(Errc::corrupt, "chunk abc: larger than any chunk"));
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::corrupt);
  EXPECT_EQ(r.error().message, "chunk abc: larger than any chunk");
  // The connection is still usable afterwards.
  auto again = conn.request(get(server.url() + "/chunk"));
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->body.size(), 1u << 20);
}

TEST(HttpClient, ASinkThatThrowsAbortsTheDownload) {
  HttpTestServer server([](const ReceivedRequest&) { return CannedReply{200, "abc"}; });
  Connection conn;
  auto r = conn.download(get(server.url() + "/x"), [](std::span<const std::byte>) -> Result<void> {
    throw std::runtime_error("disk on fire");
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::internal);
  EXPECT_EQ(r.error().message, "disk on fire");
}

TEST(HttpClient, UploadStreamsAFileAndTellsProgress) {
  test::TempDir dir;
  const auto data = test::random_bytes((2 << 20) + 123, 7);
  test::write_at(dir / "image.raw", data, 0);
  HttpTestServer server([](const ReceivedRequest& r) {
    return CannedReply{200, std::to_string(r.body.size())};
  });
  Connection conn;
  std::uint64_t last_sent = 0;
  std::uint64_t last_total = 0;
  auto r = conn.upload(make("POST", server.url() + "/api/v1/images?name=x"), dir / "image.raw",
                       [&](std::uint64_t sent, std::uint64_t total) {
                         EXPECT_GE(sent, last_sent);
                         last_sent = sent;
                         last_total = total;
                       });
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->body, std::to_string(data.size()));
  EXPECT_EQ(last_sent, data.size());
  EXPECT_EQ(last_total, data.size());
  const std::string got = server.requests().at(0).body;
  ASSERT_EQ(got.size(), data.size());
  EXPECT_EQ(0, std::memcmp(got.data(), data.data(), data.size()));
}

TEST(HttpClient, UploadRefusesWhatIsNotARegularFile) {
  test::TempDir dir;
  Connection conn;
  auto r = conn.upload(make("POST", "http://127.0.0.1:1/"), dir.path());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::invalid_input);
  auto missing = conn.upload(make("POST", "http://127.0.0.1:1/"), dir / "nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::not_found);
}

TEST(HttpClient, TheRateCapSlowsADownload) {
  HttpTestServer server([](const ReceivedRequest&) {
    return CannedReply{200, std::string(2 << 20, 'r')};
  });
  ConnectionOptions capped;
  capped.max_recv_rate = 1 << 20;  // 1 MiB/s: the 2 MiB body takes about two seconds
  Connection conn(capped);
  const auto started = std::chrono::steady_clock::now();
  auto r = conn.request(get(server.url() + "/chunk"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->body.size(), 2u << 20);
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(900));
}

TEST(HttpClient, EscapeKeepsUnreservedCharacters) {
  EXPECT_EQ(escape("office-2026_v1.2~x"), "office-2026_v1.2~x");
  EXPECT_EQ(escape("a b/c?d&e=%"), "a%20b%2Fc%3Fd%26e%3D%25");
  EXPECT_EQ(escape("\xC3\xA9"), "%C3%A9");
  EXPECT_EQ(trim_base_url("http://h:1//"), "http://h:1");
}

TEST(HttpRetry, BackoffDoublesWithJitterUpToTheCap) {
  BackoffOptions o;
  o.first = std::chrono::milliseconds(1000);
  o.max = std::chrono::milliseconds(8000);
  o.jitter = 0.5;
  Backoff b(o, 42);
  const double bases[] = {1000, 2000, 4000, 8000, 8000, 8000};
  for (double base : bases) {
    const auto w = static_cast<double>(b.next().count());
    EXPECT_GE(w, base * 0.5 - 1);
    EXPECT_LT(w, base * 1.5);
  }
  b.reset();
  EXPECT_LT(b.next().count(), 1500);
  o.first = std::chrono::milliseconds(100);
  o.jitter = 0;
  Backoff exact(o, 1);
  EXPECT_EQ(exact.next().count(), 100);
  EXPECT_EQ(exact.next().count(), 200);
}

TEST(HttpRetry, RetriesTransportErrorsAnd5xxButNot4xx) {
  int calls = 0;
  std::vector<std::chrono::milliseconds> waits;
  RetryOptions o;
  o.wait = [&](std::chrono::milliseconds d) {
    waits.push_back(d);
    return true;
  };
  int retries_told = 0;
  o.on_retry = [&](const Result<Response>&, std::chrono::milliseconds) { ++retries_told; };
  auto r = with_retries(
      [&]() -> Result<Response> {
        ++calls;
        if (calls == 1) return make_error(Errc::io, "GET x: Couldn't connect to server");
        if (calls == 2) return status(503);
        return status(404);
      },
      o);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(waits.size(), 2u);
  EXPECT_EQ(retries_told, 2);
  EXPECT_GT(waits[1], waits[0] / 2);
}

TEST(HttpRetry, ErrorsOtherThanIoAreNotRetried) {
  int calls = 0;
  auto r = with_retries(
      [&]() -> Result<Response> {
        ++calls;
        return make_error(Errc::invalid_input, "answer too large");
      },
      {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::invalid_input);
  EXPECT_EQ(calls, 1);
}

TEST(HttpRetry, TheStopFlagEndsAWaitAndPreventsTheNextAttempt) {
  std::atomic<bool> stop{false};
  int calls = 0;
  RetryOptions o;
  o.stop = &stop;
  o.backoff.first = std::chrono::milliseconds(60000);
  o.on_retry = [&](const Result<Response>&, std::chrono::milliseconds) { stop.store(true); };
  const auto started = std::chrono::steady_clock::now();
  auto r = with_retries(
      [&]() -> Result<Response> {
        ++calls;
        return make_error(Errc::io, "unreachable");
      },
      o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::cancelled);
  EXPECT_EQ(calls, 1);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
}

TEST(HttpRetry, AgainstARealServerThatRecovers) {
  std::atomic<int> seen{0};
  HttpTestServer server([&](const ReceivedRequest&) {
    return ++seen < 3 ? CannedReply{503, "restarting"} : CannedReply{200, "ok"};
  });
  Connection conn;
  RetryOptions o;
  o.backoff.first = std::chrono::milliseconds(10);
  auto r = with_retries([&] { return conn.request(get(server.url() + "/x")); }, o);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->body, "ok");
  EXPECT_EQ(seen.load(), 3);
}

}  // namespace
}  // namespace revive::http
