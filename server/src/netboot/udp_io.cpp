#include "udp_io.hpp"

#include <sys/socket.h>

#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>

#include <array>
#include <cerrno>
#include <cstring>

namespace revive::server {

using asio::ip::udp;

Result<UdpSocket> bind_udp(asio::io_context& io, const std::string& address, std::uint16_t port,
                           bool broadcast, const char* what) {
  boost::system::error_code ec;
  const auto addr = asio::ip::make_address_v4(address, ec);
  if (ec)
    return make_error(Errc::invalid_input,
                      std::string(what) + ": \"" + address + "\" is not an IPv4 address");
  UdpSocket s(io);
  s.open(udp::v4(), ec);
  if (!ec) s.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec && broadcast) s.set_option(asio::socket_base::broadcast(true), ec);
  if (!ec) {
    const int on = 1;
    if (::setsockopt(s.native_handle(), IPPROTO_IP, IP_PKTINFO, &on, sizeof on) != 0)
      ec.assign(errno, boost::system::system_category());
  }
  if (!ec) s.bind(udp::endpoint(addr, port), ec);
  if (ec) {
    return make_error(
        Errc::io, std::string(what) + ": cannot bind UDP " + address + ":" + std::to_string(port) +
                      ": " + ec.message() +
                      (port < 1024 ? " (ports below 1024 need root or CAP_NET_BIND_SERVICE)" : ""));
  }
  s.non_blocking(true, ec);
  return s;
}

bool receive_with_pktinfo(int fd, std::span<std::uint8_t> buf, Datagram& d) {
  iovec iov{buf.data(), buf.size()};
  alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(in_pktinfo))> control{};
  msghdr msg{};
  msg.msg_name = &d.from;
  msg.msg_namelen = sizeof d.from;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  const ssize_t n = ::recvmsg(fd, &msg, MSG_DONTWAIT);
  if (n < 0) return false;
  d.size = static_cast<std::size_t>(n);
  if (msg.msg_flags & MSG_TRUNC) d.size = 0;  // larger than any packet we accept
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      in_pktinfo pi{};
      std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
      d.ifindex = pi.ipi_ifindex;
      d.local_ip = ntohl(pi.ipi_spec_dst.s_addr);
    }
  }
  return true;
}

std::size_t receive_now(UdpSocket& s, std::span<std::uint8_t> buf, boost::system::error_code& ec) {
  // Not s.receive(): Asio's synchronous receive waits when nothing is queued.
  const ssize_t n = ::recv(s.native_handle(), buf.data(), buf.size(), MSG_DONTWAIT);
  if (n >= 0) {
    ec.clear();
    return static_cast<std::size_t>(n);
  }
  ec = (errno == EAGAIN || errno == EWOULDBLOCK)
           ? boost::system::error_code(asio::error::would_block)
           : boost::system::error_code(errno, boost::system::system_category());
  return 0;
}

boost::system::error_code send_on_interface(int fd, std::span<const std::uint8_t> bytes,
                                            std::uint32_t to_ip, std::uint16_t to_port, int ifindex,
                                            std::uint32_t from_ip) {
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(to_ip);
  to.sin_port = htons(to_port);
  iovec iov{const_cast<std::uint8_t*>(bytes.data()), bytes.size()};
  alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(in_pktinfo))> control{};
  msghdr msg{};
  msg.msg_name = &to;
  msg.msg_namelen = sizeof to;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = IPPROTO_IP;
  c->cmsg_type = IP_PKTINFO;
  c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
  in_pktinfo pi{};
  pi.ipi_ifindex = ifindex;  // a broadcast leaves by the interface the request came in on
  pi.ipi_spec_dst.s_addr = htonl(from_ip);
  std::memcpy(CMSG_DATA(c), &pi, sizeof pi);
  const ssize_t sent = ::sendmsg(fd, &msg, 0);
  if (sent < 0) return {errno, boost::system::system_category()};
  if (sent != static_cast<ssize_t>(bytes.size())) return asio::error::message_size;
  return {};
}

asio::awaitable<boost::system::error_code> readable_until(
    UdpSocket& s, std::chrono::steady_clock::time_point deadline) {
  SteadyTimer timer(s.get_executor(), deadline);
  // Whichever finishes first cancels the other (two operations, no extra coroutines).
  auto [order, wait_ec, timer_ec] =
      co_await asio::experimental::make_parallel_group(
          s.async_wait(udp::socket::wait_read, asio::deferred), timer.async_wait(asio::deferred))
          .async_wait(asio::experimental::wait_for_one(), kAwaitTuple);
  if (order[0] == 1) co_return asio::error::timed_out;
  co_return wait_ec;
}

}  // namespace revive::server
