// Issue 15, findings 5 and 8: rate limits on public routes, connection caps, operator tokens.
#include <gtest/gtest.h>

#include <chrono>

#include "api/admission.hpp"
#include "api/rate_limiter.hpp"
#include "domain/operators.hpp"
#include "domain_fixture.hpp"
#include "http/connection_limits.hpp"

namespace revive::server {
namespace {

TEST(RateLimiter, OneAddressIsCutToATrickleAndOthersStillPass) {
  RateLimiter r({5, 1}, {100, 50});
  for (int i = 0; i < 5; ++i) EXPECT_EQ(r.take("10.0.0.9", 0), 0);
  EXPECT_GT(r.take("10.0.0.9", 0), 0) << "burst used up";
  EXPECT_EQ(r.take("10.0.0.10", 0), 0) << "another address has its own bucket";
  EXPECT_EQ(r.take("10.0.0.9", 1.0), 0) << "one token back after a second";
}

TEST(RateLimiter, ManyAddressesShareTheOverallBucketAndMemoryIsBounded) {
  RateLimiter r({5, 1}, {10, 1}, 100);
  int passed = 0;
  for (int i = 0; i < 1000; ++i) passed += r.take("10.1." + std::to_string(i), 0) == 0;
  EXPECT_EQ(passed, 10);
  EXPECT_LE(r.addresses(), 100u);
}

TEST(Admission, PublicRoutesThatCostATransactionAreRateLimitedAndBodiesBounded) {
  EXPECT_EQ(rate_group(RouteId::enrol), RateGroup::enrol);
  EXPECT_EQ(rate_group(RouteId::boot_script), RateGroup::boot_script);
  EXPECT_EQ(rate_group(RouteId::login), RateGroup::login);
  EXPECT_EQ(rate_group(RouteId::linked_certificate), RateGroup::certificate_link);
  EXPECT_EQ(rate_group(RouteId::healthz), RateGroup::none);
  EXPECT_EQ(body_limit(RouteId::enrol, 1 << 20), 256u * 1024);
  EXPECT_EQ(body_limit(RouteId::login, 1 << 20), 4u * 1024);
  EXPECT_EQ(body_limit(RouteId::agent_result, 1 << 20), 1u << 20);
}

TEST(ConnectionLimits, OneAddressCannotTakeEverySlot) {
  ConnectionLimits l({10, 3});
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(l.check("10.0.0.9", false), ConnectionLimits::Verdict::admit);
    l.add("10.0.0.9", false);
  }
  EXPECT_EQ(l.check("10.0.0.9", false), ConnectionLimits::Verdict::address_full);
  EXPECT_EQ(l.check("10.0.0.10", false), ConnectionLimits::Verdict::admit);
  for (int i = 0; i < 7; ++i) l.add("127.0.0.1", true);
  EXPECT_EQ(l.check("10.0.0.10", false), ConnectionLimits::Verdict::total_full);
  l.release("10.0.0.9");
  EXPECT_EQ(l.open(), 9u);
  EXPECT_EQ(l.from("10.0.0.9"), 2u);
  EXPECT_EQ(connection_cap_for(1024, 4096), 768u) << "stays below the descriptor limit";
}

class OperatorTokens : public test::DomainTest {
 protected:
  Operators ops{ctx};
};

TEST_F(OperatorTokens, ListedRevokedExpiringAndGoneWithANewPassword) {
  ASSERT_TRUE(ops.add("alice", "correct horse"));
  auto session = ops.login("alice", "correct horse");
  ASSERT_TRUE(session);
  auto api = ops.create_api_token("alice", "backup script", 3600);
  ASSERT_TRUE(api);
  auto list = ops.tokens("alice");
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_TRUE(ops.authenticate(*api));
  // Revoked by its id: no longer accepted.
  std::string api_id;
  for (const auto& t : *list)
    if (t.kind == "api") api_id = t.id;
  ASSERT_EQ(api_id.size(), 16u);
  EXPECT_FALSE(ops.revoke("bob", api_id)) << "not another operator's";
  ASSERT_TRUE(ops.revoke("alice", api_id));
  EXPECT_FALSE(ops.authenticate(*api));
  // API tokens expire.
  auto short_lived = ops.create_api_token("alice", "", 60);
  ASSERT_TRUE(short_lived);
  EXPECT_TRUE(ops.authenticate(*short_lived));
  now += 61;
  EXPECT_FALSE(ops.authenticate(*short_lived));
  EXPECT_FALSE(ops.create_api_token("alice", "", 0));
  // Expired ones are deleted by the retention tick, not only refused.
  const auto listed = [&] { return ops.tokens("alice").value().size(); };
  const std::size_t before = listed();
  ASSERT_TRUE(ops.forget_expired_tokens());
  EXPECT_EQ(listed(), before - 1) << "the expired API token is gone, the session stays";
  // A new password revokes every token of the operator.
  ASSERT_TRUE(ops.authenticate(*session));
  ASSERT_TRUE(ops.add("alice", "new password!"));
  EXPECT_FALSE(ops.authenticate(*session));
  EXPECT_TRUE(ops.tokens("alice")->empty());
}

TEST_F(OperatorTokens, AnUnknownNameCostsAsMuchAsAWrongPassword) {
  ASSERT_TRUE(ops.add("alice", "correct horse"));
  const auto time_of = [&](const std::string& name) {
    double best = 1e9;
    for (int i = 0; i < 3; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      EXPECT_FALSE(ops.login(name, "wrong password"));
      best = std::min(best,
                      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    return best;
  };
  const double known = time_of("alice");
  const double unknown = time_of("nobody");
  // Without the dummy hash an unknown name answers in microseconds, a known one in tens of
  // milliseconds (argon2id); with it they are alike. A wide margin for a busy machine.
  EXPECT_GT(unknown, known / 4) << "unknown " << unknown << " s, known " << known << " s";
}

}  // namespace
}  // namespace revive::server
