#include "domain/relay_address.hpp"

namespace revive::server {

std::string relay_url(const std::string& ip, std::uint16_t port) {
  if (ip.empty() || port == 0) return "";
  std::string host = ip;
  constexpr std::string_view kMapped = "::ffff:";
  if (host.starts_with(kMapped) && host.find('.') != std::string::npos) host.erase(0, 7);
  if (const auto zone = host.find('%'); zone != std::string::npos) host.erase(zone);
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return "http://" + host + ":" + std::to_string(port);
}

}  // namespace revive::server
