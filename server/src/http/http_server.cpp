#include "http/http_server.hpp"

#include <fcntl.h>
#include <openssl/ssl.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <array>
#include <csignal>
#include <cstdio>
#include <deque>
#include <list>
#include <map>
#include <set>
#include <type_traits>

#include "async.hpp"
#include "revive/file_util.hpp"

namespace revive::server {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {
constexpr auto tok = asio::as_tuple(asio::use_awaitable);
using Clock = std::chrono::steady_clock;
using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
template <class Stream>
constexpr bool kIsTls = std::is_same_v<Stream, TlsStream>;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// accept(2) failures that mean "no descriptor or buffer for a new socket right now": waiting
// (and closing an idle connection) helps; retrying at once only spins.
bool out_of_descriptors(const beast::error_code& ec) {
  return ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
         ec == asio::error::no_memory || ec.value() == ENFILE;
}

Result<void> listen_on(tcp::acceptor& a, const std::string& host, std::uint16_t port) {
  beast::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec)
    return make_error(Errc::invalid_input, "listen address \"" + host + "\" is not an IP address");
  tcp::endpoint ep(addr, port);
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return make_error(Errc::io,
                      "listen on " + host + ":" + std::to_string(port) + ": " + ec.message());
  return {};
}

Response connection_gone() {
  Response gone;
  gone.status = 0;  // the connection is gone: nothing to answer
  return gone;
}

}  // namespace

struct HttpServer::Impl : std::enable_shared_from_this<Impl> {
  asio::io_context& io;
  HttpOptions opts;
  Handler handler;
  Metrics& metrics;
  tcp::acceptor acceptor;
  tcp::acceptor tls_acceptor;
  std::unique_ptr<ssl::context> tls;
  ConnectionLimits limits;
  bool stopping = false;
  std::uint64_t next_id = 0;
  Clock::time_point exhausted_logged{};

  struct Conn {
    beast::tcp_stream* stream = nullptr;  // the lowest layer (TCP) of either kind of session
    bool idle = true;                     // waiting for a request (or a TLS handshake)
    Clock::time_point idle_since;
  };
  std::map<std::uint64_t, Conn> conns;
  std::map<std::string, std::set<asio::steady_timer*>> waiters;  // long-poll key -> timers
  struct Subscriber {
    std::deque<std::string> queue;
    asio::steady_timer* wake = nullptr;
  };
  std::list<Subscriber*> subscribers;
  std::function<void()> on_drained;
  std::unique_ptr<asio::steady_timer> grace_timer;

  Impl(asio::io_context& i, HttpOptions o, Handler h, Metrics& m)
      : io(i),
        opts(std::move(o)),
        handler(std::move(h)),
        metrics(m),
        acceptor(i),
        tls_acceptor(i),
        limits(opts.connections) {}

  void log(const std::string& line) const {
    if (opts.log) opts.log(line);
  }

  Result<void> load_tls() {
    tls = std::make_unique<ssl::context>(ssl::context::tls_server);
    tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                     ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    beast::error_code ec;
    tls->use_certificate_chain_file(opts.tls_cert_file.string(), ec);
    if (ec)
      return make_error(Errc::invalid_input,
                        "TLS certificate " + opts.tls_cert_file.string() + ": " + ec.message());
    tls->use_private_key_file(opts.tls_key_file.string(), ssl::context::pem, ec);
    if (ec)
      return make_error(Errc::invalid_input,
                        "TLS key " + opts.tls_key_file.string() + ": " + ec.message());
    if (SSL_CTX_check_private_key(tls->native_handle()) != 1)
      return make_error(Errc::invalid_input, "TLS key " + opts.tls_key_file.string() +
                                                 " does not belong to the certificate " +
                                                 opts.tls_cert_file.string());
    return {};
  }

  // ---- connections: caps, eviction, back-off

  // Closes the connection that has waited longest for a request, to make room; false when
  // every connection is busy.
  bool evict_idle() {
    Conn* victim = nullptr;
    for (auto& [id, c] : conns) {
      if (c.idle && (!victim || c.idle_since < victim->idle_since)) victim = &c;
    }
    if (!victim) return false;
    victim->idle = false;  // not picked twice while its session winds down
    victim->stream->close();
    metrics.connection_refused("evicted");
    return true;
  }

  void note_exhausted(const beast::error_code& ec) {
    if (Clock::now() - exhausted_logged < 10s) return;
    exhausted_logged = Clock::now();
    log("HTTP: accept failed (" + ec.message() + ") with " + std::to_string(conns.size()) +
        " connections open: closing idle ones and backing off");
  }

  asio::awaitable<void> accept_loop(tcp::acceptor& a, bool secure) {
    auto self = shared_from_this();
    asio::steady_timer pause(io);
    auto backoff = 10ms;
    while (!stopping) {
      auto [ec, sock] = co_await a.async_accept(tok);
      if (ec) {
        if (stopping || ec == asio::error::operation_aborted) break;
        if (!out_of_descriptors(ec)) continue;  // a client that gave up in the backlog
        metrics.connection_refused("descriptors");
        evict_idle();
        note_exhausted(ec);
        pause.expires_after(backoff);
        co_await pause.async_wait(tok);
        backoff = std::min<std::chrono::milliseconds>(backoff * 2, 1000ms);
        continue;
      }
      backoff = 10ms;
      start_session(std::move(sock), secure);
    }
  }

  void start_session(tcp::socket sock, bool secure) {
    beast::error_code ec;
    const auto ep = sock.remote_endpoint(ec);
    if (ec) return;  // already gone
    std::string peer = ep.address().to_string();
    const bool local = is_local_peer(peer);
    switch (limits.check(peer, local)) {
      case ConnectionLimits::Verdict::address_full:
        metrics.connection_refused("address");
        return;  // the socket closes here
      case ConnectionLimits::Verdict::total_full:
        if (!evict_idle()) {
          metrics.connection_refused("total");
          return;
        }
        break;
      case ConnectionLimits::Verdict::admit:
        break;
    }
    limits.add(peer, local);
    sock.set_option(tcp::no_delay(true), ec);
    if (secure) {
      spawn(io, session(TlsStream(beast::tcp_stream(std::move(sock)), *tls), std::move(peer)),
            "HTTPS session");
    } else {
      spawn(io, session(PlainStream(std::move(sock)), std::move(peer)), "HTTP session");
    }
  }

  void check_drained() {
    if (stopping && conns.empty() && on_drained) {
      auto f = std::move(on_drained);
      on_drained = nullptr;
      if (grace_timer) grace_timer->cancel();
      f();
    }
  }

  // ---- responses

  template <class Stream>
  asio::awaitable<bool> write_response(Stream& stream, Response& r, unsigned version,
                                       bool keep_alive, bool head) {
    auto& lowest = beast::get_lowest_layer(stream);
    http::response<http::string_body> res{static_cast<http::status>(r.status), version};
    res.set(http::field::server, "revive/" REVIVE_VERSION);
    res.set(http::field::content_type, r.content_type);
    for (const auto& [k, v] : r.headers) res.set(k, v);
    res.keep_alive(keep_alive);
    if (r.file) {
      http::response<http::empty_body> fres{static_cast<http::status>(r.status), version};
      for (const auto& f : res.base()) fres.set(f.name_string(), f.value());
      fres.content_length(r.file->length);
      fres.keep_alive(keep_alive);
      http::response_serializer<http::empty_body> sr{fres};
      lowest.expires_after(opts.write_timeout);
      auto [ec, n] = co_await http::async_write_header(stream, sr, tok);
      UniqueFd fd(r.file->fd);
      if (ec) co_return false;
      if (head) co_return true;
      co_return co_await send_file(stream, fd.get(), r.file->offset, r.file->length);
    }
    lowest.expires_after(opts.write_timeout);
    if (head) {
      http::response<http::empty_body> hres{res.result(), version};
      for (const auto& f : res.base()) hres.set(f.name_string(), f.value());
      hres.content_length(r.body.size());
      hres.keep_alive(keep_alive);
      auto [ec, n] = co_await http::async_write(stream, hres, tok);
      co_return !ec;
    }
    res.body() = std::move(r.body);
    res.prepare_payload();
    auto [ec, n] = co_await http::async_write(stream, res, tok);
    if (!ec) metrics.bytes_served(n);
    co_return !ec;
  }

  // Plain HTTP: sendfile(2) straight from the page cache to the socket; a timer cuts a stalled
  // client. TLS: the file is read and written through the TLS stream.
  template <class Stream>
  asio::awaitable<bool> send_file(Stream& stream, int fd, std::uint64_t offset,
                                  std::uint64_t length) {
    metrics.transfer_started();
    bool ok = false;
    if constexpr (kIsTls<Stream>) {
      ok = co_await copy_file(stream, fd, offset, length);
    } else {
      ok = co_await sendfile_to(stream.socket(), fd, offset, length);
    }
    metrics.transfer_finished();
    co_return ok;
  }

  asio::awaitable<bool> sendfile_to(tcp::socket& sock, int fd, std::uint64_t offset,
                                    std::uint64_t length) {
    sock.native_non_blocking(true);
    off_t off = static_cast<off_t>(offset);
    std::uint64_t left = length;
    asio::steady_timer timer(io);
    while (left > 0) {
      const ssize_t n =
          ::sendfile(sock.native_handle(), fd, &off, std::min<std::uint64_t>(left, 1u << 30));
      if (n > 0) {
        left -= static_cast<std::uint64_t>(n);
        metrics.bytes_served(static_cast<std::uint64_t>(n));
        continue;
      }
      if (n == 0) co_return false;  // file shorter than announced: the connection is lost
      if (errno == EINTR) continue;
      if (errno != EAGAIN) co_return false;
      timer.expires_after(opts.write_timeout);
      timer.async_wait([&sock](beast::error_code ec) {
        if (!ec) sock.cancel();
      });
      auto [ec] = co_await sock.async_wait(tcp::socket::wait_write, tok);
      timer.cancel();
      if (ec) co_return false;
    }
    co_return true;
  }

  asio::awaitable<bool> copy_file(TlsStream& stream, int fd, std::uint64_t offset,
                                  std::uint64_t length) {
    std::vector<char> chunk(std::min<std::uint64_t>(length, 64 * 1024));
    while (length > 0) {
      const auto want = std::min<std::uint64_t>(length, chunk.size());
      const ssize_t n = ::pread(fd, chunk.data(), want, static_cast<off_t>(offset));
      if (n <= 0) co_return false;
      beast::get_lowest_layer(stream).expires_after(opts.write_timeout);
      auto [ec, w] = co_await asio::async_write(
          stream, asio::buffer(chunk.data(), static_cast<std::size_t>(n)), tok);
      if (ec) co_return false;
      metrics.bytes_served(w);
      offset += static_cast<std::uint64_t>(n);
      length -= static_cast<std::uint64_t>(n);
    }
    co_return true;
  }

  template <class Stream>
  asio::awaitable<void> event_stream(Stream& stream, unsigned version) {
    auto& lowest = beast::get_lowest_layer(stream);
    http::response<http::empty_body> res{http::status::ok, version};
    res.set(http::field::content_type, "text/event-stream");
    res.set(http::field::cache_control, "no-cache");
    res.chunked(false);
    res.keep_alive(false);
    http::response_serializer<http::empty_body> sr{res};
    lowest.expires_after(opts.write_timeout);
    auto [ec, n] = co_await http::async_write_header(stream, sr, tok);
    if (ec) co_return;
    asio::steady_timer wake(io);
    Subscriber sub;
    sub.wake = &wake;
    subscribers.push_back(&sub);
    sub.queue.push_back(": connected\n\n");
    while (!stopping) {
      while (!sub.queue.empty()) {
        std::string msg = std::move(sub.queue.front());
        sub.queue.pop_front();
        lowest.expires_after(opts.write_timeout);
        auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(msg), tok);
        if (wec) {
          subscribers.remove(&sub);
          co_return;
        }
      }
      wake.expires_after(15s);
      auto [tec] = co_await wake.async_wait(tok);
      if (!tec) sub.queue.push_back(": keep-alive\n\n");
    }
    subscribers.remove(&sub);
  }

  asio::awaitable<std::optional<Response>> wait_long_poll(LongPoll& lp) {
    const auto deadline = Clock::now() + lp.timeout;
    asio::steady_timer timer(io);
    auto& set = waiters[lp.key];
    set.insert(&timer);
    std::optional<Response> out;
    while (!out) {
      if (stopping || Clock::now() >= deadline) {
        out = lp.poll(true);
        if (!out) out = error_response(503, "shutting_down", "server is shutting down; ask again");
        break;
      }
      timer.expires_at(deadline);
      co_await timer.async_wait(tok);  // cancelled by notify() or expired
      out = lp.poll(false);
    }
    waiters[lp.key].erase(&timer);
    if (waiters[lp.key].empty()) waiters.erase(lp.key);
    co_return out;
  }

  // ---- requests

  // Streams a request body into a temp file (uploads are never held in memory).
  template <class Stream>
  asio::awaitable<std::optional<Response>> read_upload(Stream& stream, beast::flat_buffer& buf,
                                                       http::request_parser<http::empty_body>& hp,
                                                       Request& req) {
    http::request_parser<http::buffer_body> bp{std::move(hp)};
    bp.body_limit(opts.max_upload_bytes);
    std::error_code fec;
    std::filesystem::create_directories(opts.upload_dir, fec);
    const auto path = opts.upload_dir / unique_tmp_name("upload");
    auto fd = open_file(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (!fd) {
      Response r = error_response(500, "io", "cannot spool the upload (the server's log says why)");
      r.log_detail = fd.error().message;
      co_return r;
    }
    req.body_file = path.string();
    std::vector<char> chunk(1 << 20);
    while (!bp.is_done()) {
      bp.get().body().data = chunk.data();
      bp.get().body().size = chunk.size();
      beast::get_lowest_layer(stream).expires_after(opts.read_timeout);
      auto [ec, n] = co_await http::async_read(stream, buf, bp, tok);
      if (ec == http::error::need_buffer) ec = {};
      if (ec) {
        ::unlink(path.c_str());
        if (ec == http::error::body_limit)
          co_return error_response(413, "too_large", "upload larger than the limit");
        co_return connection_gone();
      }
      const std::size_t got = chunk.size() - bp.get().body().size;
      if (auto w = write_all(fd->get(), {reinterpret_cast<const std::byte*>(chunk.data()), got},
                             path.string());
          !w) {
        ::unlink(path.c_str());
        co_return error_response(507, "no_space", w.error().message);
      }
    }
    co_return std::nullopt;
  }

  // Reads the next request's header; false when the connection is done (closed, timed out,
  // or a malformed header that was answered).
  template <class Stream>
  asio::awaitable<bool> read_header(Stream& stream, beast::flat_buffer& buf,
                                    http::request_parser<http::empty_body>& hp) {
    hp.header_limit(static_cast<std::uint32_t>(opts.max_header_bytes));
    hp.body_limit(opts.max_upload_bytes);  // the real limit is the admission's, below
    beast::get_lowest_layer(stream).expires_after(opts.idle_timeout);
    auto [ec, n] = co_await http::async_read_header(stream, buf, hp, tok);
    if (!ec) co_return true;
    if (ec == http::error::header_limit) {
      Response r = error_response(
          431, "header_too_large",
          "request header larger than " + std::to_string(opts.max_header_bytes) + " bytes");
      co_await write_response(stream, r, 11, false, false);
    } else if (ec != http::error::end_of_stream && ec != beast::error::timeout &&
               ec != asio::error::operation_aborted && ec != asio::error::connection_reset &&
               ec != asio::error::eof && ec != asio::error::bad_descriptor) {
      Response r = error_response(400, "bad_request", "malformed HTTP request: " + ec.message());
      co_await write_response(stream, r, 11, false, false);
    }
    co_return false;
  }

  // "100 Continue" for a client that waits for it before sending the body (curl does for large
  // uploads), sent once the request has been admitted.
  template <class Stream>
  asio::awaitable<void> send_continue(Stream& stream, const Request& req, unsigned version) {
    if (lower(req.header("expect")) != "100-continue" || version < 11) co_return;
    http::response<http::empty_body> cont{http::status::continue_, version};
    beast::get_lowest_layer(stream).expires_after(opts.write_timeout);
    co_await http::async_write(stream, cont, tok);
  }

  // Admits the request from its header, then reads its body as admitted: spooled to a file
  // (uploads) or into memory up to the admitted limit. An answer when the request is settled
  // without the handler (`drain`: its body is unread); status 0 in it: the connection is gone.
  template <class Stream>
  asio::awaitable<std::optional<Response>> admit_and_read(
      Stream& stream, beast::flat_buffer& buf, http::request_parser<http::empty_body>& hp,
      Request& req, std::string& label, bool& keep_alive, bool& drain) {
    HeaderVerdict a =
        opts.admit ? opts.admit(req) : HeaderVerdict{std::nullopt, "", opts.max_body_bytes};
    const bool has_body = !hp.is_done();
    const auto refuse = [&](Response r) {
      if (has_body) {
        keep_alive = false;
        drain = true;
      }
      return std::optional<Response>(std::move(r));
    };
    if (a.answer) {
      if (!a.label.empty()) label = a.label;
      co_return refuse(std::move(*a.answer));
    }
    const auto too_large = [&] {
      return error_response(
          413, "too_large",
          "request body larger than " + std::to_string(a.max_body) + " bytes for this endpoint");
    };
    if (!a.spool && hp.content_length() && *hp.content_length() > a.max_body)
      co_return refuse(too_large());
    if (!has_body) co_return std::nullopt;
    co_await send_continue(stream, req, hp.get().version());
    if (a.spool) co_return co_await read_upload(stream, buf, hp, req);
    http::request_parser<http::string_body> sp{std::move(hp)};
    sp.body_limit(a.max_body);
    beast::get_lowest_layer(stream).expires_after(opts.read_timeout);
    auto [bec, bn] = co_await http::async_read(stream, buf, sp, tok);
    if (bec == http::error::body_limit) co_return refuse(too_large());
    if (bec) co_return connection_gone();
    req.body = std::move(sp.get().body());
    co_return std::nullopt;
  }

  // After an answer sent without reading the body: the client may still be sending it, and
  // closing with unread data would reset the connection and lose the answer on its way. Say we
  // are done, then read and drop what comes, for a little while.
  template <class Stream>
  asio::awaitable<void> linger(Stream& stream) {
    auto& lowest = beast::get_lowest_layer(stream);
    beast::error_code ec;
    if constexpr (!kIsTls<Stream>) lowest.socket().shutdown(tcp::socket::shutdown_send, ec);
    std::array<char, 16384> sink{};
    const auto until = Clock::now() + 2s;
    for (std::size_t dropped = 0; dropped < (1u << 20) && Clock::now() < until;) {
      lowest.expires_at(until);
      auto [rec, n] = co_await lowest.async_read_some(asio::buffer(sink), tok);
      if (rec) break;
      dropped += n;
    }
  }

  Response dispatch(Request& req, std::string& route) {
    try {
      return handler(req, route);
    } catch (const std::exception& e) {
      Response r = error_response(500, "internal", "internal error (the server's log says why)");
      r.log_detail = "internal error in " + req.method + " " + req.path + ": " + e.what();
      return r;
    }
  }

  // The request line and header as a Request; false for a path that does not decode.
  static bool make_request(const http::request_parser<http::empty_body>& hp,
                           const std::string& peer, bool secure, Request& req) {
    const auto& h = hp.get();
    req.method = h.method() == http::verb::head ? "GET" : std::string(h.method_string());
    const std::string_view target = h.target();
    const auto qpos = target.find('?');
    auto path = url_decode(target.substr(0, qpos), false);
    req.peer = peer;
    req.tls = secure;
    for (const auto& f : h) req.headers[lower(f.name_string())] = std::string(f.value());
    if (!path || path->empty() || path->front() != '/') return false;
    req.path = *path;
    if (qpos != std::string_view::npos) req.query = parse_query(target.substr(qpos + 1));
    return true;
  }

  // One request, read to answered; false when the connection is done.
  template <class Stream>
  asio::awaitable<bool> serve_one(Stream& stream, beast::flat_buffer& buf, std::uint64_t id,
                                  const std::string& peer) {
    http::request_parser<http::empty_body> hp;
    if (!co_await read_header(stream, buf, hp)) co_return false;
    conns[id].idle = false;
    const auto start = Clock::now();
    const unsigned version = hp.get().version();
    bool keep_alive = hp.get().keep_alive();
    const bool head = hp.get().method() == http::verb::head;
    bool drain = false;
    std::string route = "other";
    Request req;
    Response resp;
    if (!make_request(hp, peer, kIsTls<Stream>, req)) {
      resp = error_response(400, "bad_request", "malformed request path");
      keep_alive = false;
      drain = !hp.is_done();
    } else {
      auto early = co_await admit_and_read(stream, buf, hp, req, route, keep_alive, drain);
      if (early && early->status == 0) co_return false;
      resp = early ? std::move(*early) : dispatch(req, route);
      if (!req.body_file.empty()) ::unlink(req.body_file.c_str());
    }
    if (!resp.log_detail.empty()) log("HTTP " + peer + ": " + resp.log_detail);
    if (resp.long_poll) {
      LongPoll lp = std::move(*resp.long_poll);
      auto r = co_await wait_long_poll(lp);
      resp = std::move(*r);
    }
    if (resp.event_stream) {
      metrics.request(route, 200, std::chrono::duration<double>(Clock::now() - start).count());
      co_await event_stream(stream, version);
      co_return false;
    }
    if (stopping) keep_alive = false;
    const int status = resp.status;
    const bool ok = co_await write_response(stream, resp, version, keep_alive, head);
    metrics.request(route, status, std::chrono::duration<double>(Clock::now() - start).count());
    if (ok && drain) co_await linger(stream);
    co_return ok&& keep_alive;
  }

  template <class Stream>
  asio::awaitable<bool> handshake(Stream& stream) {
    if constexpr (kIsTls<Stream>) {
      beast::get_lowest_layer(stream).expires_after(opts.handshake_timeout);
      auto [ec] = co_await stream.async_handshake(ssl::stream_base::server, tok);
      co_return !ec;
    } else {
      co_return true;
    }
  }

  template <class Stream>
  asio::awaitable<void> session(Stream stream, std::string peer) {
    auto self = shared_from_this();
    auto& lowest = beast::get_lowest_layer(stream);
    const std::uint64_t id = next_id++;
    conns[id] = Conn{&lowest, true, Clock::now()};
    metrics.connection_opened();
    beast::flat_buffer buf;
    if (co_await handshake(stream)) {
      for (;;) {
        auto& c = conns[id];
        if (!c.stream->socket().is_open()) break;  // closed to make room
        c.idle = true;
        c.idle_since = Clock::now();
        if (stopping) break;
        if (!co_await serve_one(stream, buf, id, peer)) break;
      }
    }
    beast::error_code ec;
    lowest.socket().shutdown(tcp::socket::shutdown_send, ec);
    conns.erase(id);
    limits.release(peer);
    metrics.connection_closed();
    check_drained();
  }
};

HttpServer::HttpServer(asio::io_context& io, HttpOptions opts, Handler handler, Metrics& metrics)
    : impl_(std::make_shared<Impl>(io, std::move(opts), std::move(handler), metrics)) {}

HttpServer::~HttpServer() = default;

Result<void> HttpServer::start() {
  // sendfile(2) takes no MSG_NOSIGNAL: a client that resets its connection mid-chunk (a laptop
  // losing power, a cable pulled) would raise SIGPIPE and kill the whole server. EPIPE is
  // handled as an error on that one connection instead.
  ::signal(SIGPIPE, SIG_IGN);
  auto& i = *impl_;
  REVIVE_TRY(listen_on(i.acceptor, i.opts.host, i.opts.port));
  if (!i.opts.tls_cert_file.empty()) {
    REVIVE_TRY(i.load_tls());
    REVIVE_TRY(listen_on(i.tls_acceptor, i.opts.tls_host, i.opts.tls_port));
    spawn(i.io, i.accept_loop(i.tls_acceptor, true), "HTTPS accept loop");
  }
  spawn(i.io, i.accept_loop(i.acceptor, false), "HTTP accept loop");
  return {};
}

std::uint16_t HttpServer::port() const {
  beast::error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

std::uint16_t HttpServer::tls_port() const {
  beast::error_code ec;
  return impl_->tls_acceptor.is_open() ? impl_->tls_acceptor.local_endpoint(ec).port() : 0;
}

void HttpServer::notify(const std::string& key) {
  auto it = impl_->waiters.find(key);
  if (it == impl_->waiters.end()) return;
  for (auto* t : it->second) t->cancel();
}

bool HttpServer::has_subscribers() const { return !impl_->subscribers.empty(); }

void HttpServer::publish(const std::string& event, const std::string& data) {
  const std::string msg = sse_message(event, data);
  for (auto* s : impl_->subscribers) {
    if (s->queue.size() < 1000) s->queue.push_back(msg);  // a stuck dashboard must not eat memory
    s->wake->cancel();
  }
}

void HttpServer::shutdown(std::chrono::seconds grace, std::function<void()> done) {
  auto& i = *impl_;
  i.stopping = true;
  beast::error_code ec;
  i.acceptor.close(ec);
  i.tls_acceptor.close(ec);
  for (auto& [key, set] : i.waiters) {
    for (auto* t : set) t->cancel();
  }
  for (auto* s : i.subscribers) s->wake->cancel();
  for (auto& [id, c] : i.conns) {
    if (c.idle) c.stream->socket().cancel(ec);
  }
  i.on_drained = std::move(done);
  i.grace_timer = std::make_unique<asio::steady_timer>(i.io, grace);
  i.grace_timer->async_wait([impl = impl_](beast::error_code e) {
    if (e) return;
    for (auto& [id, c] : impl->conns) {
      beast::error_code ec2;
      c.stream->socket().close(ec2);
    }
    if (impl->on_drained) {
      auto f = std::move(impl->on_drained);
      impl->on_drained = nullptr;
      f();
    }
  });
  i.check_drained();
}

}  // namespace revive::server
