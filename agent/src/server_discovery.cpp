#include "revive/agent/server_discovery.hpp"

#include <cctype>

namespace revive::agent {

namespace {

constexpr std::size_t kFileOffset = 108;  // BOOTP: op..giaddr (28), chaddr (16), sname (64)
constexpr std::size_t kFileSize = 128;
constexpr std::size_t kOptionsOffset = 240;  // after file and the magic cookie
constexpr std::uint8_t kCookie[] = {99, 130, 83, 99};
constexpr std::uint8_t kOptBootfile = 67, kOptPad = 0, kOptEnd = 255;

void put_option(std::vector<std::uint8_t>& p, std::uint8_t code, std::string_view value) {
  p.push_back(code);
  p.push_back(static_cast<std::uint8_t>(value.size()));
  p.insert(p.end(), value.begin(), value.end());
}

// "http://host[:port]" from "http://host[:port]/boot/MAC.ipxe"; host: letters, digits, '.', '-'.
std::optional<std::string> server_of(const std::string& url) {
  const std::string scheme = "http://";
  const auto boot = url.find("/boot/");
  if (url.rfind(scheme, 0) != 0 || boot == std::string::npos || !url.ends_with(".ipxe"))
    return std::nullopt;
  const std::string base = url.substr(0, boot);
  if (base.size() == scheme.size()) return std::nullopt;
  for (std::size_t i = scheme.size(); i < base.size(); ++i) {
    const auto c = static_cast<unsigned char>(base[i]);
    if (std::isalnum(c) == 0 && c != '.' && c != '-' && c != ':') return std::nullopt;
  }
  return base;
}

std::string c_string(std::span<const std::uint8_t> field) {
  std::string s;
  for (auto b : field) {
    if (b == 0) break;
    s += static_cast<char>(b);
  }
  return s;
}

}  // namespace

std::optional<MacAddress> parse_mac(const std::string& text) {
  if (text.size() != 17) return std::nullopt;
  MacAddress mac{};
  for (std::size_t i = 0; i < 6; ++i) {
    const std::string byte = text.substr(i * 3, 2);
    if (!std::isxdigit(static_cast<unsigned char>(byte[0])) ||
        !std::isxdigit(static_cast<unsigned char>(byte[1])))
      return std::nullopt;
    if (i < 5 && text[i * 3 + 2] != ':' && text[i * 3 + 2] != '-') return std::nullopt;
    mac[i] = static_cast<std::uint8_t>(std::stoul(byte, nullptr, 16));
  }
  return mac;
}

std::vector<std::uint8_t> discover_packet(const MacAddress& mac, std::uint32_t xid) {
  std::vector<std::uint8_t> p(kOptionsOffset, 0);
  p[0] = 1;  // BOOTREQUEST
  p[1] = 1;  // Ethernet
  p[2] = 6;
  for (int i = 0; i < 4; ++i) p[4 + i] = static_cast<std::uint8_t>(xid >> (24 - 8 * i));
  p[10] = 0x80;  // broadcast the answer: this socket is not the interface's address's owner
  for (std::size_t i = 0; i < mac.size(); ++i) p[28 + i] = mac[i];
  for (std::size_t i = 0; i < 4; ++i) p[236 + i] = kCookie[i];
  put_option(p, 53, std::string_view("\x01", 1));  // DHCPDISCOVER
  put_option(p, 60, "PXEClient:Arch:00000:UNDI:002001");
  put_option(p, 77, "iPXE");
  put_option(p, 93, std::string_view("\x00\x00", 2));  // x86 BIOS
  p.push_back(kOptEnd);
  return p;
}

std::optional<std::string> server_from_offer(std::span<const std::uint8_t> packet,
                                             const MacAddress& mac, std::uint32_t xid) {
  if (packet.size() < kOptionsOffset || packet[0] != 2 || packet[1] != 1 || packet[2] != 6)
    return std::nullopt;
  std::uint32_t got = 0;
  for (int i = 0; i < 4; ++i) got = (got << 8) | packet[4 + i];
  if (got != xid) return std::nullopt;
  for (std::size_t i = 0; i < mac.size(); ++i) {
    if (packet[28 + i] != mac[i]) return std::nullopt;
  }
  for (std::size_t i = 0; i < 4; ++i) {
    if (packet[236 + i] != kCookie[i]) return std::nullopt;
  }
  std::string file = c_string(packet.subspan(kFileOffset, kFileSize));
  for (std::size_t i = kOptionsOffset; i < packet.size();) {
    const std::uint8_t code = packet[i];
    if (code == kOptEnd) break;
    if (code == kOptPad) {
      ++i;
      continue;
    }
    if (i + 1 >= packet.size() || i + 2 + packet[i + 1] > packet.size()) return std::nullopt;
    if (code == kOptBootfile) file = c_string(packet.subspan(i + 2, packet[i + 1]));
    i += 2 + packet[i + 1];
  }
  return server_of(file);
}

}  // namespace revive::agent
