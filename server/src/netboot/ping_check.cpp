#include "ping_check.hpp"

#include <unistd.h>

#include <array>
#include <span>

#include "icmp.hpp"

namespace revive::server {

using asio::ip::icmp;

PingCheck::PingCheck(asio::io_context& io, std::chrono::milliseconds wait)
    : sock_(io), wait_(wait), id_(static_cast<std::uint16_t>(::getpid())) {}

Result<std::shared_ptr<PingCheck>> PingCheck::open(asio::io_context& io,
                                                   std::chrono::milliseconds wait) {
  auto p = std::make_shared<PingCheck>(io, wait);
  boost::system::error_code ec;
  p->sock_.open(icmp::v4(), ec);
  if (ec) return make_error(Errc::io, "raw ICMP socket: " + ec.message());
  spawn(io, p->read_replies(p), "ICMP echo reader");
  return p;
}

asio::awaitable<bool> PingCheck::answers(std::uint32_t ip) {
  if (stopped_) co_return false;
  const std::uint16_t seq = ++seq_;
  SteadyTimer timer(sock_.get_executor(), wait_);
  Probe probe{ip, false, &timer};
  probes_[seq] = &probe;
  struct Forget {  // the probe lives in this frame: never leave a pointer to it behind
    std::map<std::uint16_t, Probe*>& probes;
    std::uint16_t seq;
    ~Forget() { probes.erase(seq); }
  } forget{probes_, seq};
  boost::system::error_code ec;  // no route: nobody there can answer, the wait says free
  sock_.send_to(asio::buffer(boot::icmp_echo_request(id_, seq)),
                icmp::endpoint(asio::ip::address_v4(ip), 0), 0, ec);
  co_await timer.async_wait();  // cut short by read_replies() or stop()
  co_return probe.answered;
}

asio::awaitable<void> PingCheck::read_replies(
    [[maybe_unused]] std::shared_ptr<PingCheck> keep_alive) {
  std::array<std::uint8_t, 1500> rx{};
  while (!stopped_) {
    auto [ec, n] = co_await sock_.async_receive(asio::buffer(rx));
    if (ec || stopped_) co_return;
    const auto reply = boot::parse_icmp_echo_reply(std::span(rx.data(), n));
    if (!reply || reply->id != id_) continue;
    if (auto it = probes_.find(reply->seq); it != probes_.end() && it->second->ip == reply->from) {
      it->second->answered = true;
      it->second->timer->cancel();
    }
  }
}

void PingCheck::stop() {
  stopped_ = true;
  boost::system::error_code ec;
  sock_.close(ec);
  for (auto& [seq, probe] : probes_) probe->timer->cancel();
}

}  // namespace revive::server
