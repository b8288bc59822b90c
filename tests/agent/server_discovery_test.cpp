// A laptop booted from a USB stick without a server address asks DHCP, as iPXE would. The
// agent's DHCPDISCOVER goes through revive-server's real proxyDHCP decision and encoder, and
// the agent reads the server back from the answer; the router's plain offer names none.
#include "revive/agent/server_discovery.hpp"

#include <gtest/gtest.h>

#include "dhcp.hpp"

namespace revive::agent {
namespace {

constexpr std::uint32_t kXid = 0x1234abcd;
const MacAddress kMac = {0x52, 0x54, 0x00, 0x77, 0x00, 0x05};

boot::BootConfig revive_server() {
  boot::BootConfig c;
  c.server_ip = 0x0a4d0002;  // 10.77.0.2
  c.http_port = 8080;
  return c;
}

// The proxyDHCP answer revive-server sends to the agent's discover.
std::vector<std::uint8_t> proxy_answer(const boot::BootConfig& cfg) {
  auto request = boot::parse_dhcp(discover_packet(kMac, kXid));
  EXPECT_TRUE(request) << request.error().message;
  const auto d = boot::proxy_dhcp_reply(*request, cfg, false);
  EXPECT_TRUE(d.reply) << d.why;
  return d.reply ? boot::encode_dhcp(*d.reply) : std::vector<std::uint8_t>();
}

TEST(ServerDiscovery, RevivesProxyDhcpAnswerNamesTheServer) {
  const auto request = boot::parse_dhcp(discover_packet(kMac, kXid));
  ASSERT_TRUE(request);
  EXPECT_TRUE(boot::is_boot_client(*request));
  EXPECT_EQ(request->mac(), "52:54:00:77:00:05");
  const auto d = boot::proxy_dhcp_reply(*request, revive_server(), false);
  ASSERT_TRUE(d.reply) << d.why;
  EXPECT_EQ(d.reply->file, "http://10.77.0.2:8080/boot/52-54-00-77-00-05.ipxe");
  EXPECT_EQ(server_from_offer(boot::encode_dhcp(*d.reply), kMac, kXid), "http://10.77.0.2:8080");
}

TEST(ServerDiscovery, ABootFileInOption67CountsToo) {
  auto request = boot::parse_dhcp(discover_packet(kMac, kXid));
  ASSERT_TRUE(request);
  auto reply = boot::reply_skeleton(*request);
  reply.options[53] = {2};  // DHCPOFFER
  reply.set_option(
      67, std::string("http://revive-server.workshop.lan:8080/boot/52-54-00-77-00-05.ipxe"));
  EXPECT_EQ(server_from_offer(boot::encode_dhcp(reply), kMac, kXid),
            "http://revive-server.workshop.lan:8080");
}

TEST(ServerDiscovery, TheRoutersPlainOfferAndOtherClientsAnswersNameNoServer) {
  auto request = boot::parse_dhcp(discover_packet(kMac, kXid));
  ASSERT_TRUE(request);
  auto router = boot::reply_skeleton(*request);
  router.yiaddr = 0x0a4d0064;
  router.options[53] = {2};
  EXPECT_EQ(server_from_offer(boot::encode_dhcp(router), kMac, kXid), std::nullopt);
  const auto answer = proxy_answer(revive_server());
  EXPECT_EQ(server_from_offer(answer, kMac, kXid + 1), std::nullopt) << "another xid";
  MacAddress other = kMac;
  other[5] = 0x06;
  EXPECT_EQ(server_from_offer(answer, other, kXid), std::nullopt) << "another laptop's answer";
}

TEST(ServerDiscovery, MalformedAnswersAndUrlsAreRefused) {
  const auto answer = proxy_answer(revive_server());
  for (std::size_t cut : {std::size_t{0}, std::size_t{100}, std::size_t{239}}) {
    EXPECT_EQ(server_from_offer(std::span(answer.data(), cut), kMac, kXid), std::nullopt) << cut;
  }
  auto request = boot::parse_dhcp(discover_packet(kMac, kXid));
  ASSERT_TRUE(request);
  for (const char* file : {"undionly.kpxe", "http:///boot/x.ipxe", "https://10.0.0.1/boot/x.ipxe",
                           "http://10.0.0.1$(reboot)/boot/x.ipxe", "http://10.0.0.1/boot/x.efi"}) {
    auto reply = boot::reply_skeleton(*request);
    reply.options[53] = {2};
    reply.file = file;
    EXPECT_EQ(server_from_offer(boot::encode_dhcp(reply), kMac, kXid), std::nullopt) << file;
  }
  // An option whose length runs past the end of the packet.
  auto bytes = boot::encode_dhcp(boot::reply_skeleton(*request));
  bytes.resize(240);
  bytes.insert(bytes.end(), {67, 200, 'h'});
  EXPECT_EQ(server_from_offer(bytes, kMac, kXid), std::nullopt);
}

TEST(ServerDiscovery, ParseMac) {
  EXPECT_EQ(parse_mac("52:54:00:77:00:05"), kMac);
  EXPECT_EQ(parse_mac("52-54-00-77-00-05"), kMac);
  EXPECT_EQ(parse_mac("52:54:00:77:00"), std::nullopt);
  EXPECT_EQ(parse_mac("52:54:00:77:00:0g"), std::nullopt);
  EXPECT_EQ(parse_mac("52:54:00:77:00+05"), std::nullopt);
}

}  // namespace
}  // namespace revive::agent
