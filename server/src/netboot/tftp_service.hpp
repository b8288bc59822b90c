#pragma once
// The read-only TFTP server (UDP 69): requests on the listening socket, each transfer on its own
// socket (a new TID) driven by one coroutine with its retransmit deadline. The packet codec,
// option negotiation, the window sender and the confined open are boot/tftp (pure).

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "async.hpp"
#include "boot_services.hpp"
#include "revive/file_util.hpp"
#include "tftp.hpp"
#include "udp_io.hpp"

namespace revive::server {

class TftpService {
 public:
  /// Opens the TFTP root and the extra roots, binds the port and starts serving. Error: the
  /// directory that cannot be opened or the port that cannot be bound.
  static Result<std::shared_ptr<TftpService>> start(asio::io_context& io,
                                                    std::shared_ptr<const BootServiceOptions> opts,
                                                    std::shared_ptr<BootCounters> counters);
  TftpService(asio::io_context& io, std::shared_ptr<const BootServiceOptions> opts,
              std::shared_ptr<BootCounters> counters);

  /// Stops taking requests; transfers under way run to their end.
  void stop();
  std::uint16_t port() const;  ///< 0 once stopped

 private:
  struct Transfer;
  using Clock = std::chrono::steady_clock;

  asio::awaitable<void> listen(std::shared_ptr<TftpService> keep_alive);
  void on_request(const std::shared_ptr<TftpService>& self, std::span<const std::uint8_t> bytes,
                  const Datagram& d);
  void refuse(const asio::ip::udp::endpoint& to, std::uint32_t local_ip, std::uint16_t code,
              const std::string& why);
  Result<boot::ConfinedFile> open_file(const std::string& requested, std::uint32_t local_ip) const;

  asio::awaitable<void> run(std::shared_ptr<TftpService> keep_alive, Transfer t);
  bool send_window(Transfer& t);
  bool on_deadline(Transfer& t);
  void on_packet(Transfer& t, std::span<const std::uint8_t> bytes, Clock::time_point& deadline);
  void fail(Transfer& t, std::uint16_t code, const std::string& why);
  void end(Transfer& t, bool ok, const std::string& why);
  void log(const std::string& line) const;

  asio::io_context& io_;
  std::shared_ptr<const BootServiceOptions> opts_;
  std::shared_ptr<BootCounters> counters_;
  UdpSocket listener_;
  UniqueFd root_;
  std::vector<std::pair<std::string, UniqueFd>> extra_roots_;  // by name prefix
  std::size_t active_ = 0;                                     // transfers under way
  std::map<std::uint32_t, std::size_t> by_address_;            // of those, by client IPv4
  bool stopped_ = false;
};

}  // namespace revive::server
