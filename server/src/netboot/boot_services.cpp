#include "boot_services.hpp"

#include <boost/asio/io_context.hpp>

#include "dhcp_service.hpp"
#include "tftp_service.hpp"

namespace revive::server {

// The services share the options and the counters; each coroutine keeps its service alive.
struct BootServices::Impl {
  Impl(asio::io_context& i, BootServiceOptions o)
      : io(i), opts(std::make_shared<const BootServiceOptions>(std::move(o))) {}

  asio::io_context& io;
  std::shared_ptr<const BootServiceOptions> opts;
  std::shared_ptr<BootCounters> counters = std::make_shared<BootCounters>();
  std::shared_ptr<DhcpService> dhcp;
  std::shared_ptr<TftpService> tftp;
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
          {"malformed", &c.dhcp_malformed},
          {"over_budget", &c.dhcp_over_budget}});
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
  if (i.opts->proxy_dhcp || i.opts->dhcp_pool) {
    auto dhcp = DhcpService::start(i.io, i.opts, i.counters);
    if (!dhcp) return dhcp.error();
    i.dhcp = std::move(*dhcp);
  }
  if (i.opts->tftp) {
    auto tftp = TftpService::start(i.io, i.opts, i.counters);
    if (!tftp) return tftp.error();
    i.tftp = std::move(*tftp);
  }
  return {};
}

void BootServices::stop() {
  if (!impl_) return;
  if (impl_->dhcp) impl_->dhcp->stop();
  if (impl_->tftp) impl_->tftp->stop();
}

std::uint16_t BootServices::dhcp_port() const { return impl_->dhcp ? impl_->dhcp->dhcp_port() : 0; }
std::uint16_t BootServices::pxe_port() const { return impl_->dhcp ? impl_->dhcp->pxe_port() : 0; }
std::uint16_t BootServices::tftp_port() const { return impl_->tftp ? impl_->tftp->port() : 0; }
const BootCounters& BootServices::counters() const { return *impl_->counters; }

}  // namespace revive::server
