#include "revive/agent/transport/peer_server.hpp"

#include <arpa/inet.h>
#include <linux/pkt_sched.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <charconv>
#include <cstring>
#include <mutex>
#include <set>
#include <string_view>

#include "revive/agent/transport/chunk_stream.hpp"
#include "revive/agent/transport/relay_store.hpp"
#include "revive/http_range.hpp"
#include "revive/protocol.hpp"
#include "revive/sha256.hpp"

namespace revive::agent {

namespace {

constexpr std::string_view kChunkPrefix = "/chunks/";
constexpr std::string_view kStreamPrefix = "/stream/";
// What libmicrohttpd asks a stream's reader for at most, per call.
constexpr std::size_t kStreamBlock = 64 << 10;

/// A response body that keeps its frame alive until libmicrohttpd has sent it.
extern "C" void release_frame(void* cls) { delete static_cast<Frame*>(cls); }

/// One chunk stream being sent (chunk_stream.hpp): the next data extent, the record being
/// copied out, and the chunks already sent (a repeated one goes once).
struct StreamState {
  StreamState(RelayStore& s, std::chrono::milliseconds k, PeerServerStats& st, std::mutex& mu,
              std::size_t first)
      : store(s), keep_alive(k), stats(st), stats_mu(mu), next(first) {}

  RelayStore& store;
  std::chrono::milliseconds keep_alive;
  PeerServerStats& stats;
  std::mutex& stats_mu;
  std::size_t next = 0;
  std::set<Digest> sent;
  std::array<std::byte, chunk_stream::kHeaderSize> header{};
  Frame frame;
  std::size_t offset = 0;  // into header then frame
  bool pending = false;

  std::size_t record_size() const { return header.size() + (frame ? frame->size() : 0); }

  /// Waits for the next record; false when the stream is over (end or error in `ended`).
  bool next_record(ssize_t& ended) {
    while (next < store.chunk_count()) {
      const Digest& d = store.digest_at(next);
      if (sent.contains(d)) {
        ++next;
        continue;
      }
      const std::size_t held_before = store.held_count();
      auto f = store.frame_for(d, keep_alive);
      if (!f && f.error().code == Errc::busy && !store.closed()) {
        const bool filling = store.held_count() > held_before;
        header = chunk_stream::encode({{}, 0, filling ? chunk_stream::kFilling : 0});
        frame.reset();
        return start_record();
      }
      if (!f) break;  // closed, or the disk lost the chunk: never served
      sent.insert(d);
      ++next;
      header = chunk_stream::encode({d, static_cast<std::uint32_t>((*f)->size()), 0});
      frame = std::move(*f);
      std::lock_guard lock(stats_mu);
      ++stats.chunks_served;
      stats.bytes_served += frame->size();
      return start_record();
    }
    ended = next < store.chunk_count() ? MHD_CONTENT_READER_END_WITH_ERROR
                                       : MHD_CONTENT_READER_END_OF_STREAM;
    return false;
  }

  bool start_record() {
    offset = 0;
    pending = true;
    return true;
  }

  ssize_t read(char* buf, std::size_t max) {
    ssize_t ended = 0;
    if (!pending && !next_record(ended)) return ended;
    std::size_t n = 0;
    while (n < max && offset < record_size()) {
      const bool in_header = offset < header.size();
      const std::byte* from =
          in_header ? header.data() + offset : frame->data() + (offset - header.size());
      const std::size_t left = in_header ? header.size() - offset : record_size() - offset;
      const std::size_t take = std::min(left, max - n);
      std::memcpy(buf + n, from, take);
      n += take;
      offset += take;
    }
    if (offset == record_size()) pending = false;
    return static_cast<ssize_t>(n);
  }
};

extern "C" ssize_t read_stream(void* cls, std::uint64_t /*pos*/, char* buf, size_t max) {
  try {
    return static_cast<StreamState*>(cls)->read(buf, max);
  } catch (...) {  // never let an exception cross into C (bad_alloc)
    return MHD_CONTENT_READER_END_WITH_ERROR;
  }
}
extern "C" void release_stream(void* cls) { delete static_cast<StreamState*>(cls); }

}  // namespace

struct PeerServer::Impl {
  RelayStore& store;
  PeerServerOptions opts;
  MHD_Daemon* daemon = nullptr;
  mutable std::mutex mu;
  PeerServerStats stats;

  Impl(RelayStore& s, PeerServerOptions o) : store(s), opts(std::move(o)) {}
  ~Impl() {
    if (daemon != nullptr) MHD_stop_daemon(daemon);
  }

  MHD_Result answer_text(MHD_Connection* c, unsigned status, std::string_view text,
                         bool filling = false) {
    {
      std::lock_guard lock(mu);
      ++stats.refused;
    }
    MHD_Response* r = MHD_create_response_from_buffer(text.size(), const_cast<char*>(text.data()),
                                                      MHD_RESPMEM_MUST_COPY);
    if (r == nullptr) return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
    if (status == MHD_HTTP_SERVICE_UNAVAILABLE) {
      MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "1");
      if (filling) MHD_add_response_header(r, protocol::kRelayStateHeader, protocol::kRelayFilling);
    }
    const MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
  }

  MHD_Result answer_frame(MHD_Connection* c, Frame frame) {
    const std::uint64_t size = frame->size();
    std::optional<ByteRange> range;
    if (const char* h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_RANGE)) {
      range = parse_range(h, size);
    }
    if (range && !range->satisfiable) {
      return answer_text(c, MHD_HTTP_RANGE_NOT_SATISFIABLE, "range outside the chunk\n");
    }
    const std::uint64_t first = range ? range->first : 0;
    const std::uint64_t length = range ? range->length : size;
    auto* keep = new Frame(std::move(frame));  // released by release_frame with the response
    auto* data = const_cast<std::byte*>((*keep)->data() + first);
    MHD_Response* r =
        MHD_create_response_from_buffer_with_free_callback_cls(length, data, release_frame, keep);
    if (r == nullptr) {
      delete keep;
      return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/zstd");
    MHD_add_response_header(r, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
    unsigned status = MHD_HTTP_OK;
    if (range) {
      status = MHD_HTTP_PARTIAL_CONTENT;
      const std::string cr = "bytes " + std::to_string(first) + "-" +
                             std::to_string(first + length - 1) + "/" + std::to_string(size);
      MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_RANGE, cr.c_str());
    }
    const MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    if (ok == MHD_YES) {
      std::lock_guard lock(mu);
      ++stats.chunks_served;
      stats.bytes_served += length;
    }
    return ok;
  }

  MHD_Result answer_stream(MHD_Connection* c, std::string_view position) {
    std::size_t first = 0;
    const auto [end, ec] = std::from_chars(position.begin(), position.end(), first);
    if (ec != std::errc() || end != position.end() || position.empty() ||
        first >= store.chunk_count()) {
      return answer_text(c, MHD_HTTP_NOT_FOUND, "no such data extent in this image\n");
    }
    auto* state = new StreamState(store, opts.stream_keep_alive, stats, mu, first);
    MHD_Response* r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, kStreamBlock,
                                                        &read_stream, state, &release_stream);
    if (r == nullptr) {
      delete state;
      return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/x-revive-chunk-stream");
    const MHD_Result ok = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ok;
  }

  MHD_Result handle(MHD_Connection* c, std::string_view url, std::string_view method) {
    constexpr std::string_view kOnly = "only GET /chunks/{sha256} and GET /stream/{position}\n";
    if (method != "GET" && method != "HEAD") {
      return answer_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, kOnly);
    }
    if (url.starts_with(kStreamPrefix) && method == "GET") {
      return answer_stream(c, url.substr(kStreamPrefix.size()));
    }
    if (!url.starts_with(kChunkPrefix)) {
      return answer_text(c, MHD_HTTP_NOT_FOUND, kOnly);
    }
    const auto digest = parse_digest(url.substr(kChunkPrefix.size()));
    if (!digest) return answer_text(c, MHD_HTTP_NOT_FOUND, "chunk names are 64 hex digits\n");
    const std::size_t held_before = store.held_count();
    auto frame = store.frame_for(*digest, opts.chunk_wait);
    if (frame) return answer_frame(c, std::move(*frame));
    switch (frame.error().code) {
      case Errc::not_found:
        return answer_text(c, MHD_HTTP_NOT_FOUND, "not a chunk of the image being deployed\n");
      case Errc::busy:
        // Gaining chunks while the request waited: behind the asker, not stuck (the asker
        // may be ahead of this laptop by the plan's design and waits for it to catch up).
        return answer_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "not here yet\n",
                           store.held_count() > held_before);
      default:
        return answer_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "this relay cannot serve it\n");
    }
  }
};

namespace {
extern "C" void on_connection(void* cls, MHD_Connection* c, void** /*socket_context*/,
                              MHD_ConnectionNotificationCode code) {
  if (code != MHD_CONNECTION_NOTIFY_STARTED) return;
  auto* impl = static_cast<PeerServer::Impl*>(cls);
  const MHD_ConnectionInfo* info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
  if (info == nullptr) return;
  // Bulk: in this laptop's own transmit queue the relay's data waits behind the rest, above all
  // the ACKs of its own download, which queued behind a full upload lagged and slowed the chain's
  // head by 2-3 s in 49 (bench/workshop.sh). Best effort: a queue without bands ignores it.
  const int bulk = TC_PRIO_BULK;
  ::setsockopt(info->connect_fd, SOL_SOCKET, SO_PRIORITY, &bulk, sizeof bulk);
  const std::string& cc = impl->opts.congestion_control;
  if (cc.empty()) return;
  const bool set =
      ::setsockopt(info->connect_fd, IPPROTO_TCP, TCP_CONGESTION, cc.data(), cc.size()) == 0;
  if (!set) {
    std::lock_guard lock(impl->mu);
    ++impl->stats.default_congestion;
  }
}

extern "C" MHD_Result on_request(void* cls, MHD_Connection* c, const char* url, const char* method,
                                 const char* /*version*/, const char* /*upload_data*/,
                                 size_t* upload_data_size, void** con_cls) {
  // libmicrohttpd calls once when the headers are in and again when the request is complete;
  // answering at the first call makes it close the connection (it cannot know the body is
  // empty), so the answer waits for the second.
  // Other methods are refused at their headers, before any body is read.
  static int headers_seen;
  const std::string_view m = method;
  const bool get = m == "GET" || m == "HEAD";
  if (*con_cls == nullptr && get) {
    *con_cls = &headers_seen;
    return MHD_YES;
  }
  if (get && *upload_data_size != 0) return MHD_NO;
  try {
    return static_cast<PeerServer::Impl*>(cls)->handle(c, url, method);
  } catch (...) {  // never let an exception cross into C (bad_alloc)
    return MHD_NO;
  }
}
}  // namespace

Result<std::unique_ptr<PeerServer>> PeerServer::start(RelayStore& store,
                                                      const PeerServerOptions& opts) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(opts.port);
  if (inet_pton(AF_INET, opts.address.c_str(), &addr.sin_addr) != 1) {
    return make_error(Errc::invalid_input, "relay address \"" + opts.address + "\" is not IPv4");
  }
  auto impl = std::make_unique<Impl>(store, opts);
  impl->daemon = MHD_start_daemon(
      MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0, nullptr, nullptr,
      &on_request, impl.get(), MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_CONNECTION_LIMIT,
      static_cast<unsigned>(opts.max_connections), MHD_OPTION_PER_IP_CONNECTION_LIMIT,
      static_cast<unsigned>(opts.max_per_address), MHD_OPTION_CONNECTION_TIMEOUT,
      static_cast<unsigned>(opts.idle_timeout.count()), MHD_OPTION_NOTIFY_CONNECTION,
      &on_connection, impl.get(), MHD_OPTION_END);
  if (impl->daemon == nullptr) {
    return make_error(
        Errc::io, "cannot listen for peers on " + opts.address + ":" + std::to_string(opts.port));
  }
  const MHD_DaemonInfo* info = MHD_get_daemon_info(impl->daemon, MHD_DAEMON_INFO_BIND_PORT);
  std::unique_ptr<PeerServer> server(new PeerServer(std::move(impl)));
  server->port_ = info != nullptr ? info->port : opts.port;
  return server;
}

PeerServer::PeerServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PeerServer::~PeerServer() = default;

PeerServerStats PeerServer::stats() const {
  std::lock_guard lock(impl_->mu);
  return impl_->stats;
}

}  // namespace revive::agent
