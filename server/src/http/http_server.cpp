#include "http/http_server.hpp"

#include <poll.h>

#include <atomic>
#include <csignal>
#include <list>
#include <map>
#include <mutex>
#include <set>

#include "async.hpp"
#include "http/beast_common.hpp"
#include "http/event_queue.hpp"
#include "http/request_reader.hpp"
#include "http/response_writer.hpp"
#include "http/tls_listener.hpp"

namespace revive::server {

using namespace beast_io;
using namespace std::chrono_literals;

namespace {

// How many of something each key has, for other threads to read (under a mutex).
class KeyCounts {
 public:
  void add(const std::string& key) {
    const std::lock_guard lock(mutex_);
    ++counts_[key];
  }
  void remove(const std::string& key) {
    const std::lock_guard lock(mutex_);
    auto it = counts_.find(key);
    if (it != counts_.end() && --it->second == 0) counts_.erase(it);
  }
  std::size_t count(const std::string& key) const {
    const std::lock_guard lock(mutex_);
    auto it = counts_.find(key);
    return it == counts_.end() ? 0 : it->second;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::size_t> counts_;
};

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
  // A write mark the storage said is durable: raised from the syncing thread's answer.
  std::atomic<std::uint64_t> known_durable{0};
  bool sync_failure_logged = false;
  Clock::time_point exhausted_logged{};

  struct Conn {
    beast::tcp_stream* stream = nullptr;  // the lowest layer (TCP) of either kind of session
    bool idle = true;                     // waiting for a request (or a TLS handshake)
    Clock::time_point idle_since;
  };
  std::map<std::uint64_t, Conn> conns;
  std::map<std::string, std::set<asio::steady_timer*>> waiters;  // long-poll key -> timers
  // The keys a long-poll waits on (or is about to), by count: notify() wakes the network's
  // thread only for these (a post to an idle thread is a system call; every committed change
  // notifies its laptop's key). Counted on the domain's thread when the handler gives the
  // long-poll, before its answer goes back, so a change made after it always finds it.
  KeyCounts polled;
  struct Subscriber {
    std::string channel;
    std::string peer;
    EventQueue queue;
    asio::steady_timer* wake = nullptr;
  };
  std::list<Subscriber*> subscribers;
  KeyCounts streams;  // open streams by channel: what subscribers() tells other threads
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

  // Waits until the listener has connections, then takes up to kAcceptBatch of them at once.
  // Accepting one per wake-up let a burst of laptops wait in the kernel's backlog: each
  // accept's completion queued behind every request already in flight, so at a 1,000-laptop
  // start the last enrolments waited out the others' whole start (bench/README.md).
  static constexpr int kAcceptBatch = 256;

  static bool backlog_waiting(tcp::acceptor& a) {
    pollfd p{a.native_handle(), POLLIN, 0};
    return ::poll(&p, 1, 0) == 1;
  }

  asio::awaitable<void> accept_loop(tcp::acceptor& a, bool secure) {
    auto self = shared_from_this();
    asio::steady_timer pause(io);
    auto backoff = 10ms;
    beast::error_code ec;
    a.non_blocking(true, ec);
    // A blocking listener would stall the whole server on an empty backlog: take one at a time.
    const int batch = ec ? 1 : kAcceptBatch;
    if (ec) log("HTTP: cannot make the listener non-blocking: " + ec.message());
    while (!stopping) {
      auto [wec] = co_await a.async_wait(tcp::acceptor::wait_read, tok);
      if (wec) {
        if (!stopping && wec != asio::error::operation_aborted)
          log("HTTP: the listener failed (" + wec.message() + "): no new connections");
        break;
      }
      for (int taken = 0; taken < batch && !stopping; ++taken) {
        tcp::socket sock(io);
        a.accept(sock, ec);
        if (!ec) {
          backoff = 10ms;
          start_session(std::move(sock), secure);
          continue;
        }
        if (ec == asio::error::would_block || ec == asio::error::try_again) break;
        if (!out_of_descriptors(ec)) continue;  // a client that gave up in the backlog
        // accept(2) wants a descriptor before it looks at the backlog: with none left it fails
        // even when no one waits, and no idle connection should be closed for no one.
        if (!backlog_waiting(a)) break;
        metrics.connection_refused("descriptors");
        evict_idle();
        note_exhausted(ec);
        pause.expires_after(backoff);
        co_await pause.async_wait(tok);
        backoff = std::min<std::chrono::milliseconds>(backoff * 2, 1000ms);
        break;
      }
    }
  }

  void start_session(tcp::socket sock, bool secure) {
    beast::error_code ec;
    const auto ep = sock.remote_endpoint(ec);
    if (ec) return;  // already gone
    std::string peer = ep.address().to_string();
    const auto here = sock.local_endpoint(ec);
    // The server's own tools may reach it on the address it listens on (not only loopback).
    const bool local = is_local_peer(peer) || (!ec && here.address() == ep.address());
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
      spawn(io,
            session(TlsStream(beast::tcp_stream(std::move(sock)), *tls), std::move(peer), local),
            "HTTPS session");
    } else {
      spawn(io, session(PlainStream(std::move(sock)), std::move(peer), local), "HTTP session");
    }
  }

  void shut_down(std::chrono::seconds grace, std::function<void()> done);

  void check_drained() {
    if (stopping && conns.empty() && on_drained) {
      auto f = std::move(on_drained);
      on_drained = nullptr;
      if (grace_timer) grace_timer->cancel();
      f();
    }
  }

  // ---- the domain's thread: admission, handlers, long-polls' polls, streams' checks

  // An answer, and whether every write made up to it is durable.
  struct Settled {
    Response resp;
    bool durable = true;
  };

  asio::io_context& domain() const { return opts.domain ? *opts.domain : io; }

  // Runs work(back) on the domain's thread; the session waits here for back's value.
  template <class R, class Work>
  asio::awaitable<R> on_domain(Work work) {
    return hand_over<R>(domain(), std::move(work));
  }

  // Group commit, on the domain's thread: gives `resp` back once every write made up to it is
  // durable; one that wrote nothing new since the last group was synced passes straight
  // through. The answer may have read what others wrote, so it waits for theirs too. Before
  // waiting it lets the requests ready now run first: their writes join the same batch (one
  // commit for all, storage/sqlite). Long-polls and streams settle when they answer.
  void settle(Response resp, const HandBack<Settled>& back) {
    if (resp.long_poll) polled.add(resp.long_poll->key);
    if (!opts.durable.mark || resp.long_poll || resp.event_stream)
      return back(Settled{std::move(resp)});
    const std::uint64_t mark = opts.durable.mark();
    if (mark <= known_durable.load()) return back(Settled{std::move(resp)});
    auto held = std::make_shared<Settled>(Settled{std::move(resp)});
    asio::post(domain(), [self = shared_from_this(), mark, held, back] {
      auto told = [self, mark, held, back](bool ok) {
        if (ok) self->note_durable(mark);
        held->durable = ok;
        back(std::move(*held));
      };
      if (mark <= self->known_durable.load() || self->opts.durable.wait(mark, told)) told(true);
    });
  }

  void note_durable(std::uint64_t mark) {
    std::uint64_t known = known_durable.load();
    while (known < mark && !known_durable.compare_exchange_weak(known, mark)) {
    }
  }

  HeaderVerdict admit(const Request& req) const {
    return opts.admit ? opts.admit(req) : HeaderVerdict{std::nullopt, "", opts.max_body_bytes};
  }

  // ---- answers that outlive one write: event streams and long-polls

  WriteContext write_context() const { return {opts.write_timeout, metrics}; }

  // Whether another stream may open on the channel: the caps hold per address and overall,
  // so a host with a kiosk link cannot take every place (docs/SECURITY.md).
  std::optional<Response> refuse_stream(const EventStream& es, const std::string& peer) const {
    std::size_t on_channel = 0, from_peer = 0;
    for (const auto* s : subscribers) {
      if (s->channel != es.channel) continue;
      ++on_channel;
      if (s->peer == peer) ++from_peer;
    }
    if (on_channel < es.max_streams && from_peer < es.max_per_address) return std::nullopt;
    Response r = error_response(
        503, "too_many_streams",
        on_channel >= es.max_streams
            ? "every place for a live " + es.channel + " stream is taken: try again later"
            : "this address has " + std::to_string(from_peer) + " live " + es.channel +
                  " streams open already");
    r.headers.emplace_back("Retry-After", "30");
    return r;
  }

  // A stream holds no thread: it sleeps on its timer until something is published on its
  // channel or the keep-alive is due, then writes what is queued in one write.
  template <class Stream>
  asio::awaitable<void> event_stream(Stream& stream, unsigned version, EventStream es,
                                     std::string peer) {
    auto& lowest = beast::get_lowest_layer(stream);
    http::response<http::empty_body> res{http::status::ok, version};
    res.set(http::field::content_type, "text/event-stream");
    res.set(http::field::cache_control, "no-store");
    res.set("X-Accel-Buffering", "no");
    res.chunked(false);
    res.keep_alive(false);
    http::response_serializer<http::empty_body> sr{res};
    lowest.expires_after(opts.write_timeout);
    auto [ec, n] = co_await http::async_write_header(stream, sr, tok);
    if (ec) co_return;
    asio::steady_timer wake(io);
    // A copy, not a move: clang-tidy's use-after-move check misreads the co_await above.
    Subscriber sub{es.channel, peer, EventQueue(es.max_queued_bytes), &wake};
    subscribers.push_back(&sub);
    streams.add(sub.channel);
    sub.queue.push(es.first.empty() ? ": connected\n\n" : es.first);
    while (!stopping && !sub.queue.overflowed()) {
      if (es.still_allowed) {
        const bool allowed =
            co_await on_domain<bool>([&](const HandBack<bool>& back) { back(es.still_allowed()); });
        if (!allowed) break;
      }
      if (!sub.queue.empty()) {
        const std::string out = sub.queue.take();
        lowest.expires_after(opts.write_timeout);
        auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(out), tok);
        if (wec) break;
        continue;
      }
      wake.expires_after(15s);
      auto [tec] = co_await wake.async_wait(tok);
      if (!tec) sub.queue.push(": keep-alive\n\n");
    }
    if (sub.queue.overflowed()) metrics.connection_refused("stream_behind");
    subscribers.remove(&sub);
    streams.remove(sub.channel);
  }

  // A wake-up that notify() sends while the poll runs on the domain's thread is not lost: the
  // change it announces was made there before the poll ran (the poll sees it) or after (its
  // notify is posted here after the poll's answer, and finds the timer waiting again). The
  // first wait needs no poll before it when this thread came here straight from the handler
  // that gave `lp` (a notify posted since runs after the timer is found); one that went on
  // meanwhile (a streamed upload's body) polls first (`poll_first`).
  asio::awaitable<Settled> wait_long_poll(LongPoll& lp, bool poll_first) {
    const auto deadline = Clock::now() + lp.timeout;
    asio::steady_timer timer(io);
    // Its timer is found by notify() until the wait ends, however it ends (a poll may throw).
    struct Waiting {
      Impl& server;
      const std::string& key;
      asio::steady_timer& timer;
      ~Waiting() {
        auto it = server.waiters.find(key);
        if (it != server.waiters.end() && it->second.erase(&timer) && it->second.empty())
          server.waiters.erase(it);
        server.polled.remove(key);
      }
    };
    waiters[lp.key].insert(&timer);
    const Waiting waiting{*this, lp.key, timer};
    std::optional<Settled> out;
    while (!out) {
      if (stopping || Clock::now() >= deadline) {
        out = co_await on_domain<Settled>([&](const HandBack<Settled>& back) {
          auto r = lp.poll(true);
          settle(r ? std::move(*r)
                   : error_response(503, "shutting_down", "server is shutting down; ask again"),
                 back);
        });
        break;
      }
      if (!poll_first) {
        timer.expires_at(deadline);
        co_await timer.async_wait(tok);  // cancelled by notify() or expired
      }
      poll_first = false;
      out = co_await on_domain<std::optional<Settled>>(
          [&](const HandBack<std::optional<Settled>>& back) {
            auto r = lp.poll(false);
            if (!r) return back(std::nullopt);
            settle(std::move(*r), [back](Settled a) { back(std::move(a)); });
          });
    }
    co_return std::move(*out);
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

  // ---- requests

  // Admits the request from its header and, when its body is here already (none, or taken
  // whole: `body_ready`) and in memory within the admitted limit, answers it: one hand-over to
  // the domain's thread. Otherwise answer_admitted answers it once read_admitted has read its
  // body, unless refused here (`refused`).
  asio::awaitable<std::optional<Settled>> admit_request(Request& req, bool body_ready,
                                                        HeaderVerdict& verdict, std::string& route,
                                                        bool& refused) {
    co_return co_await on_domain<std::optional<Settled>>(
        [&](const HandBack<std::optional<Settled>>& back) {
          const auto give = [back](Settled a) { back(std::move(a)); };
          verdict = admit(req);
          if (verdict.answer) {
            refused = true;
            if (!verdict.label.empty()) route = verdict.label;
            return settle(std::move(*verdict.answer), give);
          }
          if (!body_ready || verdict.stream || req.body.size() > verdict.max_body)
            return back(std::nullopt);
          settle(dispatch(req, route), give);
        });
  }

  asio::awaitable<Settled> answer_admitted(Request& req, std::string& route) {
    co_return co_await on_domain<Settled>(
        [&](const HandBack<Settled>& back) { settle(dispatch(req, route), back); });
  }

  // An upload admitted as a stream: its handler first, handed the body's pipe, then the body
  // written into the pipe as it arrives (the handler's import reading it meanwhile), then the
  // handler's answer. A handler that did not take the pipe refused the body: a client waiting
  // for "100 Continue" gets the answer instead, and the body is left unsent; from any other the
  // body is read and dropped first. The answer goes to `answer` (not returned: no second
  // Settled in serve_one's frame, which every request has); false: the connection is gone.
  template <class Stream>
  asio::awaitable<bool> answer_stream(Stream& stream, beast::flat_buffer& buf, HeaderParser& hp,
                                      Request& req, std::string& route, bool taken,
                                      bool& keep_alive, bool& drain, Settled& answer) {
    const auto unread = [&] {
      keep_alive = false;
      drain = !taken;
      return true;
    };
    auto pipe = open_body_stream(hp, req, taken, opts);
    if (auto* refused = std::get_if<Response>(&pipe)) {
      answer.resp = std::move(*refused);
      co_return unread();
    }
    answer = co_await answer_admitted(req, route);
    UniqueFd write_end = std::move(std::get<UniqueFd>(pipe));
    if (req.body_stream && req.body_stream->fd) {  // left by the handler: refused
      write_end.reset();
      if (!taken && waits_for_continue(req, hp.get().version())) co_return unread();
    }
    req.body_stream.reset();  // the read end, when the handler left it
    co_return co_await write_body_stream(stream, buf, hp, req, taken, std::move(write_end), opts);
  }

  // One request, read to answered; false when the connection is done.
  template <class Stream>
  asio::awaitable<bool> serve_one(Stream& stream, beast::flat_buffer& buf, std::uint64_t id,
                                  const std::string& peer, bool local) {
    HeaderParser hp;
    if (!co_await read_header(stream, buf, hp, opts, write_context())) co_return false;
    conns[id].idle = false;
    const auto start = Clock::now();
    const unsigned version = hp.get().version();
    bool keep_alive = hp.get().keep_alive();
    const bool head = hp.get().method() == http::verb::head;
    bool drain = false;
    std::string route = "other";
    bool body_streamed = false;  // the handler answered before the body was read
    Request req;
    Settled answer;
    req.local = local;
    if (!make_request(hp, peer, kIsTls<Stream>, req)) {
      answer.resp = error_response(400, "bad_request", "malformed request path");
      keep_alive = false;
      drain = !hp.is_done();
    } else {
      const bool has_body = !hp.is_done();
      const bool taken = take_buffered_body(hp, buf, req, opts);
      HeaderVerdict verdict;
      bool refused = false;
      auto first = co_await admit_request(req, !has_body || taken, verdict, route, refused);
      if (refused && has_body) {
        keep_alive = false;
        drain = !taken;
      }
      if (first) {
        answer = std::move(*first);
      } else if (verdict.stream) {
        if (!co_await answer_stream(stream, buf, hp, req, route, taken, keep_alive, drain, answer))
          co_return false;
        body_streamed = true;
      } else {
        auto early =
            co_await read_admitted(stream, buf, hp, req, verdict, taken, keep_alive, drain, opts);
        if (early && early->status == 0) co_return false;
        // Not a conditional expression: GCC 12 destroys a co_await's temporary in one twice.
        if (early)
          answer.resp = std::move(*early);
        else
          answer = co_await answer_admitted(req, route);
      }
    }
    Response& resp = answer.resp;
    if (!resp.log_detail.empty()) log("HTTP " + peer + ": " + resp.log_detail);
    if (resp.long_poll) {
      LongPoll lp = std::move(*resp.long_poll);
      answer = co_await wait_long_poll(lp, body_streamed);
    }
    if (resp.event_stream) {
      if (auto full = refuse_stream(*resp.event_stream, peer)) {
        resp = std::move(*full);
      } else {
        metrics.request(route, 200, std::chrono::duration<double>(Clock::now() - start).count());
        co_await event_stream(stream, version, std::move(*resp.event_stream), peer);
        co_return false;
      }
    }
    if (!answer.durable) {
      resp = error_response(503, "storage_failed",
                            "the server could not save to its disk; nothing of this request is "
                            "sure to be kept (the server's log says why)");
      if (!sync_failure_logged)
        log("the state database failed to commit or sync: from now on no answer says saved; "
            "check the disk and restart the server");
      sync_failure_logged = true;
    }
    if (stopping) keep_alive = false;
    const int status = resp.status;
    const bool ok =
        co_await write_response(stream, resp, version, keep_alive, head, write_context());
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
  asio::awaitable<void> session(Stream stream, std::string peer, bool local) {
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
        if (!co_await serve_one(stream, buf, id, peer, local)) break;
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
    auto tls = make_tls_context(i.opts.tls_cert_file, i.opts.tls_key_file);
    if (!tls) return tls.error();
    i.tls = std::move(*tls);
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
  if (impl_->polled.count(key) == 0) return;
  asio::post(impl_->io, [impl = impl_, key] {
    auto it = impl->waiters.find(key);
    if (it == impl->waiters.end()) return;
    for (auto* t : it->second) t->cancel();
  });
}

std::size_t HttpServer::subscribers(const std::string& channel) const {
  return impl_->streams.count(channel);
}

void HttpServer::publish(const std::string& channel, const std::string& event,
                         const std::string& data) {
  asio::post(impl_->io, [impl = impl_, channel, msg = sse_message(event, data)] {
    for (auto* s : impl->subscribers) {
      if (s->channel != channel) continue;
      s->queue.push(msg);  // bounded: a client too far behind is cut off and starts again
      s->wake->cancel();
    }
  });
}

void HttpServer::recheck_streams() {
  asio::post(impl_->io, [impl = impl_] {
    for (auto* s : impl->subscribers) s->wake->cancel();
  });
}

void HttpServer::shutdown(std::chrono::seconds grace, std::function<void()> done) {
  asio::post(impl_->io, [impl = impl_, grace, done = std::move(done)]() mutable {
    impl->shut_down(grace, std::move(done));
  });
}

void HttpServer::Impl::shut_down(std::chrono::seconds grace, std::function<void()> done) {
  auto& i = *this;
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
  i.grace_timer->async_wait([impl = shared_from_this()](beast::error_code e) {
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
