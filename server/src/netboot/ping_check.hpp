#pragma once
// The full-DHCP conflict check: is an address already in use? One ICMP echo request on a raw
// socket (root only), answered or not within a time limit. The codec is boot/icmp (pure).

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>

#include "async.hpp"
#include "revive/error.hpp"

namespace revive::server {

class PingCheck {
 public:
  /// Opens the raw ICMP socket and starts reading replies. Error (not root, no CAP_NET_RAW):
  /// the socket's, and the caller goes without the check.
  static Result<std::shared_ptr<PingCheck>> open(asio::io_context& io,
                                                 std::chrono::milliseconds wait);
  PingCheck(asio::io_context& io, std::chrono::milliseconds wait);

  /// Pings `ip` (host order) once: true when it answers within the wait. A ping that cannot be
  /// sent (no route) is unanswered; so is every pending one once stop() is called.
  asio::awaitable<bool> answers(std::uint32_t ip);
  /// Closes the socket; pending checks end unanswered.
  void stop();

 private:
  struct Probe {
    std::uint32_t ip = 0;
    bool answered = false;
    SteadyTimer* timer = nullptr;  // in the frame of answers(), which removes the probe
  };
  asio::awaitable<void> read_replies(std::shared_ptr<PingCheck> keep_alive);

  IcmpSocket sock_;
  std::chrono::milliseconds wait_;
  std::uint16_t id_ = 0, seq_ = 0;
  std::map<std::uint16_t, Probe*> probes_;  // by sequence number
  bool stopped_ = false;
};

}  // namespace revive::server
