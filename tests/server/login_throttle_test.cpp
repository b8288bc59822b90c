#include "domain/login_throttle.hpp"

#include <gtest/gtest.h>

namespace revive::server {
namespace {

TEST(LoginThrottle, FiveWrongPasswordsLockTheOperatorFromThatAddressUntilTheFirstAgesOut) {
  LoginThrottle t;  // 5 per name, 20 per address, 15 min
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(t.retry_after("alice", "10.0.0.9", 1000 + i), 0);
    t.failed("alice", "10.0.0.9", 1000 + i);
  }
  EXPECT_EQ(t.retry_after("alice", "10.0.0.9", 1005), 900 - 5)
      << "until the first failure (t=1000) is 15 min old";
  EXPECT_EQ(t.retry_after("alice", "10.0.0.77", 1005), 0)
      << "issue 15, finding 8: a LAN host failing five times does not lock alice out "
         "everywhere; she still logs in from her own address";
  EXPECT_EQ(t.retry_after("bob", "10.0.0.9", 1005), 0) << "the address is under its own limit";
  EXPECT_EQ(t.retry_after("alice", "10.0.0.9", 1899), 1);
  EXPECT_EQ(t.retry_after("alice", "10.0.0.9", 1900), 0)
      << "four failures left in the window: under the limit";
}

TEST(LoginThrottle, OneAddressTryingManyNamesIsLimitedToo) {
  LoginThrottle t;
  for (int i = 0; i < 20; ++i) t.failed("user" + std::to_string(i), "192.0.2.1", 50);
  EXPECT_GT(t.retry_after("someone-new", "192.0.2.1", 51), 0);
  EXPECT_EQ(t.retry_after("someone-new", "192.0.2.2", 51), 0);
}

TEST(LoginThrottle, ASuccessClearsTheOperatorsCount) {
  LoginThrottle t;
  for (int i = 0; i < 4; ++i) t.failed("alice", "10.0.0.9", 10);
  t.succeeded("alice", "10.0.0.9");
  t.failed("alice", "10.0.0.9", 11);
  EXPECT_EQ(t.retry_after("alice", "10.0.0.9", 12), 0) << "one failure since the success";
}

TEST(LoginThrottle, MemoryStaysBoundedUnderAFloodOfNames) {
  LoginThrottle t({.window_s = 900, .per_name = 5, .per_peer = 20, .max_keys = 100});
  for (int i = 0; i < 1000; ++i)
    t.failed("n" + std::to_string(i), "198.51.100." + std::to_string(i % 250), i);
  EXPECT_LE(t.keys(), 100u);
  // Old failures leave the window and their keys go.
  EXPECT_EQ(t.retry_after("n999", "198.51.100.249", 999 + 901), 0);
}

}  // namespace
}  // namespace revive::server
