// Network-boot protocols: DHCP codec and the proxyDHCP decision, TFTP codec, negotiation and the
// window state machine, confinement of TFTP names, and the iPXE boot scripts.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "boot_script.hpp"
#include "dhcp.hpp"
#include "dhcp_server.hpp"
#include "icmp.hpp"
#include "temp_dir.hpp"
#include "tftp.hpp"

using namespace revive::boot;

namespace {

// A PXE DHCPDISCOVER laid out by hand from RFC 2131 §2 and the PXE 2.1 spec, as a BIOS NIC ROM
// sends it (fields as seen from an Intel UNDI ROM): no encoder involved.
std::vector<std::uint8_t> pxe_discover(std::uint16_t arch, const std::string& user_class = "") {
  std::vector<std::uint8_t> b(236, 0);
  b[0] = 1;  // op BOOTREQUEST
  b[1] = 1;  // htype Ethernet
  b[2] = 6;  // hlen
  b[4] = 0x48;
  b[5] = 0x6e;
  b[6] = 0xd0;
  b[7] = 0x19;   // xid
  b[9] = 4;      // secs
  b[10] = 0x80;  // flags: broadcast
  const std::uint8_t mac[6] = {0x52, 0x54, 0x00, 0x62, 0x40, 0x01};
  std::copy(mac, mac + 6, b.begin() + 28);
  for (std::uint8_t c : {0x63, 0x82, 0x53, 0x63}) b.push_back(c);  // magic cookie
  auto opt = [&](std::uint8_t code, std::vector<std::uint8_t> v) {
    b.push_back(code);
    b.push_back(static_cast<std::uint8_t>(v.size()));
    b.insert(b.end(), v.begin(), v.end());
  };
  opt(53, {1});           // DHCPDISCOVER
  opt(57, {0x05, 0xc0});  // max message size 1472
  opt(93, {static_cast<std::uint8_t>(arch >> 8), static_cast<std::uint8_t>(arch)});
  opt(94, {1, 2, 1});  // UNDI 2.1
  const std::string vc = "PXEClient:Arch:0000" + std::to_string(arch % 10) + ":UNDI:002001";
  opt(60, std::vector<std::uint8_t>(vc.begin(), vc.end()));
  std::vector<std::uint8_t> uuid(17, 0xab);
  uuid[0] = 0;  // type 0 + 16-byte GUID
  opt(97, uuid);
  if (!user_class.empty()) opt(77, std::vector<std::uint8_t>(user_class.begin(), user_class.end()));
  b.push_back(255);
  return b;
}

BootConfig cfg() {
  BootConfig c;
  c.server_ip = 0x0a4d0002;  // 10.77.0.2
  c.http_port = 8080;
  return c;
}

}  // namespace

TEST(Dhcp, ParsesAHandBuiltPxeDiscover) {
  auto p = parse_dhcp(pxe_discover(0));
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->xid, 0x486ed019u);
  EXPECT_EQ(p->secs, 4);
  EXPECT_EQ(p->flags, 0x8000);
  EXPECT_EQ(p->mac(), "52:54:00:62:40:01");
  EXPECT_EQ(p->message_type(), dhcp_msg::discover);
  EXPECT_EQ(p->option_string(dhcp_opt::vendor_class), "PXEClient:Arch:00000:UNDI:002001");
  EXPECT_EQ(client_arch(*p), ClientArch::bios);
}

TEST(Dhcp, EncodeThenParseKeepsEveryField) {
  DhcpPacket p;
  p.op = 2;
  p.xid = 0xdeadbeef;
  p.yiaddr = 0x0a000064;
  p.siaddr = 0x0a000002;
  p.chaddr = {1, 2, 3, 4, 5, 6};
  p.file = "undionly.kpxe";
  p.sname = "10.0.0.2";
  p.options[dhcp_opt::message_type] = {dhcp_msg::offer};
  p.set_option_u32(dhcp_opt::server_id, 0x0a000002);
  p.set_option(dhcp_opt::vendor_class, std::string("PXEClient"));
  p.set_option(dhcp_opt::bootfile,
               std::string(300, 'x'));  // longer than one option: RFC 3396 split
  const auto bytes = encode_dhcp(p);
  EXPECT_GE(bytes.size(), 300u);
  EXPECT_EQ(bytes[240], dhcp_opt::message_type);  // message type first, right after the cookie
  auto q = parse_dhcp(bytes);
  ASSERT_TRUE(q) << q.error().message;
  EXPECT_EQ(q->xid, p.xid);
  EXPECT_EQ(q->yiaddr, p.yiaddr);
  EXPECT_EQ(q->siaddr, p.siaddr);
  EXPECT_EQ(q->file, "undionly.kpxe");
  EXPECT_EQ(q->sname, "10.0.0.2");
  EXPECT_EQ(q->options, p.options);
}

TEST(Dhcp, ReadsOptionsFromOverloadedFileAndSnameFields) {
  auto b = pxe_discover(7);
  // Put option 66 into the file field (offset 108) and option 12 into sname (offset 44).
  b[108] = 66;
  b[109] = 3;
  b[110] = 'a';
  b[111] = 'b';
  b[112] = 'c';
  b[113] = 255;
  b[44] = 12;
  b[45] = 2;
  b[46] = 'h';
  b[47] = 'x';
  b[48] = 255;
  b.pop_back();  // END
  b.insert(b.end(), {52, 1, 3, 255});
  auto p = parse_dhcp(b);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->option_string(66), "abc");
  EXPECT_EQ(p->option_string(12), "hx");
  EXPECT_TRUE(p->file.empty());
  EXPECT_EQ(client_arch(*p), ClientArch::uefi_x64);
  EXPECT_FALSE(p->options.count(dhcp_opt::overload))
      << "framing, not content: re-encoding must not repeat it";
  // Found by dhcp_fuzz: an overload option repeated inside the file field was joined to the
  // first one, and the re-encoded packet no longer parsed.
  b[113] = 52;
  b[114] = 1;
  b[115] = 3;
  b[116] = 255;
  auto again = parse_dhcp(b);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_TRUE(parse_dhcp(encode_dhcp(*again)));
}

TEST(Dhcp, RefusesMalformedPackets) {
  auto b = pxe_discover(0);
  EXPECT_FALSE(parse_dhcp(std::span(b.data(), 200)));  // short header
  auto no_cookie = b;
  no_cookie[236] = 0;
  EXPECT_FALSE(parse_dhcp(no_cookie));
  auto overrun = b;
  overrun.pop_back();
  overrun.insert(overrun.end(), {60, 200, 'x'});  // claims 200 bytes, has 1
  auto r = parse_dhcp(overrun);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("claims 200 bytes"), std::string::npos);
  auto hlen = b;
  hlen[2] = 17;
  EXPECT_FALSE(parse_dhcp(hlen));
  auto bad_overload = b;
  bad_overload.pop_back();
  bad_overload.insert(bad_overload.end(), {52, 1, 9, 255});
  EXPECT_FALSE(parse_dhcp(bad_overload));
}

TEST(ProxyDhcp, BiosRomGetsUndionlyWithoutAnAddress) {
  auto req = parse_dhcp(pxe_discover(0));
  ASSERT_TRUE(req);
  auto d = proxy_dhcp_reply(*req, cfg(), false);
  ASSERT_TRUE(d.reply) << d.why;
  const auto& r = *d.reply;
  EXPECT_EQ(r.op, 2);
  EXPECT_EQ(r.xid, req->xid);
  EXPECT_EQ(r.yiaddr, 0u) << "a proxy never hands out addresses";
  EXPECT_EQ(r.siaddr, 0x0a4d0002u);
  EXPECT_EQ(r.file, "undionly.kpxe");
  EXPECT_EQ(r.message_type(), dhcp_msg::offer);
  EXPECT_EQ(r.option_string(dhcp_opt::vendor_class), "PXEClient");
  EXPECT_EQ(r.options.at(dhcp_opt::server_id), (std::vector<std::uint8_t>{10, 77, 0, 2}));
  EXPECT_EQ(r.options.at(dhcp_opt::client_uuid), req->options.at(dhcp_opt::client_uuid))
      << "PXE: echo option 97";
  EXPECT_EQ(r.options.at(dhcp_opt::vendor_specific), (std::vector<std::uint8_t>{6, 1, 8, 255}));
  EXPECT_FALSE(r.options.count(dhcp_opt::lease_time));
  EXPECT_FALSE(r.options.count(dhcp_opt::router));
}

TEST(ProxyDhcp, BootFileFollowsTheArchitecture) {
  for (auto [arch, want] :
       std::vector<std::pair<std::uint16_t, std::string>>{{7, "snponly.efi"}, {9, "snponly.efi"}}) {
    auto d = proxy_dhcp_reply(*parse_dhcp(pxe_discover(arch)), cfg(), false);
    ASSERT_TRUE(d.reply) << d.why;
    EXPECT_EQ(d.reply->file, want) << arch;
  }
  auto secure = cfg();
  secure.secure_boot = true;
  EXPECT_EQ(proxy_dhcp_reply(*parse_dhcp(pxe_discover(7)), secure, false).reply->file,
            "shimx64.efi");
  EXPECT_EQ(proxy_dhcp_reply(*parse_dhcp(pxe_discover(0)), secure, false).reply->file,
            "undionly.kpxe");
  // ARM64 UEFI: nothing to offer, so no answer (the real DHCP server's offer stands alone).
  auto arm = proxy_dhcp_reply(*parse_dhcp(pxe_discover(11)), cfg(), false);
  EXPECT_FALSE(arm.reply);
  EXPECT_NE(arm.why.find("ARM64"), std::string::npos);
}

TEST(ProxyDhcp, IpxeGetsItsBootScriptUrl) {
  auto d = proxy_dhcp_reply(*parse_dhcp(pxe_discover(0, "iPXE")), cfg(), false);
  ASSERT_TRUE(d.reply) << d.why;
  EXPECT_EQ(d.reply->file, "http://10.77.0.2:8080/boot/52-54-00-62-40-01.ipxe");
}

TEST(ProxyDhcp, HttpBootClientGetsAUrlAndHttpClientVendorClass) {
  auto p = *parse_dhcp(pxe_discover(16));
  p.set_option(dhcp_opt::vendor_class, std::string("HTTPClient:Arch:00016:UNDI:003001"));
  auto d = proxy_dhcp_reply(p, cfg(), false);
  ASSERT_TRUE(d.reply) << d.why;
  EXPECT_EQ(d.reply->file, "http://10.77.0.2:8080/boot/files/snponly.efi");
  EXPECT_EQ(d.reply->option_string(dhcp_opt::vendor_class), "HTTPClient");
  EXPECT_FALSE(d.reply->options.count(dhcp_opt::vendor_specific))
      << "PXE vendor options are for PXE clients";
}

TEST(ProxyDhcp, IgnoresEverythingThatIsNotABootingClient) {
  auto plain = *parse_dhcp(pxe_discover(0));
  plain.options.erase(dhcp_opt::vendor_class);
  EXPECT_FALSE(proxy_dhcp_reply(plain, cfg(), false).reply);
  auto phone = plain;
  phone.set_option(dhcp_opt::vendor_class, std::string("android-dhcp-13"));
  EXPECT_FALSE(proxy_dhcp_reply(phone, cfg(), false).reply);
  auto release = *parse_dhcp(pxe_discover(0));
  release.options[dhcp_opt::message_type] = {dhcp_msg::release};
  EXPECT_FALSE(proxy_dhcp_reply(release, cfg(), false).reply);
  auto reply = *parse_dhcp(pxe_discover(0));
  reply.op = 2;
  EXPECT_FALSE(proxy_dhcp_reply(reply, cfg(), false).reply);
  // A REQUEST to the router (server id = router) is the router's business.
  auto req_router = *parse_dhcp(pxe_discover(0));
  req_router.options[dhcp_opt::message_type] = {dhcp_msg::request};
  req_router.set_option_u32(dhcp_opt::server_id, 0x0a4d0001);
  EXPECT_FALSE(proxy_dhcp_reply(req_router, cfg(), false).reply);
}

TEST(ProxyDhcp, Port4011RequestGetsAnAck) {
  auto p = *parse_dhcp(pxe_discover(7));
  p.options[dhcp_opt::message_type] = {dhcp_msg::request};
  p.ciaddr = 0x0a4d0064;
  auto d = proxy_dhcp_reply(p, cfg(), true);
  ASSERT_TRUE(d.reply) << d.why;
  EXPECT_EQ(d.reply->message_type(), dhcp_msg::ack);
  EXPECT_EQ(d.reply->ciaddr, 0x0a4d0064u);
  EXPECT_EQ(d.reply->file, "snponly.efi");
}

TEST(ProxyDhcp, AddressesParseAndPrint) {
  EXPECT_EQ(*parse_ipv4("10.77.0.2"), 0x0a4d0002u);
  EXPECT_EQ(ip_to_string(0xc0a80101), "192.168.1.1");
  for (const char* bad :
       {"", "10.0.0", "10.0.0.256", "1.2.3.4.5", "a.b.c.d", "10..0.1", "10.0.0.1 "}) {
    EXPECT_FALSE(parse_ipv4(bad)) << bad;
  }
}

// ---- TFTP

TEST(Tftp, ParsesAReadRequestWithOptions) {
  // RFC 2347 §2 layout: opcode 1, "file\0", "octet\0", then name\0value\0 pairs.
  const std::string raw = std::string("\x00\x01", 2) + "boot/undionly.kpxe" + '\0' + "OCTET" +
                          '\0' + "blksize" + '\0' + "1432" + '\0' + "tsize" + '\0' + "0" + '\0' +
                          "windowsize" + '\0' + "16" + '\0';
  auto r =
      parse_tftp_request(std::span(reinterpret_cast<const std::uint8_t*>(raw.data()), raw.size()));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->opcode, tftp_op::rrq);
  EXPECT_EQ(r->filename, "boot/undionly.kpxe");
  EXPECT_EQ(r->mode, "octet");
  ASSERT_EQ(r->options.size(), 3u);
  EXPECT_EQ(r->options[0], (std::pair<std::string, std::string>{"blksize", "1432"}));
  auto n = negotiate_tftp(*r, 123456, TftpLimits{});
  EXPECT_EQ(n.blksize, 1432);
  EXPECT_EQ(n.windowsize, 16);
  EXPECT_EQ(n.oack, (std::vector<std::pair<std::string, std::string>>{
                        {"blksize", "1432"}, {"tsize", "123456"}, {"windowsize", "16"}}));
  const auto oack = encode_tftp_oack(n.oack);
  const std::string want = std::string("\x00\x06", 2) + "blksize" + '\0' + "1432" + '\0' + "tsize" +
                           '\0' + "123456" + '\0' + "windowsize" + '\0' + "16" + '\0';
  EXPECT_EQ(std::string(oack.begin(), oack.end()), want);
}

TEST(Tftp, TimeoutOptionIsCappedSoSlotsAreNotHeldForMinutes) {
  // Issue 15, finding 5: timeout=255 let 256 silent requests hold every slot for ~25 minutes.
  TftpRequest r{tftp_op::rrq, "f", "octet", {{"timeout", "255"}}};
  auto n = negotiate_tftp(r, 10, TftpLimits{});
  EXPECT_EQ(n.timeout_ms, 1000u);
  EXPECT_TRUE(n.oack.empty()) << "a timeout we do not take is not echoed";
  TftpRequest ok{tftp_op::rrq, "f", "octet", {{"timeout", "5"}}};
  auto m = negotiate_tftp(ok, 10, TftpLimits{});
  EXPECT_EQ(m.timeout_ms, 5000u);
  EXPECT_EQ(m.oack, (std::vector<std::pair<std::string, std::string>>{{"timeout", "5"}}));
}

TEST(Tftp, NegotiationLowersAndIgnores) {
  TftpRequest r{tftp_op::rrq,
                "f",
                "octet",
                {{"blksize", "65464"},
                 {"windowsize", "9999"},
                 {"timeout", "0"},
                 {"bogus", "1"},
                 {"blksize", "x"}}};
  auto n = negotiate_tftp(r, 10, TftpLimits{});
  EXPECT_EQ(n.blksize, 1468);
  EXPECT_EQ(n.windowsize, 64);
  EXPECT_EQ(n.timeout_ms, 1000u);
  EXPECT_EQ(n.oack.size(), 2u) << "timeout 0, an unknown option and a malformed value are left out";
  TftpRequest plain{tftp_op::rrq, "f", "octet", {}};
  EXPECT_TRUE(negotiate_tftp(plain, 10, TftpLimits{}).oack.empty()) << "RFC 1350 client: no OACK";
  TftpRequest small{tftp_op::rrq, "f", "octet", {{"blksize", "7"}}};
  EXPECT_EQ(negotiate_tftp(small, 10, TftpLimits{}).blksize, 512)
      << "below the RFC 2348 minimum: ignored";
}

TEST(Tftp, RefusesMalformedRequests) {
  auto parse = [](const std::string& raw) {
    return parse_tftp_request(
        std::span(reinterpret_cast<const std::uint8_t*>(raw.data()), raw.size()));
  };
  EXPECT_FALSE(parse(std::string("\x00\x01", 2)));
  EXPECT_FALSE(parse(std::string("\x00\x03", 2) + "f" + '\0' + "octet" + '\0'));  // DATA on port 69
  EXPECT_FALSE(parse(std::string("\x00\x01", 2) + "f" + '\0' + "octet"));         // no final NUL
  EXPECT_FALSE(parse(std::string("\x00\x01", 2) + '\0' + "octet" + '\0'));        // no name
  EXPECT_FALSE(parse(std::string("\x00\x01", 2) + "f" + '\0' + "binary" + '\0'));  // bad mode
  EXPECT_FALSE(parse(std::string("\x00\x01", 2) + "f" + '\0' + "octet" + '\0' + "blksize" +
                     '\0'));  // option without value
  auto wrq = parse(std::string("\x00\x02", 2) + "f" + '\0' + "octet" + '\0');
  ASSERT_TRUE(wrq);
  EXPECT_EQ(wrq->opcode, tftp_op::wrq);  // parsed, then refused by the read-only server
}

TEST(Tftp, LockStepSenderAcksEachBlockAndIgnoresDuplicates) {
  TftpNegotiated n;  // 512, window 1, no OACK
  TftpSender s(1024, n);
  EXPECT_EQ(s.total_blocks(), 3u) << "1024 bytes = two full blocks and an empty last one";
  EXPECT_EQ(s.window(), std::vector<std::uint64_t>{1});
  EXPECT_EQ(s.on_ack(1), TftpSender::Ack::advanced);
  EXPECT_EQ(s.on_ack(1), TftpSender::Ack::duplicate) << "no Sorcerer's Apprentice";
  EXPECT_EQ(s.window(), std::vector<std::uint64_t>{2});
  EXPECT_EQ(s.on_ack(2), TftpSender::Ack::advanced);
  EXPECT_EQ(s.extent(3), (std::pair<std::uint64_t, std::size_t>{1024, 0}));
  EXPECT_EQ(s.on_ack(3), TftpSender::Ack::done);
  EXPECT_TRUE(s.done());
}

TEST(Tftp, WindowedSenderResendsFromTheLastAckAndGivesUp) {
  TftpNegotiated n;
  n.blksize = 100;
  n.windowsize = 4;
  n.retries = 2;
  n.oack = {{"windowsize", "4"}};
  TftpSender s(1050, n);  // 11 blocks: 10 full + 50 bytes
  EXPECT_TRUE(s.awaiting_oack_ack());
  EXPECT_TRUE(s.window().empty());
  EXPECT_EQ(s.on_ack(1), TftpSender::Ack::duplicate) << "only ACK 0 confirms the OACK";
  EXPECT_EQ(s.on_ack(0), TftpSender::Ack::advanced);
  EXPECT_EQ(s.window(), (std::vector<std::uint64_t>{1, 2, 3, 4}));
  EXPECT_EQ(s.on_ack(2), TftpSender::Ack::advanced) << "block 3 was lost: the client acks 2";
  EXPECT_EQ(s.window(), (std::vector<std::uint64_t>{3, 4, 5, 6}));
  EXPECT_EQ(s.on_ack(9), TftpSender::Ack::duplicate) << "outside the window";
  EXPECT_EQ(s.on_ack(2), TftpSender::Ack::resend) << "block 3 lost again: the client repeats ACK 2";
  EXPECT_EQ(s.on_ack(2), TftpSender::Ack::duplicate) << "only once per window";
  EXPECT_TRUE(s.on_timeout());
  EXPECT_TRUE(s.on_timeout());
  EXPECT_FALSE(s.on_timeout()) << "retries used up";
  EXPECT_EQ(s.extent(11), (std::pair<std::uint64_t, std::size_t>{1000, 50}));
}

TEST(Tftp, BlockNumbersRollOverPast65535) {
  TftpNegotiated n;
  n.blksize = 8;
  n.windowsize = 2;
  TftpSender s(8ull * 70000, n);
  for (std::uint64_t b = 2; b < 65536; b += 2)
    ASSERT_EQ(s.on_ack(TftpSender::wire(b)), TftpSender::Ack::advanced) << b;
  EXPECT_EQ(s.on_ack(65535), TftpSender::Ack::advanced);
  EXPECT_EQ(s.window(), (std::vector<std::uint64_t>{65536, 65537}));
  EXPECT_EQ(TftpSender::wire(65536), 0);
  EXPECT_EQ(s.on_ack(1), TftpSender::Ack::advanced)
      << "wire block 1 after the rollover is block 65537";
  EXPECT_EQ(s.window().front(), 65538u);
}

TEST(Tftp, OpensOnlyInsideTheRoot) {
  revive::test::TempDir t;
  namespace fs = std::filesystem;
  fs::create_directories(t.path() / "root/sub");
  fs::create_directories(t.path() / "outside");
  std::ofstream(t.path() / "root/undionly.kpxe") << "ipxe";
  std::ofstream(t.path() / "root/sub/grub.cfg") << "cfg";
  std::ofstream(t.path() / "outside/secret") << "secret";
  fs::create_symlink("../outside/secret", t.path() / "root/escape");
  fs::create_symlink("sub/grub.cfg", t.path() / "root/inside-link");
  const int root = ::open((t.path() / "root").c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(root, 0);
  auto ok = [&](const std::string& name, std::uint64_t size) {
    auto f = open_confined(root, name);
    ASSERT_TRUE(f) << name << ": " << f.error().message;
    EXPECT_EQ(f->size, size) << name;
    ::close(f->fd);
  };
  ok("undionly.kpxe", 4);
  ok("/undionly.kpxe", 4);
  ok("sub\\grub.cfg", 3);  // Windows-style clients
  ok("inside-link", 3);    // a symlink that stays inside is fine
  for (const char* bad : {"../outside/secret", "sub/../../outside/secret", "escape",
                          "/../outside/secret", "..\\outside\\secret"}) {
    auto f = open_confined(root, bad);
    ASSERT_FALSE(f) << bad;
    EXPECT_EQ(f.error().code, revive::Errc::invalid_input) << bad << ": " << f.error().message;
  }
  EXPECT_EQ(open_confined(root, "missing").error().code, revive::Errc::not_found);
  EXPECT_EQ(open_confined(root, "sub").error().code, revive::Errc::not_found)
      << "directories are not files";
  EXPECT_FALSE(open_confined(root, ""));
  EXPECT_FALSE(open_confined(root, "/"));
  ::close(root);
}

// ---- boot scripts

TEST(BootScript, MacsAreNormalised) {
  EXPECT_EQ(normalise_mac("52-54-00-AB-cd-01"), "52:54:00:ab:cd:01");
  EXPECT_EQ(normalise_mac("52:54:00:ab:cd:01"), "52:54:00:ab:cd:01");
  for (const char* bad : {"", "52-54-00-ab-cd", "52-54-00-ab-cd-0g", "52_54_00_ab_cd_01",
                          "52-54-00-ab-cd-01-02", "../../etc/pa"}) {
    EXPECT_FALSE(normalise_mac(bad)) << bad;
  }
}

TEST(BootScript, LiveAgentScriptCarriesServerTokenAndInitrdName) {
  const auto s = ipxe_live_agent_script(
      {"http://10.77.0.2:8080", "52:54:00:ab:cd:01", "tok_EN-1", "console=ttyS0", "new laptop"});
  EXPECT_EQ(s.rfind("#!ipxe\n", 0), 0u);
  EXPECT_NE(
      s.find("kernel http://10.77.0.2:8080/boot/live/vmlinuz initrd=initrd.img revive.agent=1 "
             "revive.server=http://10.77.0.2:8080 "
             "revive.token=tok_EN-1 revive.mac=52:54:00:ab:cd:01 console=ttyS0 || goto failed\n"),
      std::string::npos)
      << s;
  EXPECT_NE(s.find("initrd --name initrd.img http://10.77.0.2:8080/boot/live/initrd.img"),
            std::string::npos);
  EXPECT_NE(s.find("sanboot --no-describe --drive 0x80"), std::string::npos)
      << "a failed load falls back to the disk";
}

TEST(BootScript, OperatorTextCannotInjectCommands) {
  const auto s = ipxe_live_agent_script(
      {"http://h:1", "52:54:00:ab:cd:01", "t", "quiet\nshell ${x}", "a\nchain http://evil/"});
  EXPECT_EQ(s.find("\nshell"), std::string::npos);
  EXPECT_EQ(s.find("\nchain"), std::string::npos);
  EXPECT_EQ(s.find("${x}"), std::string::npos);
}

TEST(BootScript, FinishedLaptopBootsItsDisk) {
  const auto s = ipxe_local_disk_script("52:54:00:ab:cd:01", "device 3 finished its workflow");
  EXPECT_NE(s.find("iseq ${platform} efi && exit"), std::string::npos);
  EXPECT_NE(s.find("sanboot --no-describe --drive 0x80"), std::string::npos);
  EXPECT_EQ(s.find("kernel"), std::string::npos);
  // The marker a USB stick reads is one comment line: a workshop name cannot break out of it.
  const auto named = ipxe_local_disk_script("52:54:00:ab:cd:01", "done", {"fr", "A\nshell ${x}"});
  EXPECT_NE(named.find("\n#revive: finished language=fr workshop=A shell __x_\n"),
            std::string::npos)
      << named;
}

TEST(BootScript, GrubConfigsForTheSecureBootPath) {
  EXPECT_NE(grub_main_cfg().find("source /grub/revive-$net_default_mac.cfg"), std::string::npos);
  EXPECT_EQ(grub_cfg_mac("grub/revive-52:54:00:AB:cd:01.cfg"), "52:54:00:ab:cd:01");
  EXPECT_FALSE(grub_cfg_mac("grub/revive-52:54:00:ab:cd.cfg"));
  EXPECT_FALSE(grub_cfg_mac("grub/grub.cfg"));
  EXPECT_FALSE(grub_cfg_mac("grub/revive-../../etc/passwd.cfg"));
  const auto live = grub_live_agent_cfg(
      {"http://10.77.0.2:8080", "52:54:00:ab:cd:01", "tok", "console=ttyS0", "new; reboot"});
  EXPECT_NE(live.find("linux /live/vmlinuz revive.agent=1 revive.server=http://10.77.0.2:8080 "
                      "revive.token=tok revive.mac=52:54:00:ab:cd:01 console=ttyS0\n"),
            std::string::npos)
      << live;
  EXPECT_NE(live.find("initrd /live/initrd.img\n"), std::string::npos);
  EXPECT_EQ(live.find("; reboot"), std::string::npos) << "no command injection through the reason";
  const auto local = grub_local_disk_cfg("52:54:00:ab:cd:01", "done");
  EXPECT_NE(local.find("exit"), std::string::npos);
  EXPECT_EQ(local.find("linux"), std::string::npos);
}

// ---- full DHCP (isolated network)

namespace {
DhcpPacket client(std::uint8_t type, std::uint8_t last_mac_byte,
                  std::optional<std::uint32_t> requested = std::nullopt,
                  std::optional<std::uint32_t> server = std::nullopt) {
  auto p = *parse_dhcp(pxe_discover(0));
  p.chaddr[5] = last_mac_byte;
  p.options[dhcp_opt::message_type] = {type};
  if (requested) p.set_option_u32(dhcp_opt::requested_ip, *requested);
  if (server) p.set_option_u32(dhcp_opt::server_id, *server);
  return p;
}

// DISCOVER then REQUEST of what was offered: the lease a real client gets. Its reply.
std::optional<DhcpPacket> lease(LeasePool& pool, std::uint8_t mac, std::int64_t now,
                                std::optional<std::uint32_t> wanted = std::nullopt) {
  auto offer = pool.handle(client(dhcp_msg::discover, mac, wanted), now, cfg());
  if (!offer.reply) return std::nullopt;
  return pool.handle(client(dhcp_msg::request, mac, offer.reply->yiaddr, 0x0a4d0002), now, cfg())
      .reply;
}
}  // namespace

TEST(FullDhcp, OfferRequestAckAndTheSameAddressAfterARestart) {
  DhcpPoolConfig pc{0x0a4d0064, 0x0a4d0066, 0xffffff00, 0x0a4d0001, 600};
  LeasePool pool(pc, {});
  auto offer = pool.handle(client(dhcp_msg::discover, 1), 1000, cfg());
  ASSERT_TRUE(offer.reply) << offer.why;
  EXPECT_EQ(offer.reply->message_type(), dhcp_msg::offer);
  EXPECT_EQ(offer.reply->yiaddr, 0x0a4d0064u);
  EXPECT_EQ(offer.reply->file, "undionly.kpxe") << "a booting client also gets its boot file";
  EXPECT_EQ(offer.reply->options.at(dhcp_opt::router), (std::vector<std::uint8_t>{10, 77, 0, 1}));
  EXPECT_FALSE(offer.leases_changed);
  auto ack = pool.handle(client(dhcp_msg::request, 1, 0x0a4d0064, 0x0a4d0002), 1001, cfg());
  ASSERT_TRUE(ack.reply) << ack.why;
  EXPECT_EQ(ack.reply->message_type(), dhcp_msg::ack);
  EXPECT_EQ(ack.reply->yiaddr, 0x0a4d0064u);
  EXPECT_TRUE(ack.leases_changed);
  EXPECT_EQ(ack.reply->options.at(dhcp_opt::lease_time), (std::vector<std::uint8_t>{0, 0, 2, 88}));
  // Another laptop gets another address; the first keeps its own across a restart.
  auto other = pool.handle(client(dhcp_msg::discover, 2, 0x0a4d0064), 1002, cfg());
  EXPECT_EQ(other.reply->yiaddr, 0x0a4d0065u)
      << "a leased address is never offered to someone else";
  LeasePool restarted(pc, pool.leases());
  EXPECT_EQ(restarted.handle(client(dhcp_msg::discover, 1), 2000, cfg()).reply->yiaddr,
            0x0a4d0064u);
  EXPECT_EQ(restarted.handle(client(dhcp_msg::discover, 3), 2000, cfg()).reply->yiaddr,
            0x0a4d0065u);
}

TEST(FullDhcp, NakDeclineReleaseAndExhaustion) {
  DhcpPoolConfig pc{0x0a4d0064, 0x0a4d0065, 0xffffff00, std::nullopt, 600};
  LeasePool pool(pc, {});
  ASSERT_TRUE(lease(pool, 1, 10));
  // Someone else asking for that address is refused.
  auto nak = pool.handle(client(dhcp_msg::request, 2, 0x0a4d0064, 0x0a4d0002), 11, cfg());
  ASSERT_TRUE(nak.reply);
  EXPECT_EQ(nak.reply->message_type(), dhcp_msg::nak);
  EXPECT_TRUE(nak.reply->file.empty());
  // A client that found .101 in use (another machine has it) makes the pool skip it.
  auto decline = pool.handle(client(dhcp_msg::decline, 2, 0x0a4d0065, 0x0a4d0002), 12, cfg());
  EXPECT_FALSE(decline.reply);
  auto none = pool.handle(client(dhcp_msg::discover, 2), 13, cfg());
  EXPECT_FALSE(none.reply) << "the pool is exhausted: .100 is leased, .101 declined";
  EXPECT_NE(none.why.find("no free address"), std::string::npos);
  // After the lease is released, .100 is free again.
  auto rel = client(dhcp_msg::release, 1, std::nullopt, 0x0a4d0002);
  rel.ciaddr = 0x0a4d0064;
  EXPECT_TRUE(pool.handle(rel, 14, cfg()).leases_changed);
  EXPECT_EQ(pool.handle(client(dhcp_msg::discover, 2), 15, cfg()).reply->yiaddr, 0x0a4d0064u);
  // A REQUEST for another server's offer is not ours to answer.
  EXPECT_FALSE(pool.handle(client(dhcp_msg::request, 3, 0x0a4d0065, 0x0a4d0009), 16, cfg()).reply);
  EXPECT_FALSE(parse_ip_range("10.0.0.9-10.0.0.1"));
  EXPECT_EQ(parse_ip_range("10.0.0.1-10.0.0.9")->second, 0x0a000009u);
}

TEST(FullDhcp, AnAddressAnotherHostAnswersPingsForIsNotOffered) {
  DhcpPoolConfig pc{0x0a4d0064, 0x0a4d0066, 0xffffff00, std::nullopt, 600};
  LeasePool pool(pc, {});
  EXPECT_EQ(pool.handle(client(dhcp_msg::discover, 1), 100, cfg()).reply->yiaddr, 0x0a4d0064u);
  pool.mark_in_use(0x0a4d0064, 100);  // a printer with a static .100 answered the ping
  EXPECT_EQ(pool.handle(client(dhcp_msg::discover, 1), 101, cfg()).reply->yiaddr, 0x0a4d0065u);
  EXPECT_EQ(pool.handle(client(dhcp_msg::discover, 2, 0x0a4d0064), 102, cfg()).reply->yiaddr,
            0x0a4d0066u)
      << "not even when asked for by name";
  EXPECT_EQ(pool.handle(client(dhcp_msg::discover, 3), 100 + 3601, cfg()).reply->yiaddr,
            0x0a4d0064u)
      << "an hour later it is tried again";
}

// Issue 15: a host making up MACs cannot hold the whole range with offers, and offers that
// expired are forgotten (each costs every later request time).
TEST(FullDhcp, MadeUpMacsCannotHoldTheRangeWithOffers) {
  DhcpPoolConfig pc{0x0a4d0064, 0x0a4d00c7, 0xffffff00, std::nullopt, 600};  // 100 addresses
  LeasePool pool(pc, {});
  ASSERT_TRUE(lease(pool, 200, 10, 0x0a4d00c7)) << "a laptop with a lease before the flood";
  int offered = 0;
  for (int i = 0; i < 80; ++i) {
    offered += pool.handle(client(dhcp_msg::discover, i), 20, cfg()).reply ? 1 : 0;
  }
  EXPECT_EQ(offered, 50) << "half the range";
  const auto refused = pool.handle(client(dhcp_msg::discover, 81), 21, cfg());
  EXPECT_FALSE(refused.reply);
  EXPECT_NE(refused.why.find("offers wait for their REQUEST"), std::string::npos) << refused.why;
  EXPECT_TRUE(pool.handle(client(dhcp_msg::discover, 200), 22, cfg()).reply)
      << "a client with a lease still gets its offer";
  EXPECT_TRUE(pool.handle(client(dhcp_msg::discover, 3), 23, cfg()).reply)
      << "so does one whose offer is pending";
  // A minute later the offers expired and were forgotten: new clients get addresses again.
  EXPECT_TRUE(pool.handle(client(dhcp_msg::discover, 81), 20 + 61, cfg()).reply);
}

TEST(FullDhcp, AnAddressTakenOverForgetsItsExpiredLease) {
  DhcpPoolConfig pc{0x0a4d0064, 0x0a4d0064, 0xffffff00, std::nullopt, 600};  // one address
  LeasePool pool(pc, {});
  ASSERT_TRUE(lease(pool, 1, 10));
  ASSERT_TRUE(lease(pool, 2, 10 + 601)) << "the first lease expired";
  ASSERT_EQ(pool.leases().size(), 1u);
  EXPECT_EQ(pool.leases()[0].mac, client(dhcp_msg::discover, 2).mac());
}

// Issue 15, finding 5: per-client limits. A REQUEST only turns this server's own offer (or the
// client's own lease) into a lease, so made-up MACs cannot lease the range past the offer cap.
TEST(FullDhcp, NoLeaseWithoutAnOfferSoMadeUpMacsCannotLeaseTheRange) {
  DhcpPoolConfig pc{0x0a4d0064, 0x0a4d00c7, 0xffffff00, std::nullopt, 600};  // 100 addresses
  LeasePool pool(pc, {});
  for (std::uint32_t i = 0; i < 100; ++i) {
    auto selecting = pool.handle(
        client(dhcp_msg::request, static_cast<std::uint8_t>(i), 0x0a4d0064 + i, 0x0a4d0002), 10,
        cfg());
    ASSERT_TRUE(selecting.reply);
    EXPECT_EQ(selecting.reply->message_type(), dhcp_msg::nak) << "so the client starts over";
    EXPECT_FALSE(selecting.leases_changed);
    auto init_reboot = pool.handle(
        client(dhcp_msg::request, static_cast<std::uint8_t>(i), 0x0a4d0064 + i), 10, cfg());
    EXPECT_FALSE(init_reboot.reply) << "RFC 2131: silent about an address it never leased";
  }
  EXPECT_TRUE(pool.leases().empty());
  auto ack = lease(pool, 200, 11);
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->message_type(), dhcp_msg::ack) << "a real client, DISCOVER first, gets its lease";
  // An offer is for the client it was made to, and for that address only.
  auto offer = pool.handle(client(dhcp_msg::discover, 201), 12, cfg());
  ASSERT_TRUE(offer.reply);
  const auto ip = offer.reply->yiaddr;
  EXPECT_EQ(
      pool.handle(client(dhcp_msg::request, 202, ip, 0x0a4d0002), 12, cfg()).reply->message_type(),
      dhcp_msg::nak);
  EXPECT_EQ(pool.handle(client(dhcp_msg::request, 201, ip + 1, 0x0a4d0002), 12, cfg())
                .reply->message_type(),
            dhcp_msg::nak);
  // Its own lease after a reboot (INIT-REBOOT, no server id) is still acknowledged.
  EXPECT_EQ(
      pool.handle(client(dhcp_msg::request, 200, ack->yiaddr), 100, cfg()).reply->message_type(),
      dhcp_msg::ack);
}

TEST(FullDhcp, RenewalsAreWrittenAtMostOnceAMinuteAndToldTheTimeLeft) {
  DhcpPoolConfig pc{0x0a4d0064, 0x0a4d0066, 0xffffff00, std::nullopt, 600};
  LeasePool pool(pc, {});
  auto offer = pool.handle(client(dhcp_msg::discover, 1), 1000, cfg());
  ASSERT_TRUE(offer.reply);
  const auto ip = offer.reply->yiaddr;
  const auto renew = [&](std::int64_t now) {
    auto r = client(dhcp_msg::request, 1);
    r.ciaddr = ip;  // RENEWING: the address in ciaddr, no server id
    return pool.handle(r, now, cfg());
  };
  EXPECT_TRUE(
      pool.handle(client(dhcp_msg::request, 1, ip, 0x0a4d0002), 1000, cfg()).leases_changed);
  int writes = 0;
  for (std::int64_t t = 1001; t < 1060; ++t) {  // a client (or its spoofer) asking every second
    auto r = renew(t);
    ASSERT_TRUE(r.reply);
    EXPECT_EQ(r.reply->message_type(), dhcp_msg::ack);
    writes += r.leases_changed ? 1 : 0;
    const auto left = static_cast<std::uint32_t>(1000 + 600 - t);
    EXPECT_EQ(r.reply->options.at(dhcp_opt::lease_time),
              (std::vector<std::uint8_t>{0, 0, static_cast<std::uint8_t>(left >> 8),
                                         static_cast<std::uint8_t>(left)}));
  }
  EXPECT_EQ(writes, 0) << "answered, but not written again within the minute";
  auto later = renew(1300);  // a real renewal at half the lease
  EXPECT_TRUE(later.leases_changed);
  EXPECT_EQ(later.reply->options.at(dhcp_opt::lease_time),
            (std::vector<std::uint8_t>{0, 0, 2, 88}));
  ASSERT_EQ(pool.leases().size(), 1u);
  EXPECT_EQ(pool.leases()[0].expires, 1300 + 600);
}

TEST(FullDhcp, NewOffersPerClientAreLimitedButARealLaptopsBootsAreNot) {
  DhcpPoolConfig pc{0x0a4d0064, 0x0a4d00c7, 0xffffff00, std::nullopt, 600};
  LeasePool pool(pc, {});
  // A real laptop: firmware PXE, then iPXE, then the live system's DHCP client, each a full
  // DISCOVER/REQUEST, within seconds; then a reboot a minute later, all of it again.
  for (std::int64_t boot : {100, 160}) {
    for (std::int64_t t : {boot, boot + 2, boot + 9}) {
      auto ack = lease(pool, 1, t);
      ASSERT_TRUE(ack) << "at " << t;
      EXPECT_EQ(ack->message_type(), dhcp_msg::ack);
    }
  }
  // One MAC that gives its address back and asks again, as fast as it can.
  int offered = 0;
  for (int i = 0; i < 50; ++i) {
    if (auto ack = lease(pool, 2, 200)) {
      ++offered;
      auto rel = client(dhcp_msg::release, 2, std::nullopt, 0x0a4d0002);
      rel.ciaddr = ack->yiaddr;
      pool.handle(rel, 200, cfg());
    }
  }
  EXPECT_EQ(offered, 6) << "its burst";
  const auto refused = pool.handle(client(dhcp_msg::discover, 2), 200, cfg());
  EXPECT_FALSE(refused.reply);
  EXPECT_NE(refused.why.find("too many new offers"), std::string::npos) << refused.why;
  EXPECT_TRUE(pool.handle(client(dhcp_msg::discover, 2), 210, cfg()).reply)
      << "one more every 10 s";
  EXPECT_TRUE(lease(pool, 3, 200)) << "other clients are not affected";
  // A host rotating MACs under one client identifier is limited by the identifier.
  int by_id = 0;
  for (int i = 0; i < 20; ++i) {
    auto d = client(dhcp_msg::discover, static_cast<std::uint8_t>(100 + i));
    d.options[dhcp_opt::client_id] = {0xff, 1, 2, 3};
    by_id += pool.handle(d, 300, cfg()).reply ? 1 : 0;
  }
  EXPECT_EQ(by_id, 6);
}

// The limits are the server's settings (--dhcp-offer-burst, --dhcp-offer-every,
// --dhcp-max-pending-offers), not constants.
TEST(FullDhcp, PerClientLimitsAreTheConfiguredOnes) {
  DhcpPoolConfig pc{0x0a4d0064, 0x0a4d00c7, 0xffffff00, std::nullopt, 600};
  pc.max_pending_offers = 3;
  DhcpClientLimits limits;
  limits.new_offer_burst = 2;
  limits.new_offer_every_s = 30;
  LeasePool pool(pc, {}, limits);
  int offered = 0;
  for (int i = 0; i < 10; ++i) {
    if (auto ack = lease(pool, 2, 200)) {
      ++offered;
      auto rel = client(dhcp_msg::release, 2, std::nullopt, 0x0a4d0002);
      rel.ciaddr = ack->yiaddr;
      pool.handle(rel, 200, cfg());
    }
  }
  EXPECT_EQ(offered, 2) << "the configured burst";
  EXPECT_FALSE(pool.handle(client(dhcp_msg::discover, 2), 220, cfg()).reply) << "20 s: not yet";
  EXPECT_TRUE(pool.handle(client(dhcp_msg::discover, 2), 230, cfg()).reply) << "one per 30 s";
  // Three offers wait for their REQUEST (MAC 2's and two new ones): a fourth client waits.
  EXPECT_TRUE(pool.handle(client(dhcp_msg::discover, 3), 230, cfg()).reply);
  EXPECT_TRUE(pool.handle(client(dhcp_msg::discover, 4), 230, cfg()).reply);
  const auto full = pool.handle(client(dhcp_msg::discover, 5), 230, cfg());
  EXPECT_FALSE(full.reply);
  EXPECT_NE(full.why.find("3 offers wait for their REQUEST"), std::string::npos) << full.why;
}

// Picking an address is one pass over the range, not one over every lease for each address
// (65,536 x 65,000 steps, tens of seconds, blocking DHCP, TFTP and HTTP on the io thread).
TEST(FullDhcp, PickingAnAddressInAFullSixteenBitPoolTakesOnePass) {
  DhcpPoolConfig pc{0x0a4d0000, 0x0a4dffff, 0xffff0000, std::nullopt, 600};
  std::vector<Lease> leases;
  const std::uint32_t last_free = 0x0a4dfffe;  // .255.255 is the broadcast address
  for (std::uint32_t ip = pc.first; ip < last_free; ++ip) {
    if ((ip & 0xff) == 0 || ip == 0x0a4d0002) continue;  // unusable, or the server's
    char mac[18];
    std::snprintf(mac, sizeof mac, "02:aa:00:%02x:%02x:%02x", (ip >> 16) & 0xff, (ip >> 8) & 0xff,
                  ip & 0xff);
    leases.push_back({mac, ip, 10'000});
  }
  LeasePool pool(pc, leases);
  const auto t0 = std::chrono::steady_clock::now();
  const auto offer = pool.handle(client(dhcp_msg::discover, 9), 1000, cfg());
  const auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(offer.reply) << offer.why;
  EXPECT_EQ(offer.reply->yiaddr, last_free);
  EXPECT_LT(took, std::chrono::seconds(1))
      << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
  // Once every lease has expired, the one that expired longest ago is reused.
  leases.front().expires = 500;
  LeasePool expired(pc, leases);
  auto late = expired.handle(client(dhcp_msg::discover, 10), 20'000, cfg());
  ASSERT_TRUE(late.reply) << late.why;
  EXPECT_EQ(late.reply->yiaddr, last_free) << "a never-leased address first";
  late = expired.handle(client(dhcp_msg::discover, 11), 20'000, cfg());
  ASSERT_TRUE(late.reply) << late.why;
  EXPECT_EQ(late.reply->yiaddr, leases.front().ip);
}

// RFC 1071 section 3's example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2, checksum 220d.
TEST(Icmp, ChecksumEchoRequestAndReplyParsing) {
  EXPECT_EQ(
      internet_checksum(std::vector<std::uint8_t>{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}),
      0x220d);
  auto req = icmp_echo_request(0x1234, 7);
  EXPECT_EQ(req[0], 8);
  EXPECT_EQ(req[4], 0x12);
  EXPECT_EQ(req[7], 7);
  EXPECT_EQ(internet_checksum(req), 0) << "a message with its checksum sums to zero";
  // The host's answer as a raw socket sees it: IPv4 header (protocol 1, from 10.77.0.100), then
  // type 0.
  std::vector<std::uint8_t> pkt = {0x45, 0, 0,  0,  0, 0,   0,  0,  64, 1,
                                   0,    0, 10, 77, 0, 100, 10, 77, 0,  2};
  auto reply = req;
  reply[0] = 0;
  reply[2] = reply[3] = 0;
  const auto sum = internet_checksum(reply);
  reply[2] = static_cast<std::uint8_t>(sum >> 8);
  reply[3] = static_cast<std::uint8_t>(sum);
  pkt.insert(pkt.end(), reply.begin(), reply.end());
  auto r = parse_icmp_echo_reply(pkt);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->from, 0x0a4d0064u);
  EXPECT_EQ(r->id, 0x1234);
  EXPECT_EQ(r->seq, 7);
  auto bad = pkt;
  bad[30] ^= 1;  // payload changed: checksum fails
  EXPECT_FALSE(parse_icmp_echo_reply(bad));
  bad = pkt;
  bad[9] = 6;  // TCP
  EXPECT_FALSE(parse_icmp_echo_reply(bad));
  bad = pkt;
  bad[0] = 0x4F;  // header longer than the packet
  EXPECT_FALSE(parse_icmp_echo_reply(bad));
  EXPECT_FALSE(parse_icmp_echo_reply(std::span(pkt).first(25)));
  std::vector<std::uint8_t> echo_request_seen =
      pkt;  // our own request looped back is not an answer
  echo_request_seen[20] = 8;
  EXPECT_FALSE(parse_icmp_echo_reply(echo_request_seen));
}

TEST(ProxyDhcp, AFinishedLaptopIsNamedAMissingFileSoItsFirmwareMovesOnAtOnce) {
  auto done = cfg();
  done.local_disk = true;
  auto bios = proxy_dhcp_reply(*parse_dhcp(pxe_discover(0)), done, false);
  ASSERT_TRUE(bios.reply);
  EXPECT_EQ(bios.reply->file, "local-disk");
  auto http = *parse_dhcp(pxe_discover(16));
  http.set_option(dhcp_opt::vendor_class, std::string("HTTPClient:Arch:00016"));
  EXPECT_EQ(proxy_dhcp_reply(http, done, false).reply->file,
            "http://10.77.0.2:8080/boot/files/local-disk");
  // iPXE still gets its script (which boots the disk).
  EXPECT_EQ(proxy_dhcp_reply(*parse_dhcp(pxe_discover(0, "iPXE")), done, false).reply->file,
            "http://10.77.0.2:8080/boot/52-54-00-62-40-01.ipxe");
}
