#include "icmp.hpp"

namespace revive::boot {

std::uint16_t internet_checksum(std::span<const std::uint8_t> d) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < d.size(); i += 2)
    sum += static_cast<std::uint32_t>((d[i] << 8) | d[i + 1]);
  if (d.size() % 2 != 0) sum += static_cast<std::uint32_t>(d.back() << 8);
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

std::vector<std::uint8_t> icmp_echo_request(std::uint16_t id, std::uint16_t seq) {
  std::vector<std::uint8_t> m = {8,
                                 0,
                                 0,
                                 0,
                                 static_cast<std::uint8_t>(id >> 8),
                                 static_cast<std::uint8_t>(id),
                                 static_cast<std::uint8_t>(seq >> 8),
                                 static_cast<std::uint8_t>(seq)};
  for (const char c :
       {'r', 'e', 'v', 'i', 'v', 'e', '-', 'd', 'h', 'c', 'p', '-', 'p', 'r', 'o', 'b'})
    m.push_back(static_cast<std::uint8_t>(c));
  const std::uint16_t sum = internet_checksum(m);
  m[2] = static_cast<std::uint8_t>(sum >> 8);
  m[3] = static_cast<std::uint8_t>(sum);
  return m;
}

std::optional<EchoReply> parse_icmp_echo_reply(std::span<const std::uint8_t> p) {
  if (p.size() < 20 || (p[0] >> 4) != 4) return std::nullopt;
  const std::size_t ihl = static_cast<std::size_t>(p[0] & 0x0F) * 4;
  if (ihl < 20 || p.size() < ihl + 8 || p[9] != 1) return std::nullopt;  // protocol 1: ICMP
  const auto icmp = p.subspan(ihl);
  if (icmp[0] != 0 || icmp[1] != 0 || internet_checksum(icmp) != 0) return std::nullopt;
  EchoReply r;
  r.from = (static_cast<std::uint32_t>(p[12]) << 24) | (static_cast<std::uint32_t>(p[13]) << 16) |
           (static_cast<std::uint32_t>(p[14]) << 8) | p[15];
  r.id = static_cast<std::uint16_t>((icmp[4] << 8) | icmp[5]);
  r.seq = static_cast<std::uint16_t>((icmp[6] << 8) | icmp[7]);
  return r;
}

}  // namespace revive::boot
