#include "dhcp.hpp"

#include <algorithm>
#include <cstdio>

namespace revive::boot {

namespace {

constexpr std::size_t kFixedLen = 236;  // BOOTP header up to the options field
constexpr std::uint32_t kMagic = 0x63825363;
constexpr std::size_t kMinPacket = 300;

std::uint32_t get32(std::span<const std::uint8_t> b, std::size_t at) {
  return (std::uint32_t{b[at]} << 24) | (std::uint32_t{b[at + 1]} << 16) |
         (std::uint32_t{b[at + 2]} << 8) | b[at + 3];
}
std::uint16_t get16(std::span<const std::uint8_t> b, std::size_t at) {
  return static_cast<std::uint16_t>((b[at] << 8) | b[at + 1]);
}
void put32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}
void put16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}

// A NUL-terminated (or full-width) text field.
std::string field_string(std::span<const std::uint8_t> f) {
  const auto end = std::find(f.begin(), f.end(), std::uint8_t{0});
  return std::string(f.begin(), end);
}

// Reads options from one area into `out`, joining repeated codes (RFC 3396).
Result<void> read_options(std::span<const std::uint8_t> area, const char* where,
                          std::map<std::uint8_t, std::vector<std::uint8_t>>& out) {
  std::size_t i = 0;
  while (i < area.size()) {
    const std::uint8_t code = area[i++];
    if (code == dhcp_opt::pad) continue;
    if (code == dhcp_opt::end) return {};
    if (i >= area.size()) {
      return make_error(Errc::invalid_input, std::string("DHCP option ") + std::to_string(code) +
                                                 " in the " + where + " has no length");
    }
    const std::size_t len = area[i++];
    if (len > area.size() - i) {
      return make_error(Errc::invalid_input, std::string("DHCP option ") + std::to_string(code) +
                                                 " in the " + where + " claims " +
                                                 std::to_string(len) + " bytes, " +
                                                 std::to_string(area.size() - i) + " are left");
    }
    auto& v = out[code];
    v.insert(v.end(), area.begin() + static_cast<std::ptrdiff_t>(i),
             area.begin() + static_cast<std::ptrdiff_t>(i + len));
    i += len;
  }
  return {};  // a missing END is tolerated (several old ROMs omit it)
}

void write_option(std::vector<std::uint8_t>& out, std::uint8_t code,
                  const std::vector<std::uint8_t>& v) {
  std::size_t at = 0;
  do {  // an empty option still appears once
    const std::size_t n = std::min<std::size_t>(255, v.size() - at);
    out.push_back(code);
    out.push_back(static_cast<std::uint8_t>(n));
    out.insert(out.end(), v.begin() + static_cast<std::ptrdiff_t>(at),
               v.begin() + static_cast<std::ptrdiff_t>(at + n));
    at += n;
  } while (at < v.size());
}

}  // namespace

std::optional<std::uint8_t> DhcpPacket::message_type() const {
  auto it = options.find(dhcp_opt::message_type);
  if (it == options.end() || it->second.size() != 1) return std::nullopt;
  return it->second[0];
}

std::optional<std::string> DhcpPacket::option_string(std::uint8_t code) const {
  auto it = options.find(code);
  if (it == options.end()) return std::nullopt;
  return std::string(it->second.begin(), it->second.end());
}

void DhcpPacket::set_option(std::uint8_t code, std::span<const std::uint8_t> value) {
  options[code].assign(value.begin(), value.end());
}

void DhcpPacket::set_option(std::uint8_t code, const std::string& value) {
  options[code].assign(value.begin(), value.end());
}

void DhcpPacket::set_option_u32(std::uint8_t code, std::uint32_t value) {
  options[code] = {static_cast<std::uint8_t>(value >> 24), static_cast<std::uint8_t>(value >> 16),
                   static_cast<std::uint8_t>(value >> 8), static_cast<std::uint8_t>(value)};
}

std::string DhcpPacket::mac() const {
  const std::size_t n = std::min<std::size_t>(hlen, chaddr.size());
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    char b[4];
    std::snprintf(b, sizeof b, i ? ":%02x" : "%02x", chaddr[i]);
    s += b;
  }
  return s;
}

Result<DhcpPacket> parse_dhcp(std::span<const std::uint8_t> b) {
  if (b.size() < kFixedLen + 4) {
    return make_error(Errc::invalid_input, "DHCP packet of " + std::to_string(b.size()) +
                                               " bytes is shorter than the " +
                                               std::to_string(kFixedLen + 4) + "-byte header");
  }
  DhcpPacket p;
  p.op = b[0];
  p.htype = b[1];
  p.hlen = b[2];
  p.hops = b[3];
  if (p.op != 1 && p.op != 2)
    return make_error(Errc::invalid_input,
                      "DHCP op " + std::to_string(p.op) + " is neither request nor reply");
  if (p.hlen > 16)
    return make_error(Errc::invalid_input,
                      "DHCP hardware address length " + std::to_string(p.hlen) + " exceeds 16");
  p.xid = get32(b, 4);
  p.secs = get16(b, 8);
  p.flags = get16(b, 10);
  p.ciaddr = get32(b, 12);
  p.yiaddr = get32(b, 16);
  p.siaddr = get32(b, 20);
  p.giaddr = get32(b, 24);
  std::copy_n(b.begin() + 28, 16, p.chaddr.begin());
  const auto sname = b.subspan(44, 64);
  const auto file = b.subspan(108, 128);
  if (get32(b, kFixedLen) != kMagic)
    return make_error(Errc::invalid_input,
                      "not DHCP: the magic cookie is missing (plain BOOTP is not served)");
  REVIVE_TRY(read_options(b.subspan(kFixedLen + 4), "options field", p.options));
  std::uint8_t overload = 0;
  if (auto it = p.options.find(dhcp_opt::overload); it != p.options.end()) {
    if (it->second.size() != 1 || it->second[0] < 1 || it->second[0] > 3) {
      return make_error(Errc::invalid_input,
                        "DHCP option 52 (overload) must be one byte of 1, 2 or 3");
    }
    overload = it->second[0];
    p.options.erase(it);  // a framing detail, not an option of the packet's meaning
  }
  // RFC 2131 §4.1: with overload the file field, then the sname field, carry further options.
  auto read_overloaded = [&](std::span<const std::uint8_t> area,
                             const char* where) -> Result<void> {
    std::map<std::uint8_t, std::vector<std::uint8_t>> more;
    REVIVE_TRY(read_options(area, where, more));
    more.erase(dhcp_opt::overload);  // cannot overload again
    for (auto& [code, v] : more) {
      auto& into = p.options[code];
      into.insert(into.end(), v.begin(), v.end());
    }
    return {};
  };
  if (overload & 1) {
    REVIVE_TRY(read_overloaded(file, "file field"));
  } else {
    p.file = field_string(file);
  }
  if (overload & 2) {
    REVIVE_TRY(read_overloaded(sname, "sname field"));
  } else {
    p.sname = field_string(sname);
  }
  return p;
}

std::vector<std::uint8_t> encode_dhcp(const DhcpPacket& p) {
  std::vector<std::uint8_t> out;
  out.reserve(576);
  out.push_back(p.op);
  out.push_back(p.htype);
  out.push_back(p.hlen);
  out.push_back(p.hops);
  put32(out, p.xid);
  put16(out, p.secs);
  put16(out, p.flags);
  put32(out, p.ciaddr);
  put32(out, p.yiaddr);
  put32(out, p.siaddr);
  put32(out, p.giaddr);
  out.insert(out.end(), p.chaddr.begin(), p.chaddr.end());
  auto fixed = [&](const std::string& s, std::size_t width) {
    const std::size_t n = std::min(s.size(), width - 1);  // always NUL-terminated
    out.insert(out.end(), s.begin(), s.begin() + static_cast<std::ptrdiff_t>(n));
    out.insert(out.end(), width - n, 0);
  };
  fixed(p.sname, 64);
  fixed(p.file, 128);
  put32(out, kMagic);
  // Message type first: some PXE ROMs look for it there.
  if (auto it = p.options.find(dhcp_opt::message_type); it != p.options.end())
    write_option(out, it->first, it->second);
  for (const auto& [code, v] : p.options) {
    if (code == dhcp_opt::message_type || code == dhcp_opt::pad || code == dhcp_opt::end) continue;
    write_option(out, code, v);
  }
  out.push_back(dhcp_opt::end);
  if (out.size() < kMinPacket) out.resize(kMinPacket, 0);
  return out;
}

DhcpPacket reply_skeleton(const DhcpPacket& req) {
  DhcpPacket r;
  r.op = 2;
  r.htype = req.htype;
  r.hlen = req.hlen;
  r.xid = req.xid;
  r.flags = req.flags;
  r.giaddr = req.giaddr;
  r.chaddr = req.chaddr;
  return r;
}

bool is_boot_client(const DhcpPacket& p) {
  const std::string vendor = p.option_string(dhcp_opt::vendor_class).value_or("");
  return vendor.rfind("PXEClient", 0) == 0 || vendor.rfind("HTTPClient", 0) == 0;
}

ClientArch client_arch(const DhcpPacket& p) {
  auto it = p.options.find(dhcp_opt::client_arch);
  if (it == p.options.end() || it->second.size() < 2) {
    // No option 93: old BIOS ROMs. The vendor class may still say "Arch:00007".
    auto vc = p.option_string(dhcp_opt::vendor_class).value_or("");
    if (vc.find("Arch:00007") != std::string::npos || vc.find("Arch:00009") != std::string::npos)
      return ClientArch::uefi_x64;
    if (vc.find("Arch:00016") != std::string::npos) return ClientArch::uefi_x64_http;
    return ClientArch::bios;
  }
  switch ((it->second[0] << 8) | it->second[1]) {  // the first listed architecture
    case 0:
      return ClientArch::bios;
    case 6:
      return ClientArch::uefi_ia32;
    case 7:
    case 9:
      return ClientArch::uefi_x64;
    case 11:
      return ClientArch::uefi_arm64;
    case 16:
      return ClientArch::uefi_x64_http;
    case 19:
      return ClientArch::uefi_arm64_http;
    default:
      return ClientArch::other;
  }
}

std::string to_string(ClientArch a) {
  switch (a) {
    case ClientArch::bios:
      return "BIOS";
    case ClientArch::uefi_x64:
      return "x86-64 UEFI";
    case ClientArch::uefi_x64_http:
      return "x86-64 UEFI HTTP boot";
    case ClientArch::uefi_ia32:
      return "IA32 UEFI";
    case ClientArch::uefi_arm64:
      return "ARM64 UEFI";
    case ClientArch::uefi_arm64_http:
      return "ARM64 UEFI HTTP boot";
    case ClientArch::other:
      return "unknown architecture";
  }
  return "unknown architecture";
}

std::string ip_to_string(std::uint32_t ip) {
  return std::to_string(ip >> 24) + "." + std::to_string((ip >> 16) & 255) + "." +
         std::to_string((ip >> 8) & 255) + "." + std::to_string(ip & 255);
}

Result<std::uint32_t> parse_ipv4(const std::string& s) {
  std::uint32_t ip = 0;
  int parts = 0;
  std::size_t i = 0;
  while (parts < 4) {
    std::size_t j = i;
    unsigned v = 0;
    while (j < s.size() && j - i < 4 && s[j] >= '0' && s[j] <= '9')
      v = v * 10 + static_cast<unsigned>(s[j++] - '0');
    if (j == i || j - i > 3 || v > 255) break;
    ip = (ip << 8) | v;
    ++parts;
    i = j;
    if (parts < 4) {
      if (i >= s.size() || s[i] != '.') break;
      ++i;
    }
  }
  if (parts != 4 || i != s.size())
    return make_error(Errc::invalid_input, "\"" + s + "\" is not an IPv4 address");
  return ip;
}

namespace {

std::uint32_t be32(const std::vector<std::uint8_t>& v) {
  return (std::uint32_t{v[0]} << 24) | (std::uint32_t{v[1]} << 16) | (std::uint32_t{v[2]} << 8) |
         v[3];
}

// Why a booting client's request gets no proxy answer; nullopt when it gets one. A proxy on
// port 67 answers the DISCOVER; a REQUEST there belongs to the real DHCP server unless it is
// addressed to us (some ROMs send their 4011 request to 67 as well).
std::optional<std::string> request_for_another_server(const DhcpPacket& req,
                                                      const BootConfig& cfg) {
  auto sid = req.options.find(dhcp_opt::server_id);
  if (sid == req.options.end()) return std::nullopt;
  if (sid->second.size() != 4) return "malformed server identifier";
  if (be32(sid->second) != cfg.server_ip) return "DHCPREQUEST for another server";
  return std::nullopt;
}

// The boot file (a TFTP name or an HTTP URL) for this client; nullopt when there is none for
// its architecture.
std::optional<std::string> boot_file_for(const DhcpPacket& req, const BootConfig& cfg,
                                         ClientArch arch, const std::string& user_class) {
  const std::string base =
      "http://" + ip_to_string(cfg.server_ip) + ":" + std::to_string(cfg.http_port);
  if (user_class == "iPXE") {
    std::string mac = req.mac();
    std::replace(mac.begin(), mac.end(), ':', '-');
    return base + "/boot/" + mac + ".ipxe";
  }
  const bool http_boot = arch == ClientArch::uefi_x64_http || arch == ClientArch::uefi_arm64_http;
  if (cfg.local_disk) {
    return http_boot ? base + "/boot/files/" + kLocalDiskBootFile : std::string(kLocalDiskBootFile);
  }
  switch (arch) {
    case ClientArch::bios:
      return cfg.bios_file;
    case ClientArch::uefi_x64:
      return cfg.secure_boot ? cfg.uefi_secure_file : cfg.uefi_file;
    case ClientArch::uefi_x64_http:
      return base + "/boot/files/" + (cfg.secure_boot ? cfg.uefi_secure_file : cfg.uefi_file);
    default:
      return std::nullopt;
  }
}

DhcpPacket boot_reply(const DhcpPacket& req, const BootConfig& cfg, const std::string& file,
                      bool offer, bool http, bool pxe) {
  DhcpPacket r = reply_skeleton(req);
  r.ciaddr = req.ciaddr;
  r.siaddr = cfg.server_ip;  // TFTP next-server
  r.sname = ip_to_string(cfg.server_ip);
  r.file = file;
  r.options[dhcp_opt::message_type] = {offer ? dhcp_msg::offer : dhcp_msg::ack};
  r.set_option_u32(dhcp_opt::server_id, cfg.server_ip);
  r.set_option(dhcp_opt::vendor_class, std::string(http ? "HTTPClient" : "PXEClient"));
  if (auto uuid = req.options.find(dhcp_opt::client_uuid); uuid != req.options.end()) {
    r.options[dhcp_opt::client_uuid] = uuid->second;  // PXE spec: echo the client's machine id
  }
  if (pxe) {
    // PXE vendor options: discovery control bit 3 = "the boot file in this offer is the one to
    // download; no boot server discovery". What dnsmasq sends in proxy mode without a menu.
    r.options[dhcp_opt::vendor_specific] = {6, 1, 8, 255};
  }
  if (file.size() >= 128) {  // too long for the file field: option 67 carries it
    r.file.clear();
    r.set_option(dhcp_opt::bootfile, file);
  }
  return r;
}

}  // namespace

ProxyDecision proxy_dhcp_reply(const DhcpPacket& req, const BootConfig& cfg, bool port4011) {
  ProxyDecision d;
  if (req.op != 1) {
    d.why = "not a request";
    return d;
  }
  if (req.htype != 1 || req.hlen != 6) {
    d.why = "not Ethernet";
    return d;
  }
  const auto type = req.message_type();
  if (!type) {
    d.why = "no DHCP message type";
    return d;
  }
  const bool wants_answer = *type == dhcp_msg::discover || *type == dhcp_msg::request ||
                            (port4011 && *type == dhcp_msg::inform);
  if (!wants_answer) {
    d.why = "message type " + std::to_string(*type) + " needs no proxy answer";
    return d;
  }
  const std::string vendor = req.option_string(dhcp_opt::vendor_class).value_or("");
  const bool http = vendor.rfind("HTTPClient", 0) == 0;
  const bool pxe = !http && is_boot_client(req);
  if (!pxe && !http) {
    d.why = "not a PXE or HTTP boot client (vendor class \"" + vendor + "\")";
    return d;
  }
  if (!port4011 && *type == dhcp_msg::request) {
    if (auto why = request_for_another_server(req, cfg)) {
      d.why = *why;
      return d;
    }
  }
  const ClientArch arch = client_arch(req);
  const std::string user_class = req.option_string(dhcp_opt::user_class).value_or("");
  const auto file = boot_file_for(req, cfg, arch, user_class);
  if (!file) {
    d.why = "no boot file for " + to_string(arch) + " clients";
    return d;
  }
  const bool offer = !port4011 && *type == dhcp_msg::discover;
  d.reply = boot_reply(req, cfg, *file, offer, http, pxe);
  d.why = (offer ? "offered " : "acknowledged ") + *file + " to " + to_string(arch) +
          (user_class == "iPXE" ? " (iPXE)" : "");
  return d;
}

}  // namespace revive::boot
