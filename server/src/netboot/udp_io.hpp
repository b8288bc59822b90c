#pragma once
// UDP for the boot services: binding, receiving with the interface a datagram came in on and
// sending out of a chosen interface (IP_PKTINFO), and waiting for a datagram with a deadline.
//
// Receiving is "wait until readable, then drain without blocking": Asio's reactor is
// edge-triggered, so a reader takes every queued datagram before it waits again, and a wait that
// loses a race against a timer loses no datagram (it stays queued).

#include <netinet/in.h>

#include <chrono>
#include <cstdint>
#include <span>
#include <string>

#include "async.hpp"
#include "revive/error.hpp"

namespace revive::server {

/// One datagram with the interface it came in on and our address there (IP_PKTINFO).
struct Datagram {
  std::size_t size = 0;  ///< 0 when it was larger than the buffer (truncated, not to be read)
  sockaddr_in from{};
  int ifindex = 0;
  std::uint32_t local_ip = 0;  ///< host order

  std::uint32_t from_ip() const { return ntohl(from.sin_addr.s_addr); }  ///< host order
  std::uint16_t from_port() const { return ntohs(from.sin_port); }
};

/// A UDP socket bound to address:port with IP_PKTINFO (and SO_BROADCAST if asked), non-blocking.
/// The error names `what`, the address and the port (and that ports below 1024 need privilege).
Result<UdpSocket> bind_udp(asio::io_context& io, const std::string& address, std::uint16_t port,
                           bool broadcast, const char* what);

/// The next queued datagram into `buf`, without blocking: false when none is queued (or the
/// socket has an error pending, which this consumes).
bool receive_with_pktinfo(int fd, std::span<std::uint8_t> buf, Datagram& d);

/// The next queued datagram on a connected socket, without blocking: its size, or
/// error::would_block when none is queued, or the error pending on the socket (an ICMP port
/// unreachable comes back as connection_refused).
std::size_t receive_now(UdpSocket& s, std::span<std::uint8_t> buf, boost::system::error_code& ec);

/// Sends `bytes` to to_ip:to_port from `from_ip`, out of interface `ifindex` (a broadcast
/// leaves by the interface the request came in on). Returns the error of sendmsg, if any.
boost::system::error_code send_on_interface(int fd, std::span<const std::uint8_t> bytes,
                                            std::uint32_t to_ip, std::uint16_t to_port, int ifindex,
                                            std::uint32_t from_ip);

/// Waits until `s` has something to read or `deadline` passes: no error, error::timed_out, or
/// the wait's error (operation_aborted once the socket is closed). Await it at once: it holds
/// `s` by reference.
asio::awaitable<boost::system::error_code> readable_until(
    UdpSocket& s, std::chrono::steady_clock::time_point deadline);

}  // namespace revive::server
