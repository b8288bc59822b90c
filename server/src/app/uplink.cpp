#include "app/uplink.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/route.h>
#include <netinet/in.h>

#include <fstream>
#include <sstream>

namespace revive::server {

std::string default_route_interface(std::string_view route_table) {
  std::istringstream in{std::string(route_table)};
  std::string line;
  std::getline(in, line);  // header: Iface Destination Gateway Flags ...
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string iface, destination, gateway, flags_hex, refcnt, use, metric, mask;
    if (!(fields >> iface >> destination >> gateway >> flags_hex >> refcnt >> use >> metric >>
          mask))
      continue;
    unsigned long flags = 0;
    try {
      flags = std::stoul(flags_hex, nullptr, 16);
    } catch (const std::exception&) {
      continue;
    }
    if (destination == "00000000" && mask == "00000000" && (flags & RTF_UP) != 0) return iface;
  }
  return "";
}

std::optional<std::int64_t> interface_speed_mbps(const std::filesystem::path& sys_class_net,
                                                 const std::string& ifname) {
  if (ifname.empty() || ifname.find('/') != std::string::npos) return std::nullopt;
  std::ifstream in(sys_class_net / ifname / "speed");
  long long speed = -1;
  if (!(in >> speed) || speed <= 0) return std::nullopt;
  return speed;
}

std::string interface_with_address(const std::string& address) {
  in_addr v4{};
  in6_addr v6{};
  const bool is_v4 = ::inet_pton(AF_INET, address.c_str(), &v4) == 1;
  const bool is_v6 = !is_v4 && ::inet_pton(AF_INET6, address.c_str(), &v6) == 1;
  if (!is_v4 && !is_v6) return "";
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return "";
  std::string found;
  for (ifaddrs* i = list; i && found.empty(); i = i->ifa_next) {
    if (!i->ifa_addr) continue;
    if (is_v4 && i->ifa_addr->sa_family == AF_INET) {
      const auto* a = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
      if (a->sin_addr.s_addr == v4.s_addr) found = i->ifa_name;
    } else if (is_v6 && i->ifa_addr->sa_family == AF_INET6) {
      const auto* a = reinterpret_cast<const sockaddr_in6*>(i->ifa_addr);
      if (IN6_ARE_ADDR_EQUAL(&a->sin6_addr, &v6)) found = i->ifa_name;
    }
  }
  ::freeifaddrs(list);
  return found;
}

Uplink resolve_uplink(std::int64_t configured_mbps, const std::string& listen_host,
                      const std::filesystem::path& sys_class_net,
                      const std::filesystem::path& proc_net_route) {
  if (configured_mbps > 0) return {configured_mbps, "uplink_mbps"};
  std::string iface;
  if (listen_host.empty() || listen_host == "0.0.0.0" || listen_host == "::") {
    std::ifstream in(proc_net_route);
    std::stringstream text;
    text << in.rdbuf();
    iface = default_route_interface(text.str());
  } else {
    iface = interface_with_address(listen_host);
  }
  if (auto speed = interface_speed_mbps(sys_class_net, iface)) return {*speed, iface + "'s speed"};
  return {1000, iface.empty() ? "default (no interface found for " + listen_host + ")"
                              : "default (" + iface + " does not say its speed)"};
}

}  // namespace revive::server
