#include "boot_services.hpp"

#include <boost/asio.hpp>

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <ctime>
#include <map>
#include <optional>
#include <set>

#include "icmp.hpp"

namespace revive::server {

namespace asio = boost::asio;
using asio::ip::udp;

namespace {

Result<udp::socket> bind_udp(asio::io_context& io, const std::string& address, std::uint16_t port,
                             bool broadcast, const char* what) {
  boost::system::error_code ec;
  const auto addr = asio::ip::make_address_v4(address, ec);
  if (ec)
    return make_error(Errc::invalid_input,
                      std::string(what) + ": \"" + address + "\" is not an IPv4 address");
  udp::socket s(io);
  s.open(udp::v4(), ec);
  if (!ec) s.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec && broadcast) s.set_option(asio::socket_base::broadcast(true), ec);
  if (!ec) {
    const int on = 1;
    if (::setsockopt(s.native_handle(), IPPROTO_IP, IP_PKTINFO, &on, sizeof on) != 0)
      ec.assign(errno, boost::system::system_category());
  }
  if (!ec) s.bind(udp::endpoint(addr, port), ec);
  if (ec) {
    return make_error(
        Errc::io, std::string(what) + ": cannot bind UDP " + address + ":" + std::to_string(port) +
                      ": " + ec.message() +
                      (port < 1024 ? " (ports below 1024 need root or CAP_NET_BIND_SERVICE)" : ""));
  }
  s.non_blocking(true, ec);
  return s;
}

// One datagram with the interface it came in on and our address there (IP_PKTINFO).
struct Datagram {
  std::size_t size = 0;
  sockaddr_in from{};
  int ifindex = 0;
  std::uint32_t local_ip = 0;  // host order
};

bool receive_with_pktinfo(int fd, std::span<std::uint8_t> buf, Datagram& d) {
  iovec iov{buf.data(), buf.size()};
  alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(in_pktinfo))> control{};
  msghdr msg{};
  msg.msg_name = &d.from;
  msg.msg_namelen = sizeof d.from;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  const ssize_t n = ::recvmsg(fd, &msg, MSG_DONTWAIT);
  if (n < 0) return false;
  d.size = static_cast<std::size_t>(n);
  if (msg.msg_flags & MSG_TRUNC) d.size = 0;  // larger than any DHCP packet we accept
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      in_pktinfo pi{};
      std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
      d.ifindex = pi.ipi_ifindex;
      d.local_ip = ntohl(pi.ipi_spec_dst.s_addr);
    }
  }
  return true;
}

bool send_on_interface(int fd, std::span<const std::uint8_t> bytes, std::uint32_t to_ip,
                       std::uint16_t to_port, int ifindex, std::uint32_t from_ip) {
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(to_ip);
  to.sin_port = htons(to_port);
  iovec iov{const_cast<std::uint8_t*>(bytes.data()), bytes.size()};
  alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(in_pktinfo))> control{};
  msghdr msg{};
  msg.msg_name = &to;
  msg.msg_namelen = sizeof to;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = IPPROTO_IP;
  c->cmsg_type = IP_PKTINFO;
  c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
  in_pktinfo pi{};
  pi.ipi_ifindex = ifindex;  // a broadcast leaves by the interface the request came in on
  pi.ipi_spec_dst.s_addr = htonl(from_ip);
  std::memcpy(CMSG_DATA(c), &pi, sizeof pi);
  return ::sendmsg(fd, &msg, 0) == static_cast<ssize_t>(bytes.size());
}

// A name from the network, fit for one log line.
std::string printable(const std::string& s) {
  std::string out;
  for (char c : s.substr(0, 120))
    out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  return s.size() > 120 ? out + "..." : out;
}

}  // namespace

struct BootServices::Impl : std::enable_shared_from_this<BootServices::Impl> {
  asio::io_context& io;
  BootServiceOptions opts;
  BootCounters counters;
  std::optional<udp::socket> dhcp, pxe, tftp;
  std::optional<boot::LeasePool> pool;
  // Conflict check before a full-DHCP offer: pings in flight by sequence number, MACs waiting
  // for one, and addresses found free (not pinged again for a minute).
  struct Probe {
    std::uint32_t ip = 0;
    std::function<void(bool answered)> done;
    std::shared_ptr<asio::steady_timer> timer;
  };
  std::optional<asio::ip::icmp::socket> icmp;
  std::uint16_t ping_id = 0, ping_seq = 0;
  std::map<std::uint16_t, Probe> probes;
  std::set<std::string> probing_macs;
  std::map<std::uint32_t, std::int64_t> probed_free;
  std::array<std::uint8_t, 1500> icmp_rx{};
  int tftp_root_fd = -1;
  std::vector<std::pair<std::string, int>> extra_root_fds;
  std::size_t active_transfers = 0;
  bool stopped = false;

  Impl(asio::io_context& i, BootServiceOptions o) : io(i), opts(std::move(o)) {}
  ~Impl() {
    if (tftp_root_fd >= 0) ::close(tftp_root_fd);
    for (auto& [prefix, fd] : extra_root_fds) ::close(fd);
  }

  // The file for a TFTP name: generated content (a memfd), a file under an extra root, or
  // one under the TFTP root.
  Result<boot::ConfinedFile> open_for_tftp(const std::string& requested, std::uint32_t local_ip) {
    std::string name = requested;
    std::replace(name.begin(), name.end(), '\\', '/');
    while (!name.empty() && name.front() == '/') name.erase(0, 1);
    if (opts.generated) {
      const std::string base =
          "http://" + boot::ip_to_string(opts.boot.server_ip ? opts.boot.server_ip : local_ip) +
          ":" + std::to_string(opts.boot.http_port);
      if (auto content = opts.generated(name, base)) {
        const int fd = ::memfd_create("revive-tftp", MFD_CLOEXEC);
        if (fd < 0) return errno_error(errno, "memfd_create");
        if (::write(fd, content->data(), content->size()) !=
            static_cast<ssize_t>(content->size())) {
          ::close(fd);
          return errno_error(errno, "memfd write");
        }
        return boot::ConfinedFile{fd, content->size()};
      }
    }
    if (name == boot::kLocalDiskBootFile) {
      return make_error(Errc::not_found, "this laptop's workflow is done: it boots its own disk");
    }
    for (const auto& [prefix, fd] : extra_root_fds) {
      if (name.rfind(prefix, 0) == 0) return boot::open_confined(fd, name.substr(prefix.size()));
    }
    return boot::open_confined(tftp_root_fd, requested);
  }

  void log(const std::string& line) const {
    if (opts.log) opts.log(line);
  }

  // ---- proxyDHCP ----
  void dhcp_loop(udp::socket& s, bool port4011) {
    s.async_wait(udp::socket::wait_read,
                 [self = shared_from_this(), &s, port4011](boost::system::error_code ec) {
                   if (ec || self->stopped) return;
                   std::array<std::uint8_t, 1500> buf;
                   Datagram d;
                   while (receive_with_pktinfo(s.native_handle(), buf, d))
                     self->on_dhcp(s, port4011, std::span(buf.data(), d.size), d);
                   self->dhcp_loop(s, port4011);
                 });
  }

  void on_dhcp(udp::socket& s, bool port4011, std::span<const std::uint8_t> bytes,
               const Datagram& d) {
    auto req = boot::parse_dhcp(bytes);
    if (!req) {
      ++counters.dhcp_malformed;
      return;  // not ours to answer; a log line per broadcast would flood
    }
    boot::BootConfig cfg = opts.boot;
    if (cfg.server_ip == 0) cfg.server_ip = d.local_ip;
    // Only a laptop that is network-booting is looked up (a finished one renewing its lease
    // under its new OS is none of the boot decision's business).
    const bool offer_boot = !boot::is_boot_client(*req) || !opts.offer_network_boot ||
                            opts.offer_network_boot(req->mac());
    cfg.local_disk = !offer_boot;
    if (pool && !port4011) return on_full_dhcp(s, *req, cfg, d, true);
    auto decision = boot::proxy_dhcp_reply(*req, cfg, port4011);
    if (!decision.reply) {
      ++counters.dhcp_ignored;
      return;
    }
    const auto out = boot::encode_dhcp(*decision.reply);
    std::uint32_t to_ip = 0xffffffff;
    std::uint16_t to_port = 68;
    if (port4011) {  // PXE boot-server request: answer where it came from
      to_ip = ntohl(d.from.sin_addr.s_addr);
      to_port = ntohs(d.from.sin_port);
    } else if (req->giaddr != 0) {
      to_ip = req->giaddr;
      to_port = 67;
    } else if (req->ciaddr != 0) {
      to_ip = req->ciaddr;
    }
    if (send_on_interface(s.native_handle(), out, to_ip, to_port, d.ifindex, cfg.server_ip)) {
      ++counters.dhcp_answered;
      log("proxyDHCP " + std::string(port4011 ? "4011" : "67") + ": " + req->mac() + ": " +
          decision.why);
    } else {
      log("proxyDHCP: sending to " + boot::ip_to_string(to_ip) +
          " failed: " + std::strerror(errno));
    }
  }

  // ---- ICMP echo: is an address already in use? ----
  void icmp_loop() {
    icmp->async_receive(asio::buffer(icmp_rx), [self = shared_from_this()](
                                                   boost::system::error_code ec, std::size_t n) {
      if (ec || self->stopped) return;
      if (auto r = boot::parse_icmp_echo_reply(std::span(self->icmp_rx.data(), n));
          r && r->id == self->ping_id) {
        if (auto it = self->probes.find(r->seq);
            it != self->probes.end() && it->second.ip == r->from)
          self->finish_probe(r->seq, true);
      }
      self->icmp_loop();
    });
  }

  void probe(std::uint32_t ip, std::function<void(bool answered)> done) {
    const std::uint16_t seq = ++ping_seq;
    auto timer = std::make_shared<asio::steady_timer>(io, opts.dhcp_ping);
    probes[seq] = Probe{ip, std::move(done), timer};
    boost::system::error_code ec;  // no route: nobody there can answer, the timer says free
    icmp->send_to(asio::buffer(boot::icmp_echo_request(ping_id, seq)),
                  asio::ip::icmp::endpoint(asio::ip::address_v4(ip), 0), 0, ec);
    timer->async_wait([self = shared_from_this(), seq](boost::system::error_code) {
      self->finish_probe(seq, false);
    });
  }

  void finish_probe(std::uint16_t seq, bool answered) {
    auto it = probes.find(seq);
    if (it == probes.end()) return;
    auto done = std::move(it->second.done);
    it->second.timer->cancel();
    probes.erase(it);
    done(answered);
  }

  // A fresh offer waits for the ping: an address another host already uses (a printer with a
  // static address, a second DHCP server's client) is skipped for an hour, and the next one is
  // tried; at most 3 per DISCOVER (the client asks again a few seconds later).
  bool hold_for_probe(udp::socket& s, const boot::DhcpPacket& req, const boot::BootConfig& cfg,
                      const Datagram& d, bool offer_boot, const boot::DhcpPacket& offer,
                      int attempt) {
    const std::uint32_t ip = offer.yiaddr;
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    if (auto f = probed_free.find(ip); f != probed_free.end() && f->second + 60 > now) return false;
    if (attempt >= 3 || !probing_macs.insert(req.mac()).second) return true;
    probe(ip, [self = shared_from_this(), &s, req, cfg, d, offer_boot, attempt, ip](bool answered) {
      self->probing_macs.erase(req.mac());
      const auto t = static_cast<std::int64_t>(std::time(nullptr));
      if (answered) {
        self->pool->mark_in_use(ip, t);
        ++self->counters.dhcp_conflicts;
        self->log("DHCP: " + boot::ip_to_string(ip) +
                  " answers ping: another host uses it; not offered to " + req.mac() +
                  " (skipped for an hour)");
      } else {
        self->probed_free[ip] = t;
      }
      if (!self->stopped) self->on_full_dhcp(s, req, cfg, d, offer_boot, attempt + 1);
    });
    return true;
  }

  void on_full_dhcp(udp::socket& s, const boot::DhcpPacket& req, const boot::BootConfig& cfg,
                    const Datagram& d, bool offer_boot, int attempt = 0) {
    auto out = pool->handle(req, static_cast<std::int64_t>(std::time(nullptr)), cfg, offer_boot);
    if (out.leases_changed && opts.save_leases) {
      // The lease is on disk before the client hears of it: a restarted server never hands
      // the same address to another laptop.
      if (auto saved = opts.save_leases(pool->leases()); !saved) {
        log("DHCP: cannot save the leases (" + saved.error().message + "): not answering " +
            req.mac());
        return;
      }
    }
    if (!out.reply) {
      ++counters.dhcp_ignored;
      return;
    }
    if (icmp && out.reply->message_type() == boot::dhcp_msg::offer &&
        hold_for_probe(s, req, cfg, d, offer_boot, *out.reply, attempt))
      return;
    const std::uint32_t to = req.giaddr ? req.giaddr
                             : req.ciaddr && out.reply->message_type() == boot::dhcp_msg::ack
                                 ? req.ciaddr
                                 : 0xffffffff;
    if (send_on_interface(s.native_handle(), boot::encode_dhcp(*out.reply), to,
                          req.giaddr ? 67 : 68, d.ifindex, cfg.server_ip)) {
      ++counters.dhcp_answered;
      log("DHCP: " + out.why);
    }
  }

  // ---- TFTP ----
  struct Transfer : std::enable_shared_from_this<Transfer> {
    std::shared_ptr<Impl> owner;
    udp::socket sock;
    asio::steady_timer timer;
    int fd;
    std::string name;
    boot::TftpNegotiated neg;
    boot::TftpSender sender;
    std::vector<std::uint8_t> oack;
    std::array<std::uint8_t, 1024> rx{};
    std::vector<std::uint8_t> block_buf;
    bool finished = false;

    Transfer(std::shared_ptr<Impl> o, udp::socket s, int f, std::string n, boot::TftpNegotiated ng,
             std::uint64_t size)
        : owner(std::move(o)),
          sock(std::move(s)),
          timer(owner->io),
          fd(f),
          name(std::move(n)),
          neg(std::move(ng)),
          sender(size, neg) {
      if (!neg.oack.empty()) oack = boot::encode_tftp_oack(neg.oack);
      block_buf.resize(neg.blksize);
    }
    ~Transfer() { ::close(fd); }

    void start() {
      send_window();
      arm_timer();
      receive();
    }

    void send_window() {
      boost::system::error_code ec;
      if (sender.awaiting_oack_ack()) {
        sock.send(asio::buffer(oack), 0, ec);
        return;
      }
      for (const auto b : sender.window()) {
        const auto [off, len] = sender.extent(b);
        const ssize_t got = len ? ::pread(fd, block_buf.data(), len, static_cast<off_t>(off)) : 0;
        if (got != static_cast<ssize_t>(len)) return fail(boot::tftp_err::undefined, "read error");
        sock.send(asio::buffer(boot::encode_tftp_data(boot::TftpSender::wire(b),
                                                      std::span(block_buf.data(), len))),
                  0, ec);
        owner->counters.tftp_bytes += len;
      }
    }

    void arm_timer() {
      timer.expires_after(std::chrono::milliseconds(neg.timeout_ms));
      timer.async_wait([self = shared_from_this()](boost::system::error_code ec) {
        if (ec || self->finished) return;
        if (!self->sender.on_timeout()) return self->fail(boot::tftp_err::undefined, "timed out");
        ++self->owner->counters.tftp_retransmits;
        self->send_window();
        self->arm_timer();
      });
    }

    void receive() {
      sock.async_receive(asio::buffer(rx), [self = shared_from_this()](boost::system::error_code ec,
                                                                       std::size_t n) {
        if (self->finished) return;
        if (ec) {
          if (ec == asio::error::operation_aborted) return;
          return self->receive();  // ICMP port unreachable etc.: the timer decides
        }
        auto reply = boot::parse_tftp_reply(std::span(self->rx.data(), n));
        if (!reply) return self->receive();
        if (reply->opcode == boot::tftp_op::error) {
          // Firmware PXE stacks (EDK2, Intel) ask for tsize, then end the transfer with an error
          // before the first block: a size query, not a failure.
          if (self->sender.awaiting_oack_ack()) return self->end(true, "");
          self->end(false, "the client ended it: " + reply->error_message);
          return;
        }
        switch (self->sender.on_ack(reply->block)) {
          case boot::TftpSender::Ack::done:
            return self->end(true, "");
          case boot::TftpSender::Ack::resend:
            ++self->owner->counters.tftp_retransmits;
            [[fallthrough]];
          case boot::TftpSender::Ack::advanced:
            self->send_window();
            self->arm_timer();
            break;
          case boot::TftpSender::Ack::duplicate:
            break;
        }
        self->receive();
      });
    }

    void fail(std::uint16_t code, const std::string& why) {
      boost::system::error_code ec;
      sock.send(asio::buffer(boot::encode_tftp_error(code, why)), 0, ec);
      end(false, why);
    }

    void end(bool ok, const std::string& why) {
      if (finished) return;
      finished = true;
      timer.cancel();
      boost::system::error_code ec;
      sock.close(ec);
      --owner->active_transfers;
      if (ok) {
        ++owner->counters.tftp_completed;
      } else {
        ++owner->counters.tftp_failed;
        owner->log("TFTP " + name + ": " + why);
      }
    }
  };

  void tftp_loop() {
    tftp->async_wait(udp::socket::wait_read,
                     [self = shared_from_this()](boost::system::error_code ec) {
                       if (ec || self->stopped) return;
                       std::array<std::uint8_t, 2048> buf;
                       Datagram d;
                       while (receive_with_pktinfo(self->tftp->native_handle(), buf, d))
                         self->on_tftp_request(std::span(buf.data(), d.size), d);
                       self->tftp_loop();
                     });
  }

  void refuse(const udp::endpoint& to, std::uint32_t local_ip, std::uint16_t code,
              const std::string& why) {
    ++counters.tftp_refused;
    boost::system::error_code ec;
    udp::socket s(io);
    s.open(udp::v4(), ec);
    if (!ec) s.bind(udp::endpoint(asio::ip::address_v4(local_ip), 0), ec);
    if (!ec) s.send_to(asio::buffer(boot::encode_tftp_error(code, why)), to, 0, ec);
    log("TFTP refused " + to.address().to_string() + ": " + printable(why));
  }

  void on_tftp_request(std::span<const std::uint8_t> bytes, const Datagram& d) {
    const udp::endpoint client(asio::ip::address_v4(ntohl(d.from.sin_addr.s_addr)),
                               ntohs(d.from.sin_port));
    if (bytes.empty()) return;
    auto req = boot::parse_tftp_request(bytes);
    if (!req) return refuse(client, d.local_ip, boot::tftp_err::illegal_op, req.error().message);
    if (req->opcode == boot::tftp_op::wrq)
      return refuse(client, d.local_ip, boot::tftp_err::access, "this TFTP server is read-only");
    if (active_transfers >= opts.max_transfers)
      return refuse(client, d.local_ip, boot::tftp_err::undefined, "too many transfers; try again");
    auto file = open_for_tftp(req->filename, d.local_ip);
    if (!file) {
      return refuse(
          client, d.local_ip,
          file.error().code == Errc::not_found ? boot::tftp_err::not_found : boot::tftp_err::access,
          file.error().message);
    }
    auto neg = boot::negotiate_tftp(*req, file->size, opts.limits);
    boost::system::error_code ec;
    udp::socket s(io);
    s.open(udp::v4(), ec);
    if (!ec)
      s.bind(udp::endpoint(asio::ip::address_v4(d.local_ip), 0), ec);  // a new TID, same address
    if (!ec) s.connect(client, ec);
    if (ec) {
      ::close(file->fd);
      return refuse(client, d.local_ip, boot::tftp_err::undefined,
                    "cannot open a transfer socket: " + ec.message());
    }
    ++active_transfers;
    ++counters.tftp_started;
    log("TFTP " + client.address().to_string() + " reads " + printable(req->filename) + " (" +
        std::to_string(file->size) + " bytes, blksize " + std::to_string(neg.blksize) +
        ", window " + std::to_string(neg.windowsize) + ")");
    std::make_shared<Transfer>(shared_from_this(), std::move(s), file->fd, printable(req->filename),
                               std::move(neg), file->size)
        ->start();
  }
};

BootServices::BootServices(asio::io_context& io, BootServiceOptions opts)
    : impl_(std::make_shared<Impl>(io, std::move(opts))) {}
BootServices::~BootServices() { stop(); }

std::string render_boot_metrics(const BootCounters& c) {
  using Samples = std::initializer_list<std::pair<const char*, const std::atomic<std::uint64_t>*>>;
  std::string out;
  // One counter family: HELP, TYPE, then a sample per label ("" = no label).
  auto family = [&out](const char* name, const char* help, Samples samples) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n";
    for (const auto& [label, value] : samples) {
      out += std::string(name) + (*label ? std::string("{outcome=\"") + label + "\"}" : "") + " " +
             std::to_string(value->load()) + "\n";
    }
  };
  family("revive_dhcp_packets_total", "DHCP/proxyDHCP requests by outcome.",
         {{"answered", &c.dhcp_answered},
          {"ignored", &c.dhcp_ignored},
          {"malformed", &c.dhcp_malformed}});
  family("revive_dhcp_conflicts_total",
         "Addresses another host answered pings for before an offer.", {{"", &c.dhcp_conflicts}});
  family("revive_tftp_transfers_total", "TFTP read requests by outcome.",
         {{"started", &c.tftp_started},
          {"completed", &c.tftp_completed},
          {"failed", &c.tftp_failed},
          {"refused", &c.tftp_refused}});
  family("revive_tftp_bytes_total", "File bytes sent over TFTP.", {{"", &c.tftp_bytes}});
  family("revive_tftp_retransmits_total", "TFTP windows sent again (timeouts, repeated ACKs).",
         {{"", &c.tftp_retransmits}});
  return out;
}

Result<void> BootServices::start() {
  auto& i = *impl_;
  if (i.opts.dhcp_pool) {
    i.pool.emplace(*i.opts.dhcp_pool, i.opts.leases);
    if (i.opts.dhcp_ping.count() > 0) {
      boost::system::error_code ec;
      i.icmp.emplace(i.io);
      i.icmp->open(asio::ip::icmp::v4(), ec);
      if (ec) {
        i.icmp.reset();
        i.log("DHCP: no conflict check before offers (raw ICMP socket: " + ec.message() + ")");
      } else {
        i.ping_id = static_cast<std::uint16_t>(::getpid());
        i.icmp_loop();
      }
    }
  }
  if (i.opts.proxy_dhcp || i.opts.dhcp_pool) {
    auto s67 = bind_udp(i.io, i.opts.listen_address, i.opts.dhcp_port, true, "proxyDHCP");
    if (!s67) return s67.error();
    auto s4011 =
        bind_udp(i.io, i.opts.listen_address, i.opts.pxe_port, true, "proxyDHCP (PXE port)");
    if (!s4011) return s4011.error();
    i.dhcp.emplace(std::move(*s67));
    i.pxe.emplace(std::move(*s4011));
    i.dhcp_loop(*i.dhcp, false);
    i.dhcp_loop(*i.pxe, true);
  }
  if (i.opts.tftp) {
    i.tftp_root_fd = ::open(i.opts.tftp_root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (i.tftp_root_fd < 0) return errno_error(errno, "TFTP root " + i.opts.tftp_root.string());
    for (const auto& [prefix, dir] : i.opts.extra_roots) {
      const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0) return errno_error(errno, "TFTP directory " + dir.string());
      i.extra_root_fds.emplace_back(prefix, fd);
    }
    auto s = bind_udp(i.io, i.opts.listen_address, i.opts.tftp_port, false, "TFTP");
    if (!s) return s.error();
    i.tftp.emplace(std::move(*s));
    i.tftp_loop();
  }
  return {};
}

void BootServices::stop() {
  if (!impl_) return;
  impl_->stopped = true;
  boost::system::error_code ec;
  for (auto* s : {&impl_->dhcp, &impl_->pxe, &impl_->tftp}) {
    if (*s) (*s)->close(ec);
  }
  if (impl_->icmp) impl_->icmp->close(ec);
  for (auto& [seq, p] : impl_->probes) p.timer->cancel();
}

std::uint16_t BootServices::dhcp_port() const {
  return impl_->dhcp ? impl_->dhcp->local_endpoint().port() : 0;
}
std::uint16_t BootServices::pxe_port() const {
  return impl_->pxe ? impl_->pxe->local_endpoint().port() : 0;
}
std::uint16_t BootServices::tftp_port() const {
  return impl_->tftp ? impl_->tftp->local_endpoint().port() : 0;
}
const BootCounters& BootServices::counters() const { return impl_->counters; }

}  // namespace revive::server
