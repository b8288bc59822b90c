#include "dhcp_service.hpp"

#include <array>
#include <ctime>
#include <utility>

#include "dhcp.hpp"

namespace revive::server {

namespace {

std::int64_t now_s() { return static_cast<std::int64_t>(std::time(nullptr)); }

constexpr int kMaxPingsPerDiscover = 3;  // the client asks again a few seconds later
constexpr std::int64_t kFreeFor_s = 60;  // an address found free is not pinged again this long

// Boot decisions: a laptop's firmware and then iPXE ask 4-6 times in its first seconds and
// retry unanswered requests; a whole workshop switched on at once is a few hundred. A decision
// costs tens of microseconds, so the overall rate bounds a flood to a few per cent of a core.
constexpr RateRule kDecisionsPerMac{20, 2};
constexpr RateRule kDecisionsOverall{1000, 300};
constexpr double kOverBudgetLogEvery_s = 10;

}  // namespace

DhcpService::DhcpService(asio::io_context& io, std::shared_ptr<const BootServiceOptions> opts,
                         std::shared_ptr<BootCounters> counters)
    : io_(io),
      opts_(std::move(opts)),
      counters_(std::move(counters)),
      dhcp_(io),
      pxe_(io),
      decisions_(kDecisionsPerMac, kDecisionsOverall) {}

Result<std::shared_ptr<DhcpService>> DhcpService::start(
    asio::io_context& io, std::shared_ptr<const BootServiceOptions> opts,
    std::shared_ptr<BootCounters> counters) {
  auto s = std::make_shared<DhcpService>(io, std::move(opts), std::move(counters));
  const auto& o = *s->opts_;
  auto s67 = bind_udp(io, o.listen_address, o.dhcp_port, true, "proxyDHCP");
  if (!s67) return s67.error();
  auto s4011 = bind_udp(io, o.listen_address, o.pxe_port, true, "proxyDHCP (PXE port)");
  if (!s4011) return s4011.error();
  s->dhcp_ = std::move(*s67);
  s->pxe_ = std::move(*s4011);
  if (o.dhcp_pool) {
    s->pool_.emplace(*o.dhcp_pool, o.leases, o.dhcp_limits);
    if (o.dhcp_ping.count() > 0) {
      auto ping = PingCheck::open(io, o.dhcp_ping);
      if (ping) {
        s->ping_ = std::move(*ping);
      } else {
        s->log("DHCP: no conflict check before offers (" + ping.error().message + ")");
      }
    }
  }
  spawn(io, s->serve(s, false), "DHCP on port 67");
  spawn(io, s->serve(s, true), "DHCP on the PXE port");
  return s;
}

void DhcpService::stop() {
  stopped_ = true;
  boost::system::error_code ec;
  dhcp_.close(ec);
  pxe_.close(ec);
  if (ping_) ping_->stop();
}

std::uint16_t DhcpService::dhcp_port() const {
  boost::system::error_code ec;
  return dhcp_.is_open() ? dhcp_.local_endpoint(ec).port() : 0;
}

std::uint16_t DhcpService::pxe_port() const {
  boost::system::error_code ec;
  return pxe_.is_open() ? pxe_.local_endpoint(ec).port() : 0;
}

void DhcpService::log(const std::string& line) const {
  if (opts_->log) opts_->log(line);
}

asio::awaitable<void> DhcpService::serve(std::shared_ptr<DhcpService> keep_alive, bool port4011) {
  UdpSocket& s = port4011 ? pxe_ : dhcp_;
  std::array<std::uint8_t, 1500> buf{};
  while (!stopped_) {
    // No deadline: requests come when they come; stop() closes the socket to end the wait.
    auto [ec] = co_await s.async_wait(UdpSocket::wait_read);
    if (ec || stopped_) co_return;
    Datagram d;
    while (receive_with_pktinfo(s.native_handle(), buf, d)) {
      if (auto held = on_datagram(port4011, std::span(buf.data(), d.size), d)) {
        spawn(io_, offer_after_ping(keep_alive, std::move(held->request), held->ip),
              "DHCP offer after the ping check");
      }
    }
  }
}

std::optional<DhcpService::HeldOffer> DhcpService::on_datagram(bool port4011,
                                                               std::span<const std::uint8_t> bytes,
                                                               const Datagram& d) {
  auto packet = boot::parse_dhcp(bytes);
  if (!packet) {
    ++counters_->dhcp_malformed;
    return std::nullopt;  // not ours to answer; a log line per broadcast would flood
  }
  Request r{std::move(*packet), opts_->boot, d};
  if (r.cfg.server_ip == 0) r.cfg.server_ip = d.local_ip;
  // Only a laptop that is network-booting is looked up (a finished one renewing its lease
  // under its new OS is none of the boot decision's business).
  const bool decide = boot::is_boot_client(r.packet) && opts_->offer_network_boot;
  if (decide && !within_budget(r.packet.mac())) return std::nullopt;  // its firmware retries
  const bool offer_boot = !decide || opts_->offer_network_boot(r.packet.mac());
  r.cfg.local_disk = !offer_boot;
  if (!pool_ || port4011) {
    answer_proxy(port4011, r);
    return std::nullopt;
  }
  if (auto ip = answer_from_pool(r, 0)) return HeldOffer{std::move(r), *ip};
  return std::nullopt;
}

bool DhcpService::within_budget(const std::string& mac) {
  const double now = monotonic_seconds();
  if (decisions_.take(mac, now) == 0) return true;
  ++counters_->dhcp_over_budget;
  ++over_budget_unlogged_;
  if (now >= over_budget_logged_at_ + kOverBudgetLogEvery_s) {
    log("DHCP: " + std::to_string(over_budget_unlogged_) +
        " boot request(s) over the rate limit not answered (the last from " + mac +
        "): a host flooding the network, or a firmware asking in a loop");
    over_budget_unlogged_ = 0;
    over_budget_logged_at_ = now;
  }
  return false;
}

void DhcpService::answer_proxy(bool port4011, const Request& r) {
  const auto decision = boot::proxy_dhcp_reply(r.packet, r.cfg, port4011);
  if (!decision.reply) {
    ++counters_->dhcp_ignored;
    return;
  }
  std::uint32_t to_ip = 0xffffffff;
  std::uint16_t to_port = 68;
  if (port4011) {  // PXE boot-server request: answer where it came from
    to_ip = r.datagram.from_ip();
    to_port = r.datagram.from_port();
  } else if (r.packet.giaddr != 0) {
    to_ip = r.packet.giaddr;
    to_port = 67;
  } else if (r.packet.ciaddr != 0) {
    to_ip = r.packet.ciaddr;
  }
  UdpSocket& s = port4011 ? pxe_ : dhcp_;
  const auto ec = send_on_interface(s.native_handle(), boot::encode_dhcp(*decision.reply), to_ip,
                                    to_port, r.datagram.ifindex, r.cfg.server_ip);
  if (ec) {
    log("proxyDHCP: sending to " + boot::ip_to_string(to_ip) + " failed: " + ec.message());
    return;
  }
  ++counters_->dhcp_answered;
  log("proxyDHCP " + std::string(port4011 ? "4011" : "67") + ": " + r.packet.mac() + ": " +
      decision.why);
}

// One pass over the lease pool: answer, ignore, or hold an offer whose address must be pinged
// first (that address is returned, and the MAC is marked as waiting for it).
std::optional<std::uint32_t> DhcpService::answer_from_pool(const Request& r, int attempt) {
  auto out = pool_->handle(r.packet, now_s(), r.cfg, true);
  if (out.leases_changed && opts_->save_leases) {
    // The lease is on disk before the client hears of it: a restarted server never hands the
    // same address to another laptop.
    if (auto saved = opts_->save_leases(pool_->leases()); !saved) {
      log("DHCP: cannot save the leases (" + saved.error().message + "): not answering " +
          r.packet.mac());
      return std::nullopt;
    }
  }
  if (!out.reply) {
    ++counters_->dhcp_ignored;
    return std::nullopt;
  }
  // A fresh offer waits for the ping: an address another host already uses (a printer with a
  // static address, a second DHCP server's client) is skipped for an hour and the next one is
  // tried.
  if (ping_ && out.reply->message_type() == boot::dhcp_msg::offer) {
    const std::uint32_t ip = out.reply->yiaddr;
    const auto f = probed_free_.find(ip);
    if (f == probed_free_.end() || f->second + kFreeFor_s <= now_s()) {
      if (attempt >= kMaxPingsPerDiscover || !probing_macs_.insert(r.packet.mac()).second)
        return std::nullopt;  // no answer this time
      return ip;
    }
  }
  const bool ack = out.reply->message_type() == boot::dhcp_msg::ack;
  const std::uint32_t to = r.packet.giaddr          ? r.packet.giaddr
                           : r.packet.ciaddr && ack ? r.packet.ciaddr
                                                    : 0xffffffff;
  const auto ec = send_on_interface(dhcp_.native_handle(), boot::encode_dhcp(*out.reply), to,
                                    r.packet.giaddr ? 67 : 68, r.datagram.ifindex, r.cfg.server_ip);
  if (!ec) {
    ++counters_->dhcp_answered;
    log("DHCP: " + out.why);
  }
  return std::nullopt;
}

asio::awaitable<void> DhcpService::offer_after_ping(
    [[maybe_unused]] std::shared_ptr<DhcpService> keep_alive, Request r, std::uint32_t ip) {
  for (int attempt = 1;; ++attempt) {
    const bool answered = co_await ping_->answers(ip);  // the wait is the ping's time limit
    note_ping(ip, r.packet.mac(), answered);
    if (stopped_) co_return;
    const auto next = answer_from_pool(r, attempt);
    if (!next) co_return;
    ip = *next;
  }
}

void DhcpService::note_ping(std::uint32_t ip, const std::string& mac, bool answered) {
  probing_macs_.erase(mac);
  const auto t = now_s();
  if (!answered) {
    probed_free_[ip] = t;
    return;
  }
  pool_->mark_in_use(ip, t);
  ++counters_->dhcp_conflicts;
  log("DHCP: " + boot::ip_to_string(ip) + " answers ping: another host uses it; not offered to " +
      mac + " (skipped for an hour)");
}

}  // namespace revive::server
