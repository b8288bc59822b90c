#pragma once
// revive-server's configuration: the settings, a TOML file that sets them, and the listen
// address syntax. Flags (cli.cpp) override the file.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "revive/error.hpp"

namespace revive::server {

struct ServerConfig {
  std::filesystem::path state_dir;
  std::filesystem::path store_dir;  ///< default: state_dir/store
  std::string listen = "0.0.0.0:8080";
  int long_poll_s = 30;
  std::size_t max_body_bytes = 1 << 20;
  std::int64_t stall_timeout_s = 600;
  std::map<std::string, std::int64_t> step_stall_timeout_s;
  int shutdown_grace_s = 10;
  unsigned blocking_threads = 2;
  // ---- trust (issue 15, docs/SECURITY.md)
  /// Demo mode: simulated wipe evidence and enrolment without a boot token are accepted and
  /// every machine is admitted. For demonstrations and tests on a network of your own only.
  bool demo = false;
  std::int64_t boot_token_ttl_s = 15L * 60;  ///< how long a boot script's token may wait
  /// How long an operator's login lasts (revivectl login, the operator pages' cookie).
  std::int64_t session_ttl_s = 12L * 3600;
  // ---- network boot ([boot] in the config file)
  std::filesystem::path boot_dir;  ///< default: state_dir/boot (tftp/ and live/ inside)
  bool proxy_dhcp = false;         ///< answer PXE/HTTP-boot clients on UDP 67 + 4011
  bool tftp = false;               ///< serve boot_dir/tftp on UDP 69
  std::string boot_address;  ///< IPv4 to advertise (default: the interface a request came in on)
  std::string boot_listen = "0.0.0.0";
  std::uint16_t dhcp_port = 67, pxe_port = 4011, tftp_port = 69;
  bool secure_boot = false;  ///< UEFI clients get shim → GRUB instead of iPXE
  // Full DHCP for an isolated network (set dhcp_range to enable; replaces proxyDHCP on port 67)
  std::string dhcp_range;   ///< "10.0.0.100-10.0.0.199"
  std::string dhcp_router;  ///< option 3 (optional)
  std::string dhcp_netmask = "255.255.255.0";
  std::int64_t dhcp_lease_s = 3600;
  std::int64_t dhcp_ping_ms = 500;  ///< conflict check before an offer (0: off)
  // Full DHCP's per-client limits (boot::DhcpClientLimits, docs/SECURITY.md): new offers one
  // MAC or client identifier may cause at once, then one per dhcp_offer_every_s; offers that
  // may wait for their REQUEST at once (0: half the range, at least 16).
  std::int64_t dhcp_offer_burst = 6;
  std::int64_t dhcp_offer_every_s = 10;
  std::int64_t dhcp_max_pending_offers = 0;
  std::string boot_kernel_args = "console=ttyS0,115200 console=tty0";
  // ---- deployments ([deploy] in the config file)
  /// The server port's rate in Mbit/s for the scheduler; 0: the listening interface's speed
  /// (else 1000).
  std::int64_t uplink_mbps = 0;
  bool relay = false;  ///< deploying laptops may fetch chunks from each other (scheduler)
  /// Finished laptops kept relaying per image while others deploy it (0: released at once).
  std::int64_t spare_finished_relays = 0;
  // ---- operators over HTTPS, limits, privileges (docs/SECURITY.md)
  /// HOST:PORT of the HTTPS listener; "" = the listen host on 8443 (on 0 when listen's port is
  /// 0, as in tests); "off" = none.
  std::string tls_listen;
  std::filesystem::path tls_cert, tls_key;  ///< a workshop's own; default STATE/tls/, made once
  std::size_t max_connections = 4096;       ///< also kept below the descriptor limit
  std::size_t max_connections_per_address = 64;
  std::int64_t events_keep_days = 180;  ///< the event log's retention
  std::int64_t events_keep_rows = 1000000;
  /// Started as root: the account the server becomes once its ports are bound ("root": stay
  /// root, said loudly in the log). Ignored when not started as root (app/privileges.hpp).
  std::string user = "revive";
};

/// Reads a TOML config file into `cfg` (only the keys present). invalid_input names the key.
Result<void> load_config_file(const std::filesystem::path& path, ServerConfig& cfg);

/// The HTTPS listener's HOST:PORT: `tls_listen`, or its default for `listen`; nullopt when
/// HTTPS is off. invalid_input for a malformed address.
Result<std::optional<std::pair<std::string, std::uint16_t>>> tls_listen_address(
    const ServerConfig& cfg);

/// Splits "HOST:PORT" ("[::1]:80" for IPv6).
Result<std::pair<std::string, std::uint16_t>> parse_listen(const std::string& s);

}  // namespace revive::server
