// libFuzzer target for the proxyDHCP path: every datagram that reaches UDP 67/4011 is parsed,
// decided on and (when answered) encoded. Checks: no crash, an answer never hands out an
// address, and what we encode parses back to the same options. The same bytes also go to the
// ICMP echo-reply parser of the conflict check (raw ICMP socket input).
// Run: build/fuzz/tests/dhcp_fuzz -max_total_time=60
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "dhcp.hpp"
#include "icmp.hpp"

using namespace revive::boot;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (auto r = parse_icmp_echo_reply(std::span(data, size)); r && size < 28) std::abort();
  auto p = parse_dhcp(std::span(data, size));
  if (!p) return 0;
  BootConfig cfg;
  cfg.server_ip = 0x0a000002;
  cfg.secure_boot = size % 2 == 0;
  for (bool port4011 : {false, true}) {
    auto d = proxy_dhcp_reply(*p, cfg, port4011);
    if (!d.reply) continue;
    if (d.reply->yiaddr != 0) std::abort();
    const auto bytes = encode_dhcp(*d.reply);
    auto back = parse_dhcp(bytes);
    if (!back || back->options != d.reply->options || back->xid != p->xid) std::abort();
  }
  // Re-encoding what we parsed must parse again (options joined per RFC 3396 stay joined).
  auto again = parse_dhcp(encode_dhcp(*p));
  if (!again) std::abort();
  return 0;
}
