#include "tftp_service.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>

#include "dhcp.hpp"

namespace revive::server {

using asio::ip::udp;

namespace {

// A name from the network, fit for one log line.
std::string printable(const std::string& s) {
  std::string out;
  for (char c : s.substr(0, 120))
    out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  return s.size() > 120 ? out + "..." : out;
}

// A transfer's own socket: a new TID on the address the request came to, connected to the client.
UdpSocket transfer_socket(asio::io_context& io, std::uint32_t local_ip, const udp::endpoint& client,
                          boost::system::error_code& ec) {
  UdpSocket s(io);
  s.open(udp::v4(), ec);
  if (!ec) s.bind(udp::endpoint(asio::ip::address_v4(local_ip), 0), ec);
  if (!ec) s.connect(client, ec);
  return s;
}

Result<UniqueFd> open_directory(const std::filesystem::path& dir, const std::string& what) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno_error(errno, what + " " + dir.string());
  return UniqueFd(fd);
}

}  // namespace

// One read transfer; it counts itself among the transfers under way for as long as it exists.
struct TftpService::Transfer {
  struct Slot {
    Slot(std::size_t& active, std::map<std::uint32_t, std::size_t>& by_address,
         std::uint32_t address)
        : active_(&active), by_address_(&by_address), address_(address) {
      ++active;
      ++by_address[address];
    }
    Slot(Slot&& o) noexcept
        : active_(std::exchange(o.active_, nullptr)),
          by_address_(o.by_address_),
          address_(o.address_) {}
    Slot& operator=(Slot&&) = delete;
    ~Slot() {
      if (!active_) return;
      --*active_;
      if (auto it = by_address_->find(address_); it != by_address_->end() && --it->second == 0)
        by_address_->erase(it);
    }
    std::size_t* active_;
    std::map<std::uint32_t, std::size_t>* by_address_;
    std::uint32_t address_;
  };

  Slot slot;
  UdpSocket sock;
  UniqueFd fd;
  std::string name;  // printable
  boot::TftpNegotiated neg;
  boot::TftpSender sender;
  std::vector<std::uint8_t> oack;
  std::vector<std::uint8_t> block;
  bool finished = false;
};

TftpService::TftpService(asio::io_context& io, std::shared_ptr<const BootServiceOptions> opts,
                         std::shared_ptr<BootCounters> counters)
    : io_(io), opts_(std::move(opts)), counters_(std::move(counters)), listener_(io) {}

Result<std::shared_ptr<TftpService>> TftpService::start(
    asio::io_context& io, std::shared_ptr<const BootServiceOptions> opts,
    std::shared_ptr<BootCounters> counters) {
  auto s = std::make_shared<TftpService>(io, std::move(opts), std::move(counters));
  const auto& o = *s->opts_;
  auto root = open_directory(o.tftp_root, "TFTP root");
  if (!root) return root.error();
  s->root_ = std::move(*root);
  for (const auto& [prefix, dir] : o.extra_roots) {
    auto fd = open_directory(dir, "TFTP directory");
    if (!fd) return fd.error();
    s->extra_roots_.emplace_back(prefix, std::move(*fd));
  }
  auto sock = bind_udp(io, o.listen_address, o.tftp_port, false, "TFTP");
  if (!sock) return sock.error();
  s->listener_ = std::move(*sock);
  spawn(io, s->listen(s), "TFTP listener");
  return s;
}

void TftpService::stop() {
  stopped_ = true;
  boost::system::error_code ec;
  listener_.close(ec);
}

std::uint16_t TftpService::port() const {
  boost::system::error_code ec;
  return listener_.is_open() ? listener_.local_endpoint(ec).port() : 0;
}

void TftpService::log(const std::string& line) const {
  if (opts_->log) opts_->log(line);
}

asio::awaitable<void> TftpService::listen(std::shared_ptr<TftpService> keep_alive) {
  std::array<std::uint8_t, 2048> buf{};
  while (!stopped_) {
    // No deadline: requests come when they come; stop() closes the socket to end the wait.
    auto [ec] = co_await listener_.async_wait(UdpSocket::wait_read);
    if (ec || stopped_) co_return;
    Datagram d;
    while (receive_with_pktinfo(listener_.native_handle(), buf, d))
      on_request(keep_alive, std::span(buf.data(), d.size), d);
  }
}

void TftpService::on_request(const std::shared_ptr<TftpService>& self,
                             std::span<const std::uint8_t> bytes, const Datagram& d) {
  const udp::endpoint client(asio::ip::address_v4(d.from_ip()), d.from_port());
  if (bytes.empty()) return;
  auto req = boot::parse_tftp_request(bytes);
  if (!req) return refuse(client, d.local_ip, boot::tftp_err::illegal_op, req.error().message);
  if (req->opcode == boot::tftp_op::wrq)
    return refuse(client, d.local_ip, boot::tftp_err::access, "this TFTP server is read-only");
  if (active_ >= opts_->max_transfers)
    return refuse(client, d.local_ip, boot::tftp_err::undefined, "too many transfers; try again");
  if (auto it = by_address_.find(d.from_ip());
      it != by_address_.end() && it->second >= opts_->max_transfers_per_address)
    return refuse(client, d.local_ip, boot::tftp_err::undefined,
                  "too many transfers from this address; try again");
  auto file = open_file(req->filename, d.local_ip);
  if (!file) {
    return refuse(
        client, d.local_ip,
        file.error().code == Errc::not_found ? boot::tftp_err::not_found : boot::tftp_err::access,
        file.error().message);
  }
  UniqueFd fd(file->fd);
  auto neg = boot::negotiate_tftp(*req, file->size, opts_->limits);
  boost::system::error_code ec;
  auto sock = transfer_socket(io_, d.local_ip, client, ec);
  if (ec) {
    return refuse(client, d.local_ip, boot::tftp_err::undefined,
                  "cannot open a transfer socket: " + ec.message());
  }
  ++counters_->tftp_started;
  log("TFTP " + client.address().to_string() + " reads " + printable(req->filename) + " (" +
      std::to_string(file->size) + " bytes, blksize " + std::to_string(neg.blksize) + ", window " +
      std::to_string(neg.windowsize) + ")");
  auto oack = neg.oack.empty() ? std::vector<std::uint8_t>() : boot::encode_tftp_oack(neg.oack);
  std::vector<std::uint8_t> block(neg.blksize);
  boot::TftpSender sender(file->size, neg);
  spawn(io_,
        run(self, Transfer{Transfer::Slot(active_, by_address_, d.from_ip()), std::move(sock),
                           std::move(fd), printable(req->filename), std::move(neg), sender,
                           std::move(oack), std::move(block)}),
        "TFTP transfer");
}

void TftpService::refuse(const udp::endpoint& to, std::uint32_t local_ip, std::uint16_t code,
                         const std::string& why) {
  ++counters_->tftp_refused;
  boost::system::error_code ec;
  UdpSocket s(io_);
  s.open(udp::v4(), ec);
  if (!ec) s.bind(udp::endpoint(asio::ip::address_v4(local_ip), 0), ec);
  if (!ec) s.send_to(asio::buffer(boot::encode_tftp_error(code, why)), to, 0, ec);
  log("TFTP refused " + to.address().to_string() + ": " + printable(why));
}

// The file for a TFTP name: generated content (a memfd), a file under an extra root, or one
// under the TFTP root.
Result<boot::ConfinedFile> TftpService::open_file(const std::string& requested,
                                                  std::uint32_t local_ip) const {
  std::string name = requested;
  std::replace(name.begin(), name.end(), '\\', '/');
  while (!name.empty() && name.front() == '/') name.erase(0, 1);
  if (opts_->generated) {
    const auto& cfg = opts_->boot;
    const std::string base = "http://" +
                             boot::ip_to_string(cfg.server_ip ? cfg.server_ip : local_ip) + ":" +
                             std::to_string(cfg.http_port);
    if (const auto content = opts_->generated(name, base)) {
      const std::string& text = *content;
      UniqueFd fd(::memfd_create("revive-tftp", MFD_CLOEXEC));
      if (!fd) return errno_error(errno, "memfd_create");
      if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
        return errno_error(errno, "memfd write");
      return boot::ConfinedFile{fd.release(), text.size()};
    }
  }
  if (name == boot::kLocalDiskBootFile) {
    return make_error(Errc::not_found, "this laptop's workflow is done: it boots its own disk");
  }
  for (const auto& [prefix, fd] : extra_roots_) {
    if (name.rfind(prefix, 0) == 0)
      return boot::open_confined(fd.get(), name.substr(prefix.size()));
  }
  return boot::open_confined(root_.get(), requested);
}

asio::awaitable<void> TftpService::run([[maybe_unused]] std::shared_ptr<TftpService> keep_alive,
                                       Transfer t) {
  std::array<std::uint8_t, 1024> rx{};
  if (!send_window(t)) co_return;
  auto deadline = Clock::now() + std::chrono::milliseconds(t.neg.timeout_ms);
  while (!t.finished) {
    // What is queued first (an ACK that raced the deadline still counts), then the deadline.
    boost::system::error_code ec;
    const std::size_t n = receive_now(t.sock, rx, ec);
    if (!ec) on_packet(t, std::span(rx.data(), n), deadline);
    if (t.finished) break;
    if (Clock::now() >= deadline) {  // also under a stream of packets that move nothing
      if (!on_deadline(t)) co_return;
      deadline = Clock::now() + std::chrono::milliseconds(t.neg.timeout_ms);
    } else if (ec == asio::error::would_block) {  // all read: wait for a packet or the deadline
      ec = co_await readable_until(t.sock, deadline);
      if (ec && ec != asio::error::timed_out) end(t, false, "waiting for an ACK: " + ec.message());
    }
    // Any other error (an ICMP port unreachable): read on, the deadline decides.
  }
}

// The deadline passed without progress: send the window again, or give up after the retries.
// Returns false when the transfer failed (and ended).
bool TftpService::on_deadline(Transfer& t) {
  if (!t.sender.on_timeout()) {
    fail(t, boot::tftp_err::undefined, "timed out");
    return false;
  }
  ++counters_->tftp_retransmits;
  return send_window(t);
}

// Returns false when the transfer failed (and ended).
bool TftpService::send_window(Transfer& t) {
  boost::system::error_code ec;  // a lost send is a lost packet: the client or the timer recovers
  if (t.sender.awaiting_oack_ack()) {
    t.sock.send(asio::buffer(t.oack), 0, ec);
    return true;
  }
  for (const auto b : t.sender.window()) {
    const auto [off, len] = t.sender.extent(b);
    const ssize_t got = len ? ::pread(t.fd.get(), t.block.data(), len, static_cast<off_t>(off)) : 0;
    if (got != static_cast<ssize_t>(len)) {
      fail(t, boot::tftp_err::undefined, "read error");
      return false;
    }
    t.sock.send(asio::buffer(boot::encode_tftp_data(boot::TftpSender::wire(b),
                                                    std::span(t.block.data(), len))),
                0, ec);
    counters_->tftp_bytes += len;
  }
  return true;
}

// One packet from the client: an ACK moves the window (and the deadline), an ERROR ends the
// transfer (t.finished).
void TftpService::on_packet(Transfer& t, std::span<const std::uint8_t> bytes,
                            Clock::time_point& deadline) {
  auto reply = boot::parse_tftp_reply(bytes);
  if (!reply) return;
  if (reply->opcode == boot::tftp_op::error) {
    // Firmware PXE stacks (EDK2, Intel) ask for tsize, then end the transfer with an error
    // before the first block: a size query, not a failure.
    if (t.sender.awaiting_oack_ack()) return end(t, true, "");
    return end(t, false, "the client ended it: " + reply->error_message);
  }
  switch (t.sender.on_ack(reply->block)) {
    case boot::TftpSender::Ack::done:
      return end(t, true, "");
    case boot::TftpSender::Ack::resend:
      ++counters_->tftp_retransmits;
      [[fallthrough]];
    case boot::TftpSender::Ack::advanced:
      if (send_window(t)) deadline = Clock::now() + std::chrono::milliseconds(t.neg.timeout_ms);
      return;
    case boot::TftpSender::Ack::duplicate:
      return;
  }
}

void TftpService::fail(Transfer& t, std::uint16_t code, const std::string& why) {
  boost::system::error_code ec;
  t.sock.send(asio::buffer(boot::encode_tftp_error(code, why)), 0, ec);
  end(t, false, why);
}

void TftpService::end(Transfer& t, bool ok, const std::string& why) {
  if (t.finished) return;
  t.finished = true;
  boost::system::error_code ec;
  t.sock.close(ec);
  if (ok) {
    ++counters_->tftp_completed;
  } else {
    ++counters_->tftp_failed;
    log("TFTP " + t.name + ": " + why);
  }
}

}  // namespace revive::server
