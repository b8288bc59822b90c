#pragma once
// DHCP/BOOTP packets (RFC 2131/2132, option overload RFC 2131 §4.1, long options RFC 3396) and
// the proxyDHCP decision (PXE 2.1 spec, UEFI 2.x HTTP boot). Pure: bytes in, bytes out, no
// sockets. Every length in a packet from the network is checked before it is used.

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "revive/error.hpp"

namespace revive::boot {

namespace dhcp_opt {
inline constexpr std::uint8_t pad = 0, subnet_mask = 1, router = 3, hostname = 12,
                              vendor_specific = 43, requested_ip = 50, lease_time = 51,
                              overload = 52, message_type = 53, server_id = 54, param_request = 55,
                              max_message_size = 57, vendor_class = 60, client_id = 61,
                              tftp_server = 66, bootfile = 67, user_class = 77, client_arch = 93,
                              client_ndi = 94, client_uuid = 97, end = 255;
}  // namespace dhcp_opt

namespace dhcp_msg {
inline constexpr std::uint8_t discover = 1, offer = 2, request = 3, decline = 4, ack = 5, nak = 6,
                              release = 7, inform = 8;
}  // namespace dhcp_msg

struct DhcpPacket {
  std::uint8_t op = 1;  ///< 1 request, 2 reply
  std::uint8_t htype = 1;
  std::uint8_t hlen = 6;
  std::uint8_t hops = 0;
  std::uint32_t xid = 0;
  std::uint16_t secs = 0;
  std::uint16_t flags = 0;
  std::uint32_t ciaddr = 0, yiaddr = 0, siaddr = 0, giaddr = 0;  ///< host byte order
  std::array<std::uint8_t, 16> chaddr{};
  std::string sname;  ///< server host name field (64 bytes on the wire)
  std::string file;   ///< boot file name field (128 bytes on the wire)
  /// Options by code; a code split over several instances (RFC 3396) is joined.
  std::map<std::uint8_t, std::vector<std::uint8_t>> options;

  std::optional<std::uint8_t> message_type() const;
  std::optional<std::string> option_string(std::uint8_t code) const;
  void set_option(std::uint8_t code, std::span<const std::uint8_t> value);
  void set_option(std::uint8_t code, const std::string& value);
  void set_option_u32(std::uint8_t code, std::uint32_t value);
  /// "52:54:00:12:34:56" for Ethernet (hlen 6), else the chaddr bytes in hex with colons.
  std::string mac() const;
};

/// Parses a DHCP or BOOTP packet. Errc::invalid_input names what is wrong.
Result<DhcpPacket> parse_dhcp(std::span<const std::uint8_t> bytes);
/// Encodes a packet (options longer than 255 bytes are split per RFC 3396), padded to 300 bytes
/// (the BOOTP minimum some PXE ROMs insist on).
std::vector<std::uint8_t> encode_dhcp(const DhcpPacket& p);

/// A reply to `req` with what every reply copies from its request (op 2, htype, hlen, xid,
/// flags, giaddr, chaddr) and nothing else.
DhcpPacket reply_skeleton(const DhcpPacket& req);

/// A PXE or UEFI HTTP boot client (vendor class "PXEClient..." / "HTTPClient...").
bool is_boot_client(const DhcpPacket& p);

/// Client architecture from option 93 (RFC 4578 / IANA "Processor Architecture Types").
enum class ClientArch {
  bios,
  uefi_x64,
  uefi_x64_http,
  uefi_ia32,
  uefi_arm64,
  uefi_arm64_http,
  other
};
ClientArch client_arch(const DhcpPacket& p);
std::string to_string(ClientArch a);

/// What the boot service hands out.
struct BootConfig {
  std::uint32_t server_ip = 0;  ///< the address PXE clients reach TFTP and HTTP at (host order)
  std::uint16_t http_port = 8080;
  std::string bios_file = "undionly.kpxe";       ///< TFTP, BIOS PXE ROMs
  std::string uefi_file = "snponly.efi";         ///< TFTP, x86-64 UEFI PXE
  std::string uefi_secure_file = "shimx64.efi";  ///< used instead of uefi_file when secure_boot
  bool secure_boot = false;  ///< UEFI gets the signed shim → GRUB → kernel chain
  /// The laptop's workflow is done: name a boot file that does not exist, so the firmware's
  /// network boot fails at once and it goes on to the disk (silence would cost every network
  /// boot option its full DHCP timeout). iPXE still gets its script, which says "local disk".
  bool local_disk = false;
};
inline constexpr char kLocalDiskBootFile[] = "local-disk";

/// Why a request got no proxy answer (for the log), or the answer.
struct ProxyDecision {
  std::optional<DhcpPacket> reply;
  std::string why;  ///< "not a PXE or HTTP boot client", "DHCPRELEASE"... or what was offered
};

/// proxyDHCP (PXE spec 2.1 §2.2.2, as dnsmasq answers real ROMs): answers only PXE ("PXEClient")
/// and HTTP boot ("HTTPClient") clients, never gives out an address (yiaddr 0), and names the
/// boot file by architecture; iPXE (user class "iPXE") gets the HTTP URL of its device's boot
/// script instead. `port4011` is true for requests to the PXE boot-server port, answered with
/// DHCPACK; port 67 DISCOVER/REQUEST get an OFFER/ACK.
ProxyDecision proxy_dhcp_reply(const DhcpPacket& request, const BootConfig& cfg, bool port4011);

/// "10.0.0.2" from a host-order address.
std::string ip_to_string(std::uint32_t ip);
/// Host-order address from dotted quad; invalid_input otherwise.
Result<std::uint32_t> parse_ipv4(const std::string& s);

}  // namespace revive::boot
