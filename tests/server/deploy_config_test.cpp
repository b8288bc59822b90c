// The [deploy] config keys and the server port's rate the scheduler plans with; full DHCP's
// per-client limits in [boot].
#include <gtest/gtest.h>

#include <fstream>

#include "app/config.hpp"
#include "app/uplink.hpp"
#include "temp_dir.hpp"

namespace revive::server {
namespace {

void write(const std::filesystem::path& p, const std::string& text) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

TEST(DeployConfig, RelayIsOffUnlessTheConfigTurnsItOn) {
  test::TempDir dir;
  ServerConfig cfg;
  EXPECT_FALSE(cfg.relay);
  write(dir / "c.toml", "[deploy]\nrelay = true\nuplink_mbps = 100\nspare_finished_relays = 2\n");
  auto r = load_config_file(dir / "c.toml", cfg);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(cfg.relay);
  EXPECT_EQ(cfg.uplink_mbps, 100);
  EXPECT_EQ(cfg.spare_finished_relays, 2);
}

TEST(DeployConfig, BadValuesNameTheKey) {
  test::TempDir dir;
  const std::pair<const char*, const char*> bad[] = {
      {"[deploy]\nrelay = 1\n", "deploy.relay"},
      {"[deploy]\nuplink_mbps = 0\n", "deploy.uplink_mbps"},
      {"[deploy]\nspare_finished_relays = -1\n", "deploy.spare_finished_relays"},
      {"[deploy]\nrelays = true\n", "deploy.relays"},
      {"deploy = 3\n", "deploy"},
  };
  for (const auto& [text, key] : bad) {
    write(dir / "c.toml", text);
    ServerConfig cfg;
    auto r = load_config_file(dir / "c.toml", cfg);
    ASSERT_FALSE(r) << text;
    EXPECT_EQ(r.error().code, Errc::invalid_input);
    EXPECT_NE(r.error().message.find(key), std::string::npos) << r.error().message;
    EXPECT_FALSE(cfg.relay);  // nothing half-applied turns relay on
  }
}

TEST(BootConfig, FullDhcpLimitsComeFromTheConfigAndBadOnesNameTheKey) {
  test::TempDir dir;
  ServerConfig cfg;
  EXPECT_EQ(cfg.dhcp_offer_burst, 6);
  EXPECT_EQ(cfg.dhcp_offer_every_s, 10);
  EXPECT_EQ(cfg.dhcp_max_pending_offers, 0);
  write(dir / "c.toml",
        "[boot]\ndhcp_offer_burst = 2\ndhcp_offer_every_s = 30\ndhcp_max_pending_offers = 40\n");
  auto r = load_config_file(dir / "c.toml", cfg);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(cfg.dhcp_offer_burst, 2);
  EXPECT_EQ(cfg.dhcp_offer_every_s, 30);
  EXPECT_EQ(cfg.dhcp_max_pending_offers, 40);
  for (const char* text : {"[boot]\ndhcp_offer_burst = 0\n", "[boot]\ndhcp_offer_every_s = -1\n",
                           "[boot]\ndhcp_max_pending_offers = 70000\n"}) {
    write(dir / "c.toml", text);
    ServerConfig c;
    auto bad = load_config_file(dir / "c.toml", c);
    ASSERT_FALSE(bad) << text;
    const std::string key = std::string(text).substr(7, std::string(text).find(' ') - 7);
    EXPECT_NE(bad.error().message.find("boot." + key), std::string::npos) << bad.error().message;
  }
}

TEST(Uplink, ConfiguredThenInterfaceSpeedThenADefault) {
  test::TempDir dir;
  write(dir / "route",
        "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n"
        "eth1\t0000A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\n"
        "eth0\t00000000\t0100A8C0\t0003\t0\t0\t0\t00000000\n");
  write(dir / "net/eth0/speed", "2500\n");
  write(dir / "net/eth1/speed", "-1\n");
  EXPECT_EQ(resolve_uplink(100, "0.0.0.0", dir / "net", dir / "route").mbps, 100);
  const Uplink found = resolve_uplink(0, "0.0.0.0", dir / "net", dir / "route");
  EXPECT_EQ(found.mbps, 2500);
  EXPECT_EQ(found.source, "eth0's speed");
  EXPECT_EQ(interface_speed_mbps(dir / "net", "eth1"), std::nullopt);  // virtual: -1
  EXPECT_EQ(interface_speed_mbps(dir / "net", "../eth0"), std::nullopt);
  const Uplink fallback = resolve_uplink(0, "0.0.0.0", dir / "net", dir / "none");
  EXPECT_EQ(fallback.mbps, 1000);
  EXPECT_NE(fallback.source.find("default"), std::string::npos);
}

}  // namespace
}  // namespace revive::server
