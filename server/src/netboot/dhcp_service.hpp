#pragma once
// DHCP on UDP 67 and the PXE port 4011: proxyDHCP next to the workshop's router, or full DHCP
// from a persisted lease pool on an isolated network (with the ping conflict check before an
// offer). The decisions are boot/dhcp and boot/dhcp_server (pure); this is the socket side.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>

#include "api/rate_limiter.hpp"
#include "async.hpp"
#include "boot_services.hpp"
#include "dhcp_server.hpp"
#include "ping_check.hpp"
#include "udp_io.hpp"

namespace revive::server {

class DhcpService {
 public:
  /// Binds ports 67 and 4011 and starts answering; in full-DHCP mode opens the ping check
  /// (without root it is off, and logged). Error: the port that cannot be bound.
  static Result<std::shared_ptr<DhcpService>> start(asio::io_context& io,
                                                    std::shared_ptr<const BootServiceOptions> opts,
                                                    std::shared_ptr<BootCounters> counters);
  DhcpService(asio::io_context& io, std::shared_ptr<const BootServiceOptions> opts,
              std::shared_ptr<BootCounters> counters);

  /// Closes the sockets; held offers waiting for a ping are dropped.
  void stop();
  std::uint16_t dhcp_port() const;  ///< 0 once stopped
  std::uint16_t pxe_port() const;   ///< 0 once stopped

 private:
  // One request with what is known about it when it arrived.
  struct Request {
    boot::DhcpPacket packet;
    boot::BootConfig cfg;  // server_ip filled in; local_disk when it should boot its disk
    Datagram datagram;
  };
  // A full-DHCP offer that waits for the ping check of its address.
  struct HeldOffer {
    Request request;
    std::uint32_t ip = 0;
  };

  asio::awaitable<void> serve(std::shared_ptr<DhcpService> keep_alive, bool port4011);
  std::optional<HeldOffer> on_datagram(bool port4011, std::span<const std::uint8_t> bytes,
                                       const Datagram& d);
  void answer_proxy(bool port4011, const Request& r);
  std::optional<std::uint32_t> answer_from_pool(const Request& r, int attempt);
  asio::awaitable<void> offer_after_ping(std::shared_ptr<DhcpService> keep_alive, Request r,
                                         std::uint32_t ip);
  void note_ping(std::uint32_t ip, const std::string& mac, bool answered);
  /// Takes a boot decision's token for `mac`; false (counted, logged now and then) when the
  /// MAC or all of them together are over their rate.
  bool within_budget(const std::string& mac);
  void log(const std::string& line) const;

  asio::io_context& io_;
  std::shared_ptr<const BootServiceOptions> opts_;
  std::shared_ptr<BootCounters> counters_;
  UdpSocket dhcp_, pxe_;
  std::optional<boot::LeasePool> pool_;  // full DHCP
  // The conflict check: MACs whose offer waits for a ping, and addresses found free (not pinged
  // again for a minute).
  std::shared_ptr<PingCheck> ping_;
  std::set<std::string> probing_macs_;
  std::map<std::uint32_t, std::int64_t> probed_free_;
  // Each boot client's request costs a boot decision (database lookups, the laptop's inventory
  // read): a host on the LAN sending them as fast as it can, under as many MACs as it likes,
  // must not take the io thread from the laptops' HTTP.
  RateLimiter decisions_;
  std::uint64_t over_budget_unlogged_ = 0;
  double over_budget_logged_at_ = -1e9;
  bool stopped_ = false;
};

}  // namespace revive::server
