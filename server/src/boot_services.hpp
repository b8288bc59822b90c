#pragma once
// The network-boot services in revive-server: proxyDHCP (UDP 67 + 4011) and a read-only TFTP
// server (UDP 69). The protocol logic is in server/boot (pure, fuzzed); this is the socket side.
// Asio stays inside boot_services.cpp.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "dhcp.hpp"
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
  std::function<void(const std::string&)> log;
};

struct BootCounters {
  std::atomic<std::uint64_t> dhcp_answered{0}, dhcp_ignored{0}, dhcp_malformed{0};
  std::atomic<std::uint64_t> tftp_started{0}, tftp_completed{0}, tftp_failed{0}, tftp_refused{0}, tftp_bytes{0},
      tftp_retransmits{0};
};

class BootServices {
 public:
  BootServices(boost::asio::io_context& io, BootServiceOptions opts);
  ~BootServices();
  /// Binds the enabled services. Error names the port (67 and 69 need root or CAP_NET_BIND_SERVICE).
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
