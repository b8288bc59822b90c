#include "revive/agent/transport/streamed_chunks.hpp"

#include <utility>

#include "revive/agent/transport/chunk_stream.hpp"
#include "revive/protocol.hpp"

namespace revive::agent {

using Clock = std::chrono::steady_clock;

namespace {
// How often a waiting worker looks at its give-up condition and the stream's health.
constexpr std::chrono::milliseconds kWaitSlice{200};

long long ms(Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}
}  // namespace

// One stream from one peer for one assignment. Everything but `abort` and `thread` is guarded
// by StreamedChunks::mu_.
struct StreamedChunks::Stream {
  std::int64_t peer = 0;
  std::string url;
  std::int64_t epoch = 0;
  std::size_t next_pos = 0;    // the data extent the stream is at
  std::set<Digest> delivered;  // a chunk comes once per stream
  std::optional<Error> failure;
  bool ended = false;             // its thread is done (or it never needed one)
  bool waiting_for_room = false;  // this side is not reading: not the peer's stall
  // The chunk received and counted as delivered that waits for room in the buffer: still
  // coming. A worker that asks for it in that moment waits for it rather than asking alone.
  std::optional<Digest> pending;
  Clock::time_point last_byte, last_gain, last_chunk;
  std::atomic<bool> abort{false};
  std::jthread thread;  // last: joined before the rest goes
};

StreamedChunks::StreamedChunks(StreamedChunksOptions o) : opts_(std::move(o)) {
  for (std::size_t p = 0; p < opts_.order.size(); ++p) {
    if (p < opts_.done.size() && opts_.done[p]) continue;
    ++wanted_[opts_.order[p]];
    last_pos_[opts_.order[p]] = p;
  }
}

StreamedChunks::~StreamedChunks() {
  {
    std::lock_guard lock(mu_);
    if (current_) current_->abort = true;
    for (auto& s : retired_) s->abort = true;
  }
  changed_.notify_all();
  // Joined without the lock: the streams' threads take it in their callbacks.
  current_.reset();
  retired_.clear();
}

StreamedChunks::Taken StreamedChunks::take(std::int64_t peer, const std::string& url,
                                           std::int64_t epoch, const Digest& d,
                                           std::vector<std::byte>& out,
                                           const std::function<bool()>& give_up) {
  std::unique_lock lock(mu_);
  // A re-plan that keeps the peer keeps its stream, unless that one is over.
  if (!current_ || current_->peer != peer || current_->url != url ||
      ((current_->ended || current_->failure) && current_->epoch != epoch)) {
    retire_locked();
    start_locked(peer, url, epoch);
  }
  std::optional<Clock::time_point> full_since;
  while (true) {
    if (const auto from = take_locked(d, out)) return {Outcome::got, *from, std::nullopt};
    // Retired meanwhile (its peer failed, the plan moved): the caller plans again.
    if (!current_ || current_->peer != peer) return {Outcome::gave_up, peer, std::nullopt};
    watch_locked();
    if (current_->failure) return {Outcome::failed, current_->peer, current_->failure};
    if (!coming_locked(d)) return {Outcome::not_coming, current_->peer, std::nullopt};
    // Full of frames for other workers, while this one's is still to come: if none of them is
    // taken for a stall's time, they are not what the workers need (they asked elsewhere
    // meanwhile): drop them rather than wait for ever. Those chunks are asked for alone.
    if (!current_->waiting_for_room) {
      full_since.reset();
    } else if (!full_since) {
      full_since = Clock::now();
    } else if (Clock::now() - *full_since > opts_.stall_timeout) {
      buffer_.clear();
      full_since.reset();
      changed_.notify_all();
    }
    lock.unlock();
    const bool stop = give_up();  // it takes the caller's lock: never under ours
    lock.lock();
    if (stop) return {Outcome::gave_up, peer, std::nullopt};
    changed_.wait_for(lock, kWaitSlice);
  }
}

void StreamedChunks::drop(std::int64_t peer, bool discard) {
  std::lock_guard lock(mu_);
  if (current_ && current_->peer == peer) retire_locked();
  if (discard) std::erase_if(buffer_, [peer](const auto& kv) { return kv.second.peer == peer; });
  changed_.notify_all();
}

void StreamedChunks::fetched(const Digest& d) {
  std::lock_guard lock(mu_);
  const auto w = wanted_.find(d);
  if (w == wanted_.end() || w->second <= 0) return;
  if (--w->second == 0) buffer_.erase(d);  // a stream's copy came too late
  changed_.notify_all();
}

void StreamedChunks::retire() {
  std::lock_guard lock(mu_);
  retire_locked();
}

std::optional<std::int64_t> StreamedChunks::take_buffered(const Digest& d,
                                                          std::vector<std::byte>& out) {
  std::lock_guard lock(mu_);
  return take_locked(d, out);
}

std::optional<std::int64_t> StreamedChunks::take_locked(const Digest& d,
                                                        std::vector<std::byte>& out) {
  const auto it = buffer_.find(d);
  if (it == buffer_.end()) return std::nullopt;
  out = std::move(it->second.frame);
  const std::int64_t from = it->second.peer;
  buffer_.erase(it);  // a repeat later in the image is asked for alone
  --wanted_[d];
  changed_.notify_all();
  return from;
}

void StreamedChunks::retire_locked() {
  std::erase_if(retired_, [](const auto& s) { return s->ended; });  // finished: joins at once
  if (!current_) return;
  current_->abort = true;
  retired_.push_back(std::move(current_));
  changed_.notify_all();  // a stream waiting for room stops waiting
}

void StreamedChunks::start_locked(std::int64_t peer, const std::string& url, std::int64_t epoch) {
  auto s = std::make_unique<Stream>();
  s->peer = peer;
  s->url = url;
  s->epoch = epoch;
  s->last_byte = s->last_gain = s->last_chunk = Clock::now();
  // From the first chunk still wanted that no earlier stream brought.
  std::size_t first = 0;
  while (first < opts_.order.size()) {
    const Digest& d = opts_.order[first];
    if (wanted_[d] > 0 && !buffer_.contains(d) && last_pos_[d] >= first) break;
    ++first;
  }
  s->next_pos = first;
  if (first == opts_.order.size()) {
    s->ended = true;  // nothing left to stream
    current_ = std::move(s);
    return;
  }
  Stream* raw = s.get();
  s->thread = std::jthread([this, raw, first] {
    http::ConnectionOptions co = opts_.connection;
    co.abort = &raw->abort;
    co.stall_timeout = {};  // watched by watch_locked(), which knows when this side waits
    http::Connection conn(co);
    http::Request req;
    req.url = raw->url + protocol::path::relay_stream(first);
    if (raw->peer == 0) req.headers = opts_.server_headers;
    chunk_stream::Parser parser(
        opts_.max_frame,
        [this, raw](const Digest& d, std::vector<std::byte>&& f) {
          return on_chunk(*raw, d, std::move(f));
        },
        [this, raw](bool filling) { return on_keep_alive(*raw, filling); });
    auto r = conn.download(req, [&](std::span<const std::byte> piece) -> Result<void> {
      if (opts_.arrived != nullptr) opts_.arrived->fetch_add(piece.size());
      {
        std::lock_guard lock(mu_);
        raw->last_byte = Clock::now();
      }
      return parser.feed(piece);
    });
    Result<void> end;
    if (!r) {
      end = r.error();
    } else if (r->status == 404) {
      // A relay without streams (an older agent): every chunk is asked for alone.
    } else if (r->status != 200) {
      end = make_error(Errc::io, "refused the chunk stream (" + std::to_string(r->status) + ")");
    } else if (!parser.at_record_boundary()) {
      end = make_error(Errc::io, "the chunk stream was cut off inside a record");
    }
    on_end(*raw, end);
  });
  current_ = std::move(s);
}

bool StreamedChunks::coming_locked(const Digest& d) const {
  const Stream& s = *current_;
  if (s.pending == d) return true;
  if (s.ended || s.delivered.contains(d)) return false;
  const auto w = wanted_.find(d);
  const auto last = last_pos_.find(d);
  return w != wanted_.end() && w->second > 0 && last->second >= s.next_pos;
}

// A stream that stops moving while this side reads is cut: the peer froze or went away without
// closing (a SIGKILLed laptop's kernel closes; a pulled cable does not).
void StreamedChunks::watch_locked() {
  Stream& s = *current_;
  if (s.ended || s.failure || s.waiting_for_room) return;
  const auto quiet = Clock::now() - s.last_byte;
  if (quiet > opts_.stall_timeout) {
    s.failure =
        make_error(Errc::io, "stalled, nothing received for " + std::to_string(ms(quiet)) + " ms");
    s.abort = true;
  }
}

Result<void> StreamedChunks::on_chunk(Stream& s, const Digest& d, std::vector<std::byte>&& frame) {
  std::unique_lock lock(mu_);
  if (s.abort) return make_error(Errc::cancelled, "the stream was retired");
  std::size_t p = s.next_pos;
  while (p < opts_.order.size() && opts_.order[p] != d) ++p;
  if (p == opts_.order.size() || s.delivered.contains(d)) {
    return make_error(Errc::corrupt, "sent chunk " + digest_hex(d) + " out of the image's order");
  }
  s.next_pos = p + 1;
  s.delivered.insert(d);
  s.last_gain = s.last_chunk = Clock::now();
  const auto w = wanted_.find(d);
  if (w == wanted_.end() || w->second <= 0 || buffer_.contains(d)) return {};  // not needed
  s.waiting_for_room = true;
  s.pending = d;
  changed_.wait(lock, [&] { return buffer_.size() < opts_.buffer_frames || s.abort; });
  s.waiting_for_room = false;
  s.pending.reset();
  s.last_byte = Clock::now();
  if (s.abort) return make_error(Errc::cancelled, "the stream was retired");
  // Fetched another way while it waited: nobody takes it. (`w` still points at d's count:
  // wanted_ never erases.)
  if (w->second <= 0) return {};
  buffer_[d] = Buffered{std::move(frame), s.peer};
  changed_.notify_all();
  return {};
}

Result<void> StreamedChunks::on_keep_alive(Stream& s, bool filling) {
  std::lock_guard lock(mu_);
  const auto now = Clock::now();
  if (filling) s.last_gain = now;
  if (now - s.last_gain >= opts_.stuck_timeout) {
    return make_error(
        Errc::busy, "it has gained no chunk for " + std::to_string(ms(now - s.last_gain)) + " ms");
  }
  if (now - s.last_chunk >= opts_.filling_timeout) {
    return make_error(Errc::busy, "it has been filling for " +
                                      std::to_string(ms(now - s.last_chunk)) +
                                      " ms without sending a chunk");
  }
  return {};
}

void StreamedChunks::on_end(Stream& s, const Result<void>& r) {
  {
    std::lock_guard lock(mu_);
    s.ended = true;
    if (!r && !s.failure && !s.abort) s.failure = r.error();
  }
  changed_.notify_all();
}

}  // namespace revive::agent
