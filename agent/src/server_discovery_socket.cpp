// The socket half of server_discovery.hpp: one broadcast from port 68, then every answer.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <random>

#include "revive/agent/server_discovery.hpp"

namespace revive::agent {

namespace {

Error sys_error(const std::string& what) {
  return make_error(Errc::io, what + ": " + std::strerror(errno));
}

class Socket {
 public:
  Socket() : fd_(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

Result<void> open_on(const Socket& s, const std::string& iface) {
  if (s.fd() < 0) return sys_error("socket");
  const int on = 1;
  if (::setsockopt(s.fd(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0)
    return sys_error("SO_REUSEADDR");
  if (::setsockopt(s.fd(), SOL_SOCKET, SO_BROADCAST, &on, sizeof on) != 0)
    return sys_error("SO_BROADCAST");
  if (::setsockopt(s.fd(), SOL_SOCKET, SO_BINDTODEVICE, iface.c_str(),
                   static_cast<socklen_t>(iface.size())) != 0)
    return sys_error("SO_BINDTODEVICE " + iface);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  local.sin_port = htons(68);
  local.sin_addr.s_addr = htonl(INADDR_ANY);
  if (::bind(s.fd(), reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0)
    return sys_error("bind to port 68 on " + iface);
  return {};
}

}  // namespace

Result<std::string> find_server_by_dhcp(const std::string& iface, const MacAddress& mac,
                                        int wait_ms) {
  Socket s;
  if (auto ok = open_on(s, iface); !ok) return ok.error();
  std::random_device rd;
  const std::uint32_t xid = rd();
  const auto discover = discover_packet(mac, xid);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(67);
  to.sin_addr.s_addr = htonl(INADDR_BROADCAST);
  if (::sendto(s.fd(), discover.data(), discover.size(), 0, reinterpret_cast<const sockaddr*>(&to),
               sizeof to) < 0)
    return sys_error("sending a DHCPDISCOVER on " + iface);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  std::vector<std::uint8_t> buf(1500);
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) break;
    pollfd p{s.fd(), POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return sys_error("poll");
    if (r == 0) break;
    const ssize_t n = ::recv(s.fd(), buf.data(), buf.size(), 0);
    if (n < 0) continue;  // a transient error on one datagram: keep reading the others
    if (auto server =
            server_from_offer(std::span(buf.data(), static_cast<std::size_t>(n)), mac, xid))
      return *server;
  }
  return make_error(Errc::not_found, "no Revive server answered a DHCP request on " + iface +
                                         " within " + std::to_string(wait_ms / 1000) +
                                         " s (is intake open?)");
}

}  // namespace revive::agent
