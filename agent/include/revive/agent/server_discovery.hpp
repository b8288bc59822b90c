#pragma once
// How a laptop booted from a USB stick that names no server finds one: as network boot does,
// by asking DHCP. The agent broadcasts the DHCPDISCOVER iPXE would send (vendor class
// PXEClient, user class iPXE); revive-server's proxyDHCP (or its own DHCP server) answers with
// the laptop's boot-script URL, http://HOST:PORT/boot/MAC.ipxe, and HOST:PORT is the server.
// Every offer within the wait is read: on a workshop network the router answers too, and
// busybox's udhcpc would take whichever offer came first. The jobs still have to be signed
// by the pinned key, so an answer from a stranger cannot order anything.

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "revive/error.hpp"

namespace revive::agent {

using MacAddress = std::array<std::uint8_t, 6>;

/// "52:54:00:77:00:05" (or with '-') as bytes; nullopt when it is not a MAC address.
std::optional<MacAddress> parse_mac(const std::string& text);

/// The DHCPDISCOVER (BOOTP broadcast flag set) iPXE on a BIOS laptop would send from `mac`.
std::vector<std::uint8_t> discover_packet(const MacAddress& mac, std::uint32_t xid);

/// The server ("http://host[:port]") an answer to that discover names in its boot file (the
/// file field or option 67), or nullopt: not a reply to this xid and MAC, or no iPXE
/// boot-script URL in it (the workshop router's plain offer).
std::optional<std::string> server_from_offer(std::span<const std::uint8_t> packet,
                                             const MacAddress& mac, std::uint32_t xid);

/// Broadcasts the discover on interface `iface` (which has `mac`) from port 68 and reads
/// every answer for up to `wait_ms`; the first server one names, or not_found (no Revive
/// server answered), io (socket errors, with the call that failed).
Result<std::string> find_server_by_dhcp(const std::string& iface, const MacAddress& mac,
                                        int wait_ms);

}  // namespace revive::agent
