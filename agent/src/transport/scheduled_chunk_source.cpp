#include "revive/agent/transport/scheduled_chunk_source.hpp"

#include <cctype>
#include <string_view>
#include <utility>
#include <vector>

#include "revive/agent/transport/http_chunk_source.hpp"
#include "revive/http_client.hpp"
#include "revive/manifest.hpp"

namespace revive::agent {

namespace proto = revive::protocol;
using Kind = proto::SourceAssignment::Kind;
using Clock = std::chrono::steady_clock;

namespace {
// How often a waiting worker looks at the stop flag.
constexpr std::chrono::milliseconds kWaitSlice{200};
// A busy peer already waited for the chunk; a short pause keeps a retry from spinning.
constexpr std::chrono::milliseconds kBusyPause{50};

// The bracketed host of an "http://[v6]:port" URL, or "" for any other URL.
std::string_view bracketed_host(std::string_view url) {
  constexpr std::string_view kOpen = "http://[";
  if (!url.starts_with(kOpen)) return {};
  const auto close = url.find(']');
  if (close == std::string_view::npos) return {};
  return url.substr(kOpen.size(), close - kOpen.size());
}

// A peer at a link-local IPv6 address (fe80::/10) is reached through one of this laptop's
// interfaces, which the URL must name, and the server cannot know which (it leaves its own
// out). It is the one this agent reaches the server through when that is link-local too: the
// server's URL then carries it. Any other URL is returned as it is.
std::string with_own_zone(const std::string& url, const std::string& server) {
  const std::string_view host = bracketed_host(url);
  if (host.size() < 4 || host.find('%') != std::string_view::npos) return url;
  const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(host[2])));
  const bool link_local = (host.substr(0, 2) == "fe" || host.substr(0, 2) == "FE") &&
                          (c == '8' || c == '9' || c == 'a' || c == 'b');
  const std::string_view server_host = bracketed_host(server);
  const auto zone = server_host.find("%25");
  if (!link_local || zone == std::string_view::npos) return url;
  const std::size_t host_end = std::string_view("http://[").size() + host.size();
  return url.substr(0, host_end) + std::string(server_host.substr(zone)) + url.substr(host_end);
}
}  // namespace

// What one worker does next, decided under the lock.
struct ScheduledChunkSource::Plan {
  enum class Do { server, peer, wait } what = Do::server;
  std::int64_t peer = 0;
  std::string url;
  std::int64_t epoch = 0;
};

// One keep-alive connection per worker thread, to the peer it fetched from last.
struct ScheduledChunkSource::PeerConnections {
  std::mutex mu;
  std::map<std::thread::id, std::pair<std::string, http::Connection>> by_thread;
  http::ConnectionOptions options;

  http::Connection& for_peer(const std::string& url) {
    std::lock_guard lock(mu);
    auto& [peer_url, conn] = by_thread[std::this_thread::get_id()];
    if (peer_url != url) {  // another peer now: a fresh connection
      peer_url = url;
      conn = http::Connection(options);
    }
    return conn;
  }
};

ScheduledChunkSource::ScheduledChunkSource(ScheduledSourceOptions o)
    : opts_(std::move(o)),
      server_(make_http_chunk_source(opts_.server, opts_.max_rate, &arrived_)),
      peers_(std::make_unique<PeerConnections>()) {
  peers_->options.connect_timeout = std::chrono::seconds(2);
  peers_->options.first_byte_timeout = opts_.peer_first_byte_timeout;
  peers_->options.stall_timeout = opts_.peer_stall_timeout;
  peers_->options.max_recv_rate = opts_.max_rate;
  peers_->options.max_body = kMaxChunkSize * 2;
  if (!opts_.order.empty()) {
    StreamedChunksOptions so;
    so.order = std::move(opts_.order);
    so.done = std::move(opts_.done);
    so.max_frame = kMaxChunkSize * 2;
    so.stall_timeout = opts_.peer_stall_timeout;
    so.connection = peers_->options;
    so.server_headers = std::move(opts_.server_headers);
    so.arrived = &arrived_;
    streams_ = std::make_unique<StreamedChunks>(std::move(so));
  }
  current_.kind = Kind::server;
  current_.epoch = -1;
}

ScheduledChunkSource::~ScheduledChunkSource() = default;

bool ScheduledChunkSource::assign(const proto::SourceAssignment& a) {
  std::lock_guard lock(mu_);
  if (assigned_ && a.epoch <= current_.epoch) return false;
  // The same source keeps its stream (a re-plan elsewhere in the workshop).
  const bool same_source =
      current_.kind == a.kind && (a.kind != Kind::peer || current_.peer == a.peer);
  current_ = a;
  if (a.kind == Kind::peer) current_.url = with_own_zone(a.url, opts_.server);
  if (streams_ && !same_source) streams_->retire();
  assigned_ = true;
  failed_at_.reset();
  busy_in_a_row_ = 0;
  filling_in_a_row_ = 0;
  ++replans_;
  if (a.kind == Kind::peer && banned_.contains(a.peer)) {
    // The server has not taken our report in yet (or lost it): say it again, use the server.
    failed_at_ = Clock::now();
    ++failures_;
    pending_ = proto::SourceFailure{a.peer, "served a chunk that failed its SHA-256 before", true};
  }
  changed_.notify_all();
  return true;
}

std::optional<proto::SourceFailure> ScheduledChunkSource::take_failure() {
  std::lock_guard lock(mu_);
  return std::exchange(pending_, std::nullopt);
}

void ScheduledChunkSource::unreport(proto::SourceFailure f) {
  std::lock_guard lock(mu_);
  if (!pending_) pending_ = std::move(f);
}

bool ScheduledChunkSource::failure_pending() const {
  std::lock_guard lock(mu_);
  return pending_.has_value();
}

std::string ScheduledChunkSource::source_label() const {
  std::lock_guard lock(mu_);
  if (current_.kind == Kind::peer)
    return failed_at_ ? "server" : "peer " + std::to_string(current_.peer);
  return std::string(proto::to_string(current_.kind));
}

std::string ScheduledChunkSource::describe() const {
  std::lock_guard lock(mu_);
  std::string line;
  switch (current_.kind) {
    case Kind::server:
      line = "from the server";
      break;
    case Kind::peer:
      line = "from peer " + std::to_string(current_.peer) + " (" + current_.url + ")";
      if (failed_at_) line += ", which failed: waiting for the server to re-plan";
      break;
    case Kind::queued:
      line = "queued (place " + std::to_string(current_.place) + ")";
      break;
  }
  if (!current_.reason.empty()) line += ": " + current_.reason;
  return line;
}

SourceBytes ScheduledChunkSource::bytes_by_source() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

std::uint64_t ScheduledChunkSource::replans() const {
  std::lock_guard lock(mu_);
  return replans_;
}

std::uint64_t ScheduledChunkSource::failures() const {
  std::lock_guard lock(mu_);
  return failures_;
}

std::uint64_t ScheduledChunkSource::bytes_fetched() const {
  std::lock_guard lock(mu_);
  return bytes_.server + bytes_.peers;
}

ScheduledChunkSource::Plan ScheduledChunkSource::plan_for_fetch() {
  std::lock_guard lock(mu_);
  Plan p;
  p.epoch = current_.epoch;
  if (current_.kind == Kind::queued) {
    p.what = Plan::Do::wait;
  } else if (current_.kind == Kind::peer) {
    p.peer = current_.peer;
    p.url = current_.url;
    p.what = Plan::Do::peer;
    // A failed peer: wait for the re-plan; past replan_wait, the server.
    if (failed_at_)
      p.what = Clock::now() - *failed_at_ < opts_.replan_wait ? Plan::Do::wait : Plan::Do::server;
  }
  return p;
}

Result<void> ScheduledChunkSource::fetch(const Digest& d, std::vector<std::byte>& out) {
  while (true) {
    if (stopped()) return make_error(Errc::cancelled, "deploy stopped");
    const Plan p = plan_for_fetch();
    if (p.what == Plan::Do::wait) {
      std::unique_lock lock(mu_);
      changed_.wait_for(lock, kWaitSlice, [&] { return current_.epoch != p.epoch; });
      continue;
    }
    if (streams_) {  // a frame a stream brought before the plan moved on is as good
      if (const auto from = streams_->take_buffered(d, out)) {
        served_by(*from, out.size());
        return {};
      }
    }
    bool replan = false;
    if (p.what == Plan::Do::server) {
      if (streams_ && !opts_.server_stream.empty() && fetch_server_streamed(p, d, out, replan))
        return {};
      if (replan) continue;
      auto r = server_->fetch(d, out);
      if (r) {
        served_by(0, out.size());
        if (streams_) streams_->fetched(d);
      }
      return r;
    }
    if (streams_ && fetch_streamed(p, d, out, replan)) return {};
    if (replan) continue;
    bool filling = false;
    auto r = fetch_from_peer(p, d, out, filling);
    if (r) {
      served_by(p.peer, out.size());
      if (streams_) streams_->fetched(d);
      return r;
    }
    if (r.error().code == Errc::busy) {
      std::unique_lock lock(mu_);
      if (filling) busy_in_a_row_ = 0;  // it gains chunks: not stuck
      const bool too_long = filling ? ++filling_in_a_row_ >= opts_.peer_filling_limit
                                    : ++busy_in_a_row_ >= opts_.peer_busy_limit;
      if (current_.epoch == p.epoch && !failed_at_ && too_long) {
        lock.unlock();
        // It answers, but gains nothing: "stalled" (the server tells the two apart).
        fail_peer(p.peer, p.epoch, "stalled: " + r.error().message, false);
      } else {
        changed_.wait_for(lock, kBusyPause, [&] { return current_.epoch != p.epoch; });
      }
      continue;
    }
    fail_peer(p.peer, p.epoch, r.error().message, false);
  }
}

bool ScheduledChunkSource::fetch_streamed(const Plan& p, const Digest& d,
                                          std::vector<std::byte>& out, bool& replan) {
  using Outcome = StreamedChunks::Outcome;
  const auto replanned = [&] {
    std::lock_guard lock(mu_);
    return stopped() || current_.epoch != p.epoch || failed_at_.has_value();
  };
  auto t = streams_->take(p.peer, p.url, p.epoch, d, out, replanned);
  switch (t.what) {
    case Outcome::got:
      served_by(t.peer, out.size());
      return true;
    case Outcome::not_coming:
      return false;
    case Outcome::gave_up:
      replan = true;
      return false;
    case Outcome::failed:
      break;
  }
  // Busy: it answers but gains nothing ("stalled", which the server tells from dead).
  const std::string who = "peer " + std::to_string(p.peer) + " (" + p.url + ")";
  const Error& e = *t.error;
  fail_peer(p.peer, p.epoch, (e.code == Errc::busy ? "stalled: " : "") + who + ": " + e.message,
            false);
  replan = true;
  return false;
}

bool ScheduledChunkSource::fetch_server_streamed(const Plan& p, const Digest& d,
                                                 std::vector<std::byte>& out, bool& replan) {
  using Outcome = StreamedChunks::Outcome;
  // Not failed_at_: past replan_wait after a peer failed, the server is the plan until the next.
  const auto replanned = [&] {
    std::lock_guard lock(mu_);
    return stopped() || current_.epoch != p.epoch;
  };
  auto t = streams_->take(0, opts_.server_stream, p.epoch, d, out, replanned);
  if (t.what == Outcome::got) {
    served_by(0, out.size());
    return true;
  }
  replan = t.what == Outcome::gave_up;
  return false;
}

// busy: the peer does not hold it (yet), `filling` when it gained chunks meanwhile; any other
// error: the peer failed.
Result<void> ScheduledChunkSource::fetch_from_peer(const Plan& p, const Digest& d,
                                                   std::vector<std::byte>& out, bool& filling) {
  const std::string hex = digest_hex(d);
  http::Request req;
  req.url = p.url + "/chunks/" + hex;
  req.keep_headers = {proto::kRelayStateHeader};
  out.clear();
  http::Connection& conn = peers_->for_peer(p.url);
  auto r = conn.download(req, [this, &out](std::span<const std::byte> piece) -> Result<void> {
    arrived_.fetch_add(piece.size(), std::memory_order_relaxed);
    out.insert(out.end(), piece.begin(), piece.end());
    return {};
  });
  const std::string who = "peer " + std::to_string(p.peer) + " (" + p.url + ")";
  if (!r) return make_error(r.error().code, who + ": " + r.error().message);
  if (r->status == 503) {
    filling = r->header(proto::kRelayStateHeader) == proto::kRelayFilling;
    return make_error(Errc::busy, who + " has not had chunk " + hex + " for a while");
  }
  if (r->status != 200)
    return make_error(Errc::corrupt,
                      who + " answered " + std::to_string(r->status) + " for chunk " + hex);
  if (r->content_length && *r->content_length != out.size())
    return make_error(Errc::corrupt, who + ": chunk " + hex + " shorter than announced");
  return {};
}

void ScheduledChunkSource::fail_peer(std::int64_t peer, std::int64_t epoch, std::string reason,
                                     bool bad_chunk) {
  std::lock_guard lock(mu_);
  // Another worker's frame from a peer already caught lying: reported once is enough.
  if (bad_chunk && !banned_.insert(peer).second) return;
  const bool current = current_.kind == Kind::peer && current_.peer == peer;
  // A failure already noticed for this assignment is not counted twice (four workers see the
  // same dead peer), unless it is worse: a bad chunk.
  if (current && failed_at_ && !bad_chunk) return;
  if (current && current_.epoch == epoch) failed_at_ = Clock::now();
  if (current && bad_chunk && !failed_at_) failed_at_ = Clock::now();
  if (streams_) streams_->drop(peer, bad_chunk);
  ++failures_;
  if (!pending_ || bad_chunk) pending_ = proto::SourceFailure{peer, std::move(reason), bad_chunk};
  changed_.notify_all();
}

void ScheduledChunkSource::served_by(std::int64_t peer, std::size_t bytes) {
  std::lock_guard lock(mu_);
  last_origin_[std::this_thread::get_id()] = peer;
  if (peer == 0) {
    bytes_.server += bytes;
  } else {
    bytes_.peers += bytes;
    bytes_.by_peer[peer] += bytes;
    busy_in_a_row_ = 0;
    filling_in_a_row_ = 0;
  }
}

void ScheduledChunkSource::rejected(const Digest& d, const Error& why) {
  std::int64_t peer = 0;
  std::int64_t epoch = 0;
  {
    std::lock_guard lock(mu_);
    const auto it = last_origin_.find(std::this_thread::get_id());
    if (it != last_origin_.end()) peer = it->second;
    epoch = current_.epoch;
  }
  if (peer == 0) return;  // the server's frame: the pipeline's retries deal with it
  fail_peer(peer, epoch, "chunk " + digest_hex(d) + " failed its check: " + why.message, true);
}

}  // namespace revive::agent
