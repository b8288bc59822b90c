#pragma once
// The server port's rate, which the deployment scheduler plans with: set by the operator, else
// the negotiated speed of the interface the server listens on, else 1 Gbit/s.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace revive::server {

struct Uplink {
  std::int64_t mbps = 1000;
  std::string source;  ///< for the start-up log: "uplink_mbps", "eth0's speed", "default (...)"
};

/// `configured_mbps` when positive; else the speed of the interface holding `listen_host`
/// (for a wildcard address, the interface of the default route), else 1000 Mbit/s, saying why.
/// `sys_class_net` and `proc_net_route` are the system's files unless a test names others.
Uplink resolve_uplink(std::int64_t configured_mbps, const std::string& listen_host,
                      const std::filesystem::path& sys_class_net = "/sys/class/net",
                      const std::filesystem::path& proc_net_route = "/proc/net/route");

/// The interface of the IPv4 default route in /proc/net/route's text; "" when there is none.
std::string default_route_interface(std::string_view route_table);
/// The negotiated speed in /sys/class/net/IF/speed; nullopt when unknown (a virtual or
/// disconnected interface reads -1 or cannot be read).
std::optional<std::int64_t> interface_speed_mbps(const std::filesystem::path& sys_class_net,
                                                 const std::string& ifname);
/// The interface that holds the IP address `address` (getifaddrs); "" when none does.
std::string interface_with_address(const std::string& address);

}  // namespace revive::server
