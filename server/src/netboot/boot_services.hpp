#pragma once
// The network-boot services in revive-server: proxyDHCP (UDP 67 + 4011) and a read-only TFTP
// server (UDP 69). The protocol logic is in server/boot (pure, fuzzed); the socket side is
// dhcp_service (with ping_check), tftp_service and udp_io, coroutines on the io_context thread.
// Asio stays inside those .cpp files and their private headers.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dhcp.hpp"
#include "dhcp_server.hpp"
#include "revive/error.hpp"
#include "tftp.hpp"

namespace boost::asio {
class io_context;
}

namespace revive::server {

struct BootServiceOptions {
  bool proxy_dhcp = false;
  std::string listen_address = "0.0.0.0";  ///< where the UDP services bind
  std::uint16_t dhcp_port = 67;
  std::uint16_t pxe_port = 4011;
  bool tftp = false;
  std::uint16_t tftp_port = 69;
  std::filesystem::path tftp_root;
  /// What proxyDHCP hands out. server_ip 0: the address of the interface the request came in on.
  boot::BootConfig boot;
  boot::TftpLimits limits;
  std::size_t max_transfers = 256;
  /// Transfers one client address may hold at once, so one host (or a flood from one address)
  /// cannot take every slot; a PXE client reads one file at a time.
  std::size_t max_transfers_per_address = 32;
  /// Full DHCP on an isolated network (instead of proxyDHCP on port 67): the pool, the leases
  /// saved last time, and where to save them (called before an ACK is sent).
  std::optional<boot::DhcpPoolConfig> dhcp_pool;
  boot::DhcpClientLimits dhcp_limits;  ///< per-client limits of the full DHCP pool
  std::vector<boot::Lease> leases;
  std::function<Result<void>(const std::vector<boot::Lease>&)> save_leases;
  /// Before an address is offered it is pinged for this long; an answer means another host
  /// uses it (raw ICMP socket: root; without one the check is off, and logged). 0: off.
  std::chrono::milliseconds dhcp_ping{500};
  /// Whether a laptop should be offered network boot at all (false: its workflow is done, so
  /// the firmware should go on to its disk; DHCP then names a boot file that fails at once).
  std::function<bool(const std::string& mac)> offer_network_boot;
  /// Further read-only directories by name prefix ("live/" → BOOT/live), each confined the same
  /// way.
  std::vector<std::pair<std::string, std::filesystem::path>> extra_roots;
  /// Files made per request (GRUB's per-laptop config): (name, "http://IP:PORT" the client
  /// reaches us at) → content, or nullopt when the name is not a generated one.
  std::function<std::optional<std::string>(const std::string& name, const std::string& base_url)>
      generated;
  std::function<void(const std::string&)> log;
};

struct BootCounters {
  std::atomic<std::uint64_t> dhcp_answered{0}, dhcp_ignored{0}, dhcp_malformed{0},
      dhcp_over_budget{0}, dhcp_conflicts{0};
  std::atomic<std::uint64_t> tftp_started{0}, tftp_completed{0}, tftp_failed{0}, tftp_refused{0},
      tftp_bytes{0}, tftp_retransmits{0};
};

/// Prometheus text for the counters (DHCP answers and conflicts, TFTP transfers and bytes).
std::string render_boot_metrics(const BootCounters& c);

class BootServices {
 public:
  BootServices(boost::asio::io_context& io, BootServiceOptions opts);
  ~BootServices();
  /// Binds the enabled services. Error names the port (67 and 69 need root or
  /// CAP_NET_BIND_SERVICE).
  Result<void> start();
  void stop();
  std::uint16_t dhcp_port() const;
  std::uint16_t pxe_port() const;
  std::uint16_t tftp_port() const;
  const BootCounters& counters() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace revive::server
