#include "http/http_types.hpp"

#include <gtest/gtest.h>

#include "api/handler.hpp"
#include "app/config.hpp"

namespace revive::server {
namespace {

TEST(Routes, MatchAndParams) {
  std::map<std::string, std::string> p;
  EXPECT_TRUE(match_route("/api/v1/agents/{id}/next", "/api/v1/agents/42/next", p));
  EXPECT_EQ(p["id"], "42");
  EXPECT_TRUE(
      match_route("/api/v1/agents/{id}/steps/{step}/result", "/api/v1/agents/1/steps/9/result", p));
  EXPECT_EQ(p["step"], "9");
  EXPECT_FALSE(match_route("/api/v1/agents/{id}/next", "/api/v1/agents//next", p));
  EXPECT_FALSE(match_route("/api/v1/agents/{id}/next", "/api/v1/agents/1/next/x", p));
  EXPECT_FALSE(match_route("/healthz", "/healthz/", p));
  EXPECT_FALSE(match_route("/healthz", "", p));
  EXPECT_TRUE(match_route("/healthz", "/healthz", p));
}

TEST(Routes, AnErrorQuotingBytesThatAreNotUtf8IsStillJson) {
  // request_fuzz: "GET /a%D2" (any bytes decode into a path) made the 404's dump() throw, and
  // the client's mistake became a 500.
  const auto path = url_decode("/api/v%D2/settings", false);
  ASSERT_TRUE(path);
  Response r = error_response(404, "not_found", "no such endpoint: GET " + *path);
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("no such endpoint: GET /api/v\xEF\xBF\xBD/settings"), std::string::npos)
      << r.body;
}

TEST(Routes, AJsonAnswerQuotingBytesThatAreNotUtf8IsStillJson) {
  Response r = json_response({{"name", std::string("deb\xD2")}}, 200);
  EXPECT_EQ(r.body, "{\"name\":\"deb\xEF\xBF\xBD\"}\n");
}

TEST(Routes, UrlDecodeAndQuery) {
  EXPECT_EQ(url_decode("/a%20b", false), "/a b");
  EXPECT_EQ(url_decode("a+b", true), "a b");
  EXPECT_FALSE(url_decode("%2", false));
  EXPECT_FALSE(url_decode("%zz", false));
  EXPECT_FALSE(url_decode("a%00b", false));
  auto q = parse_query("name=deb%2012&replace=1&&=x&flag");
  EXPECT_EQ(q["name"], "deb 12");
  EXPECT_EQ(q["replace"], "1");
  EXPECT_EQ(q["flag"], "");
  EXPECT_EQ(q.count(""), 0u);
}

TEST(EventStream, EachLineOfDataIsADataLine) {
  EXPECT_EQ(sse_message("device", "{\"id\":1}"), "event: device\ndata: {\"id\":1}\n\n");
  EXPECT_EQ(sse_message("x", "a\nb"), "event: x\ndata: a\ndata: b\n\n");
  EXPECT_EQ(sse_message("x", ""), "event: x\ndata: \n\n");
}

TEST(Ranges, SingleRanges) {
  auto r = parse_range("bytes=0-99", 1000);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first, 0u);
  EXPECT_EQ(r->length, 100u);
  r = parse_range("bytes=900-", 1000);
  EXPECT_EQ(r->length, 100u);
  r = parse_range("bytes=-10", 1000);
  EXPECT_EQ(r->first, 990u);
  r = parse_range("bytes=500-5000", 1000);
  EXPECT_EQ(r->length, 500u);
  EXPECT_FALSE(parse_range("bytes=1000-", 1000)->satisfiable);
  EXPECT_FALSE(parse_range("bytes=-0", 1000)->satisfiable);
  EXPECT_FALSE(parse_range("", 1000));
  EXPECT_FALSE(parse_range("bytes=0-1,5-6", 1000));  // multi-range: whole resource
  EXPECT_FALSE(parse_range("bytes=9-3", 1000));
  EXPECT_FALSE(parse_range("items=0-1", 1000));
  EXPECT_FALSE(parse_range("bytes=a-b", 1000));
}

TEST(Config, ListenAddresses) {
  EXPECT_EQ(*parse_listen("127.0.0.1:0"),
            std::make_pair(std::string("127.0.0.1"), std::uint16_t{0}));
  EXPECT_EQ(parse_listen("[::1]:8080")->first, "::1");
  EXPECT_EQ(parse_listen(":9000")->first, "0.0.0.0");
  EXPECT_FALSE(parse_listen("localhost"));
  EXPECT_FALSE(parse_listen("1.2.3.4:99999"));
  EXPECT_FALSE(parse_listen("1.2.3.4:8x"));
}

}  // namespace
}  // namespace revive::server
