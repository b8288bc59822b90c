#include "http/http_server.hpp"

#include <fcntl.h>
#include <sys/sendfile.h>

#include <unistd.h>
#include <csignal>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cstdio>
#include <deque>
#include <list>
#include <map>
#include <set>

#include "async.hpp"
#include "revive/file_util.hpp"

namespace revive::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {
constexpr auto tok = asio::as_tuple(asio::use_awaitable);
using Clock = std::chrono::steady_clock;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}
}  // namespace

struct HttpServer::Impl : std::enable_shared_from_this<Impl> {
  asio::io_context& io;
  HttpOptions opts;
  Handler handler;
  Metrics& metrics;
  tcp::acceptor acceptor;
  bool stopping = false;
  std::uint64_t next_id = 0;

  struct Conn {
    beast::tcp_stream* stream = nullptr;
    bool idle = true;
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
      : io(i), opts(std::move(o)), handler(std::move(h)), metrics(m), acceptor(i) {}

  asio::awaitable<void> accept_loop() {
    auto self = shared_from_this();
    while (!stopping) {
      auto [ec, sock] = co_await acceptor.async_accept(tok);
      if (ec) {
        if (stopping || ec == asio::error::operation_aborted) break;
        continue;  // EMFILE and friends: keep serving the connections we have
      }
      sock.set_option(tcp::no_delay(true));
      spawn(io, session(beast::tcp_stream(std::move(sock))), "HTTP session");
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

  asio::awaitable<bool> write_response(beast::tcp_stream& stream, Response& r, unsigned version,
                                       bool keep_alive, bool head) {
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
      stream.expires_after(opts.write_timeout);
      auto [ec, n] = co_await http::async_write_header(stream, sr, tok);
      UniqueFd fd(r.file->fd);
      if (ec) co_return false;
      if (head) co_return true;
      co_return co_await send_file(stream, fd.get(), r.file->offset, r.file->length);
    }
    stream.expires_after(opts.write_timeout);
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

  // sendfile(2) straight from the page cache to the socket; a timer cuts a stalled client.
  asio::awaitable<bool> send_file(beast::tcp_stream& stream, int fd, std::uint64_t offset,
                                  std::uint64_t length) {
    auto& sock = stream.socket();
    sock.native_non_blocking(true);
    off_t off = static_cast<off_t>(offset);
    std::uint64_t left = length;
    metrics.transfer_started();
    asio::steady_timer timer(io);
    bool ok = true;
    while (left > 0) {
      const ssize_t n =
          ::sendfile(sock.native_handle(), fd, &off, std::min<std::uint64_t>(left, 1u << 30));
      if (n > 0) {
        left -= static_cast<std::uint64_t>(n);
        metrics.bytes_served(static_cast<std::uint64_t>(n));
        continue;
      }
      if (n == 0) {  // file shorter than announced: the connection cannot be saved
        ok = false;
        break;
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN) {
        ok = false;
        break;
      }
      timer.expires_after(opts.write_timeout);
      timer.async_wait([&sock](beast::error_code ec) {
        if (!ec) sock.cancel();
      });
      auto [ec] = co_await sock.async_wait(tcp::socket::wait_write, tok);
      timer.cancel();
      if (ec) {
        ok = false;
        break;
      }
    }
    metrics.transfer_finished();
    co_return ok;
  }

  asio::awaitable<void> event_stream(beast::tcp_stream& stream, unsigned version) {
    http::response<http::empty_body> res{http::status::ok, version};
    res.set(http::field::content_type, "text/event-stream");
    res.set(http::field::cache_control, "no-cache");
    res.chunked(false);
    res.keep_alive(false);
    http::response_serializer<http::empty_body> sr{res};
    stream.expires_after(opts.write_timeout);
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
        stream.expires_after(opts.write_timeout);
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

  // Streams a request body into a temp file (uploads are never held in memory).
  asio::awaitable<std::optional<Response>> read_upload(beast::tcp_stream& stream,
                                                       beast::flat_buffer& buf,
                                                       http::request_parser<http::empty_body>& hp,
                                                       Request& req) {
    http::request_parser<http::buffer_body> bp{std::move(hp)};
    bp.body_limit(opts.max_upload_bytes);
    std::error_code fec;
    std::filesystem::create_directories(opts.upload_dir, fec);
    const auto path = opts.upload_dir / unique_tmp_name("upload");
    auto fd = open_file(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (!fd) co_return error_response(500, "io", fd.error().message);
    req.body_file = path.string();
    std::vector<char> chunk(1 << 20);
    while (!bp.is_done()) {
      bp.get().body().data = chunk.data();
      bp.get().body().size = chunk.size();
      stream.expires_after(opts.read_timeout);
      auto [ec, n] = co_await http::async_read(stream, buf, bp, tok);
      if (ec == http::error::need_buffer) ec = {};
      if (ec) {
        ::unlink(path.c_str());
        if (ec == http::error::body_limit)
          co_return error_response(413, "too_large", "upload larger than the limit");
        Response gone;
        gone.status = 0;  // the connection is gone: nothing to answer
        co_return gone;
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
  asio::awaitable<bool> read_header(beast::tcp_stream& stream, beast::flat_buffer& buf,
                                    http::request_parser<http::empty_body>& hp) {
    hp.header_limit(static_cast<std::uint32_t>(opts.max_header_bytes));
    hp.body_limit(opts.max_upload_bytes);  // the real limit is applied per route below
    stream.expires_after(opts.idle_timeout);
    auto [ec, n] = co_await http::async_read_header(stream, buf, hp, tok);
    if (!ec) co_return true;
    if (ec == http::error::header_limit) {
      Response r = error_response(
          431, "header_too_large",
          "request header larger than " + std::to_string(opts.max_header_bytes) + " bytes");
      co_await write_response(stream, r, 11, false, false);
    } else if (ec != http::error::end_of_stream && ec != beast::error::timeout &&
               ec != asio::error::operation_aborted && ec != asio::error::connection_reset &&
               ec != asio::error::eof) {
      Response r = error_response(400, "bad_request", "malformed HTTP request: " + ec.message());
      co_await write_response(stream, r, 11, false, false);
    }
    co_return false;
  }

  // Reads the body as the route needs it: uploads spooled to a file (after their precheck),
  // other bodies into memory up to the limit. An answer when the request is settled without
  // the handler; status 0 in it: the connection is gone.
  asio::awaitable<std::optional<Response>> read_body(beast::tcp_stream& stream,
                                                     beast::flat_buffer& buf,
                                                     http::request_parser<http::empty_body>& hp,
                                                     Request& req, bool& keep_alive) {
    const bool upload = opts.is_upload && opts.is_upload(req);
    if (upload && opts.upload_precheck) {
      if (auto early = opts.upload_precheck(req)) {
        keep_alive = false;  // the body stays unread
        co_return early;
      }
    }
    if (upload && !hp.is_done()) co_return co_await read_upload(stream, buf, hp, req);
    const auto too_large = [this] {
      return error_response(
          413, "too_large",
          "request body larger than " + std::to_string(opts.max_body_bytes) + " bytes");
    };
    if (!upload && hp.content_length() && *hp.content_length() > opts.max_body_bytes) {
      keep_alive = false;
      co_return too_large();
    }
    if (hp.is_done()) co_return std::nullopt;
    http::request_parser<http::string_body> sp{std::move(hp)};
    sp.body_limit(opts.max_body_bytes);
    stream.expires_after(opts.read_timeout);
    auto [bec, bn] = co_await http::async_read(stream, buf, sp, tok);
    if (bec == http::error::body_limit) {
      keep_alive = false;
      co_return too_large();
    }
    if (bec) {
      Response gone;
      gone.status = 0;
      co_return gone;
    }
    req.body = std::move(sp.get().body());
    co_return std::nullopt;
  }

  Response dispatch(Request& req, std::string& route) {
    try {
      return handler(req, route);
    } catch (const std::exception& e) {
      return error_response(500, "internal", std::string("internal error: ") + e.what());
    }
  }

  // One request, read to answered; false when the connection is done.
  asio::awaitable<bool> serve_one(beast::tcp_stream& stream, beast::flat_buffer& buf,
                                  std::uint64_t id, const std::string& peer) {
    http::request_parser<http::empty_body> hp;
    if (!co_await read_header(stream, buf, hp)) co_return false;
    conns[id].idle = false;
    const auto start = Clock::now();
    auto& h = hp.get();
    Request req;
    req.method = std::string(h.method_string());
    const std::string_view target = h.target();
    const auto qpos = target.find('?');
    auto path = url_decode(target.substr(0, qpos), false);
    req.peer = peer;
    for (const auto& f : h) req.headers[lower(f.name_string())] = std::string(f.value());
    const unsigned version = h.version();
    bool keep_alive = h.keep_alive();
    const bool head = h.method() == http::verb::head;
    if (head) req.method = "GET";
    std::string route = "other";
    Response resp;
    if (!path || path->empty() || path->front() != '/') {
      resp = error_response(400, "bad_request", "malformed request path");
      keep_alive = false;
    } else {
      req.path = *path;
      if (qpos != std::string_view::npos) req.query = parse_query(target.substr(qpos + 1));
      auto early = co_await read_body(stream, buf, hp, req, keep_alive);
      if (early && early->status == 0) co_return false;
      resp = early ? std::move(*early) : dispatch(req, route);
      if (!req.body_file.empty()) ::unlink(req.body_file.c_str());
    }
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
    co_return ok&& keep_alive;
  }

  asio::awaitable<void> session(beast::tcp_stream stream) {
    auto self = shared_from_this();
    const std::uint64_t id = next_id++;
    conns[id] = Conn{&stream, true};
    metrics.connection_opened();
    beast::flat_buffer buf;
    std::string peer;
    {
      beast::error_code ec;
      auto ep = stream.socket().remote_endpoint(ec);
      if (!ec) peer = ep.address().to_string();
    }
    for (;;) {
      conns[id].idle = true;
      if (stopping) break;
      if (!co_await serve_one(stream, buf, id, peer)) break;
    }
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    conns.erase(id);
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
  beast::error_code ec;
  auto addr = asio::ip::make_address(impl_->opts.host, ec);
  if (ec)
    return make_error(Errc::invalid_input,
                      "listen address \"" + impl_->opts.host + "\" is not an IP address");
  tcp::endpoint ep(addr, impl_->opts.port);
  auto& a = impl_->acceptor;
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return make_error(Errc::io, "listen on " + impl_->opts.host + ":" +
                                    std::to_string(impl_->opts.port) + ": " + ec.message());
  }
  spawn(impl_->io, impl_->accept_loop(), "HTTP accept loop");
  return {};
}

std::uint16_t HttpServer::port() const {
  beast::error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
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
