#pragma once
// How many HTTP connections the server keeps open: at most `total` (below the process's
// descriptor limit, so accept(2) never fails for want of one) and at most `per_address` from
// one client address (one LAN host opening a thousand idle sockets must not crowd out the
// laptops). The server's own 127.0.0.1/::1 count toward the total only. Pure bookkeeping; the
// HTTP server asks before it serves an accepted socket and tells when one closes.

#include <cstddef>
#include <map>
#include <string>

namespace revive::server {

struct ConnectionCaps {
  std::size_t total = 4096;
  std::size_t per_address = 64;
};

class ConnectionLimits {
 public:
  explicit ConnectionLimits(ConnectionCaps caps) : caps_(caps) {}

  enum class Verdict {
    admit,         ///< there is room: add() it
    address_full,  ///< this address holds its share: close the new socket
    total_full,    ///< every slot is taken: make room (close an idle connection) or close it
  };
  /// Whether a new connection from `address` fits. `local`: no per-address cap.
  Verdict check(const std::string& address, bool local) const;
  /// Counts a connection (after check(), or over the total when another is being closed to
  /// make room for it); release() it when it closes.
  void add(const std::string& address, bool local);
  /// A connection added for `address` has closed.
  void release(const std::string& address);

  std::size_t open() const { return open_; }
  std::size_t from(const std::string& address) const;
  const ConnectionCaps& caps() const { return caps_; }

 private:
  ConnectionCaps caps_;
  std::size_t open_ = 0;
  std::map<std::string, std::size_t> per_address_;
};

/// The total cap that fits the descriptor limit `nofile`: what is left after `reserved`
/// descriptors (the database, chunk files being sent, TFTP and DHCP sockets, uploads), and never
/// more than `wanted`. At least 16.
std::size_t connection_cap_for(std::size_t nofile, std::size_t wanted, std::size_t reserved = 256);

}  // namespace revive::server
