#include "revive/agent/transport/relay.hpp"

#include <utility>
#include <vector>

#include "revive/agent/block_device.hpp"

namespace revive::agent {

Relay::Relay(const Manifest& m, std::shared_ptr<BlockDevice> disk, RelayOptions o)
    : image_id_(m.image_id),
      disk_(std::move(disk)),
      opts_(std::move(o)),
      store_(m, disk_.get(), opts_.store) {}

Result<std::unique_ptr<Relay>> Relay::start(const Manifest& m, std::shared_ptr<BlockDevice> disk,
                                            const ChunkRanges& held, RelayOptions o) {
  std::unique_ptr<Relay> relay(new Relay(m, std::move(disk), std::move(o)));
  for (const auto& [first, last] : held) relay->store_.mark_held_range(first, last);
  auto server = PeerServer::start(relay->store_, relay->opts_.server);
  if (!server) return server.error();
  relay->server_ = std::move(*server);
  return relay;
}

Relay::~Relay() {
  linger_thread_ = {};  // asks the thread to stop and joins it before anything goes away
  close();
}

void Relay::held(std::size_t item, std::span<const std::byte> frame) {
  // A copy: the pipeline reuses its frame buffer. The store's cache bounds what is kept.
  store_.mark_held(item,
                   std::make_shared<const std::vector<std::byte>>(frame.begin(), frame.end()));
}

std::uint16_t Relay::port() const {
  std::lock_guard lock(mu_);
  return server_ ? server_->port() : 0;
}

std::uint64_t Relay::bytes_served() const {
  std::lock_guard lock(mu_);
  return server_ ? server_->stats().bytes_served : served_at_close_;
}

bool Relay::closed() const {
  std::lock_guard lock(mu_);
  return closed_;
}

void Relay::close() {
  std::unique_ptr<PeerServer> server;
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    closed_ = true;
    if (server_) served_at_close_ = server_->stats().bytes_served;
    server = std::move(server_);
  }
  store_.close();  // waiting requests answer 503 at once, so the listener stops quickly
  server.reset();
  cv_.notify_all();
}

void Relay::linger(RelayReporter report, std::chrono::milliseconds every) {
  {
    std::lock_guard lock(mu_);
    if (closed_ || lingering_) return;
    lingering_ = true;
  }
  linger_thread_ = std::jthread([this, report = std::move(report), every](
                                    const std::stop_token& st) { linger_loop(st, report, every); });
}

void Relay::linger_loop(const std::stop_token& stop, const RelayReporter& report,
                        std::chrono::milliseconds every) {
  while (!stop.stop_requested() && !closed()) {
    protocol::RelayReport r;
    r.image_id = image_id_;
    r.relay_port = port();
    r.chunks_held = chunks_held();
    r.bytes_served = bytes_served();
    auto ack = report(r);
    // io: the server is away for a moment, keep serving; any other refusal (an older server
    // without relays, a session that ended) means nobody will name this laptop again.
    const bool done = ack ? ack->release : ack.error().code != Errc::io;
    if (done) {
      {
        std::lock_guard lock(mu_);
        released_ = ack.has_value();
        lingering_ = false;
      }
      close();
      return;
    }
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, stop, every, [this] { return closed_; });
  }
  std::lock_guard lock(mu_);
  lingering_ = false;
}

bool Relay::finish(std::chrono::milliseconds timeout) {
  {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [this] { return !lingering_ || closed_; });
  }
  close();
  linger_thread_ = {};
  std::lock_guard lock(mu_);
  return released_;
}

}  // namespace revive::agent
