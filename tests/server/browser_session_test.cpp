// The operator pages' browser sessions (issue 16): the domain's sessions and their expiry,
// logout and revocation, the CSRF token, and the checks a cookie-borne request passes on the
// HTTP side (same origin, CSRF header), without sockets.
#include <gtest/gtest.h>

#include "api/browser_session.hpp"
#include "domain/csrf.hpp"
#include "domain/operators.hpp"
#include "domain_fixture.hpp"

namespace revive::server {
namespace {

class BrowserSessions : public test::DomainTest {
 protected:
  BrowserSessions() { EXPECT_TRUE(ops.add("alice", "correct horse")); }

  Request request(const std::string& method, const std::string& session) const {
    Request r;
    r.method = method;
    r.path = "/api/v1/devices/1/cancel";
    r.tls = true;
    r.headers["host"] = "revive.lan:8443";
    if (!session.empty()) r.headers["cookie"] = "theme=dark; revive_session=" + session;
    return r;
  }

  static constexpr Seconds kTtl = 3600;
  Operators ops{ctx, kTtl};
};

TEST_F(BrowserSessions, ABrowserSessionIsHonouredOnlyFromItsCookieAndUntilItExpires) {
  EXPECT_FALSE(ops.login_browser("alice", "wrong horse!"));
  EXPECT_FALSE(ops.login_browser("bob", "correct horse"));
  auto s = ops.login_browser("alice", "correct horse");
  ASSERT_TRUE(s);
  EXPECT_EQ(ops.authenticate_browser(*s).value(), "alice");
  // Not a bearer token, and a bearer session is not a browser session.
  EXPECT_FALSE(ops.authenticate(*s));
  auto api_session = ops.login("alice", "correct horse");
  ASSERT_TRUE(api_session);
  EXPECT_FALSE(ops.authenticate_browser(*api_session));
  // It is listed with the operator's other tokens (so it can be revoked there too).
  auto listed = ops.tokens("alice");
  ASSERT_TRUE(listed);
  EXPECT_EQ(std::count_if(listed->begin(), listed->end(),
                          [](const auto& t) { return t.kind == "browser"; }),
            1);
  // Expiry: refused one second after its lifetime, even from the cache.
  now += kTtl;
  EXPECT_TRUE(ops.authenticate_browser(*s));
  now += 1;
  auto expired = ops.authenticate_browser(*s);
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error().code, Errc::unauthorized);
  EXPECT_NE(expired.error().message.find("expired"), std::string::npos);
}

TEST_F(BrowserSessions, LogoutAndANewPasswordEndTheSession) {
  auto a = ops.login_browser("alice", "correct horse");
  auto b = ops.login_browser("alice", "correct horse");
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(ops.authenticate_browser(*a));  // cached now: logout must drop it from the cache
  ASSERT_TRUE(ops.logout_browser(*a));
  EXPECT_FALSE(ops.authenticate_browser(*a));
  EXPECT_FALSE(ops.logout_browser(*a)) << "already gone";
  EXPECT_TRUE(ops.authenticate_browser(*b)) << "the other session stays";
  auto api = ops.create_api_token("alice", "script");
  ASSERT_TRUE(api);
  EXPECT_FALSE(ops.logout_browser(*api)) << "logout ends browser sessions only";
  EXPECT_TRUE(ops.authenticate(*api));
  ASSERT_TRUE(ops.add("alice", "a new password"));
  EXPECT_FALSE(ops.authenticate_browser(*b));
}

TEST(Csrf, TheTokenBelongsToItsSessionOnly) {
  const std::string a = csrf_token("session-a");
  EXPECT_EQ(a.size(), 64u);
  EXPECT_EQ(a, csrf_token("session-a"));
  EXPECT_NE(a, csrf_token("session-b"));
  EXPECT_TRUE(csrf_matches("session-a", a));
  EXPECT_FALSE(csrf_matches("session-b", a));
  EXPECT_FALSE(csrf_matches("session-a", a.substr(0, 63)));
  EXPECT_FALSE(csrf_matches("session-a", ""));
  EXPECT_FALSE(csrf_matches("", csrf_token("")));
}

TEST(SessionCookie, HttpOnlyStrictAndSecureOverTls) {
  EXPECT_EQ(session_cookie("T", 600, true),
            "revive_session=T; Path=/; Max-Age=600; HttpOnly; SameSite=Strict; Secure");
  EXPECT_EQ(session_cookie("T", 600, false),
            "revive_session=T; Path=/; Max-Age=600; HttpOnly; SameSite=Strict");
  EXPECT_EQ(cleared_session_cookie(true),
            "revive_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict; Secure");
  Request r;
  r.headers["cookie"] = "a=1;revive_session=abc ; revive_session_x=no";
  EXPECT_EQ(cookie_value(r, "revive_session"), "abc");
  EXPECT_EQ(cookie_value(r, "a"), "1");
  EXPECT_EQ(cookie_value(r, "b"), "");
}

TEST(SameOrigin, OnlyThisServersPagesPass) {
  Request r;
  r.tls = true;
  r.headers["host"] = "revive.lan:8443";
  EXPECT_TRUE(same_origin(r)) << "no Origin, no Sec-Fetch-Site: not a browser page";
  r.headers["origin"] = "https://revive.lan:8443";
  EXPECT_TRUE(same_origin(r));
  r.headers["origin"] = "http://revive.lan:8443";
  EXPECT_FALSE(same_origin(r)) << "another scheme is another origin";
  r.headers["origin"] = "https://evil.example";
  EXPECT_FALSE(same_origin(r));
  r.headers["origin"] = "null";
  EXPECT_FALSE(same_origin(r));
  r.headers.erase("origin");
  r.headers["sec-fetch-site"] = "cross-site";
  EXPECT_FALSE(same_origin(r));
  r.headers["sec-fetch-site"] = "same-site";
  EXPECT_FALSE(same_origin(r)) << "another host of the same site is not this server";
  r.headers["sec-fetch-site"] = "same-origin";
  EXPECT_TRUE(same_origin(r));
}

TEST_F(BrowserSessions, AChangeNeedsThisOriginAndTheSessionsCsrfToken) {
  auto s = ops.login_browser("alice", "correct horse");
  ASSERT_TRUE(s);
  // Reading needs the cookie only.
  EXPECT_EQ(browser_operator(ops, request("GET", *s)).value(), "alice");
  EXPECT_EQ(browser_operator(ops, request("GET", "")).error().code, Errc::unauthorized);
  EXPECT_EQ(browser_operator(ops, request("GET", "forged")).error().code, Errc::unauthorized);
  // A change without the CSRF token, or with another session's, is refused.
  Request post = request("POST", *s);
  post.headers["origin"] = "https://revive.lan:8443";
  EXPECT_EQ(browser_operator(ops, post).error().code, Errc::forbidden);
  auto other = ops.login_browser("alice", "correct horse");
  ASSERT_TRUE(other);
  post.headers["x-csrf-token"] = csrf_token(*other);
  EXPECT_EQ(browser_operator(ops, post).error().code, Errc::forbidden);
  post.headers["x-csrf-token"] = csrf_token(*s);
  EXPECT_EQ(browser_operator(ops, post).value(), "alice");
  // The right token from another site's page: refused all the same.
  post.headers["origin"] = "https://evil.example";
  auto cross = browser_operator(ops, post);
  ASSERT_FALSE(cross);
  EXPECT_EQ(cross.error().code, Errc::forbidden);
  EXPECT_NE(cross.error().message.find("cross-site"), std::string::npos);
  // An expired session is refused before anything else is looked at.
  post.headers["origin"] = "https://revive.lan:8443";
  now += kTtl + 1;
  EXPECT_EQ(browser_operator(ops, post).error().code, Errc::unauthorized);
}

}  // namespace
}  // namespace revive::server
