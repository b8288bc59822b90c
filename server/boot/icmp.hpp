#pragma once
// ICMP echo (RFC 792) for the full-DHCP server's conflict check: before an address is offered,
// it is pinged; an answer means another host already uses it. Pure: encoding and parsing only.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace revive::boot {

/// RFC 1071 Internet checksum.
std::uint16_t internet_checksum(std::span<const std::uint8_t> data);

/// An ICMP echo request (type 8) with a small payload; the kernel adds the IP header.
std::vector<std::uint8_t> icmp_echo_request(std::uint16_t id, std::uint16_t seq);

struct EchoReply {
  std::uint32_t from = 0;  ///< host order
  std::uint16_t id = 0, seq = 0;
};

/// What a raw ICMP socket hands over: an IPv4 header, then the ICMP message. An echo reply
/// (type 0) with a valid checksum, else nullopt.
std::optional<EchoReply> parse_icmp_echo_reply(std::span<const std::uint8_t> ip_packet);

}  // namespace revive::boot
