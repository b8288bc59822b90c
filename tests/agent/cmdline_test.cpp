#include "revive/agent/cmdline.hpp"

#include <gtest/gtest.h>

namespace revive::agent {
namespace {

TEST(Cmdline, FindsMarkerServerAndToken) {
  auto p = parse_cmdline(
      "BOOT_IMAGE=/vmlinuz initrd=initrd.img revive.agent=1 revive.server=http://10.0.0.1:8080 "
      "revive.token=abc quiet\n");
  EXPECT_TRUE(p.live_agent);
  EXPECT_EQ(p.server, "http://10.0.0.1:8080");
  EXPECT_EQ(p.token, "abc");
  EXPECT_EQ(p.all.at("quiet"), "");
}

TEST(Cmdline, NoMarkerMeansNotALiveAgent) {
  auto p = parse_cmdline("root=/dev/sda1 ro revive.agent=0");
  EXPECT_FALSE(p.live_agent);
  EXPECT_FALSE(p.server);
  EXPECT_FALSE(parse_cmdline("").live_agent);
}

TEST(Cmdline, QuotesGroupWordsAndLaterKeysWin) {
  auto p = parse_cmdline("a=\"x y\" revive.server=one revive.server=two");
  EXPECT_EQ(p.all.at("a"), "x y");
  EXPECT_EQ(p.server, "two");
}

}  // namespace
}  // namespace revive::agent
