#pragma once
// Where a laptop's relay answers: the address its requests to the server come from (the
// server sees the address the laptop's peers on the same LAN reach it at) and the port it
// reports. Pure.

#include <cstdint>
#include <string>

namespace revive::server {

/// "http://10.0.0.7:41234" for the request address `ip` and `port`; an IPv4-mapped IPv6
/// address ("::ffff:10.0.0.7", from a dual-stack listener) is written as IPv4, other IPv6
/// addresses in brackets. A zone ("fe80::7%eth0") is the server's own interface, which means
/// nothing to the peer that fetches: it is left out, and the fetching agent adds its own
/// (agent/transport/scheduled_chunk_source). "" when `ip` is empty or `port` is 0 (no relay).
std::string relay_url(const std::string& ip, std::uint16_t port);

}  // namespace revive::server
