#pragma once
// The server's async style (house rules, "Async"): coroutines whose I/O objects complete with
// as_tuple(use_awaitable) by default, so `auto [ec, n] = co_await s.async_receive(buf);` gives
// network errors as error_code values and never throws; and one way to start a coroutine,
// spawn(), which logs an exception instead of losing it or rethrowing it out of io_context::run.
//
// A coroutine that outlives the call starting it takes a shared_ptr to its owner as a (by-value)
// parameter: the frame keeps the owner alive until it returns, and `this` is never dangling.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/icmp.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <cstdio>
#include <exception>
#include <functional>
#include <memory>
#include <utility>

namespace revive::server {

namespace asio = boost::asio;

/// The completion token: `co_await op(..., kAwaitTuple)` returns a tuple led by an error_code.
/// Free functions (Beast's http::async_write, asio::async_read) take it explicitly.
using AwaitTuple = asio::as_tuple_t<asio::use_awaitable_t<>>;
inline constexpr AwaitTuple kAwaitTuple{};

/// I/O objects with kAwaitTuple as their default token.
using SteadyTimer = AwaitTuple::as_default_on_t<asio::steady_timer>;
using UdpSocket = AwaitTuple::as_default_on_t<asio::ip::udp::socket>;
using IcmpSocket = AwaitTuple::as_default_on_t<asio::ip::icmp::socket>;
using TcpSocket = AwaitTuple::as_default_on_t<asio::ip::tcp::socket>;
using TcpAcceptor = AwaitTuple::as_default_on_t<asio::ip::tcp::acceptor>;

/// Starts a coroutine on `where` (an io_context or executor). An exception escaping it is
/// logged with `what` (a string literal), never lost or rethrown into run().
template <class Where, class Awaitable>
void spawn(Where&& where, Awaitable&& a, const char* what) {
  asio::co_spawn(std::forward<Where>(where), std::forward<Awaitable>(a),
                 [what](const std::exception_ptr& e) {
                   if (!e) return;
                   try {
                     std::rethrow_exception(e);
                   } catch (const std::exception& ex) {
                     std::fprintf(stderr, "revive-server: %s failed: %s\n", what, ex.what());
                   } catch (...) {
                     std::fprintf(stderr, "revive-server: %s failed: unknown exception\n", what);
                   }
                 });
}

/// How handed-over work gives its result back: once, from any thread, now or later (a second
/// call does nothing).
template <class R>
using HandBack = std::function<void(R)>;

/// Runs `work(back)` on the thread that runs `where`, and suspends the calling coroutine until
/// work's `back(r)` is called; the coroutine then resumes on its own executor with r (or with
/// the exception work threw, if it threw before giving a result). Two posts per hand-over and
/// no coroutine of its own: what lets the HTTP server's thread give each request to the
/// domain's thread and go on (http_server.hpp). R must be default-constructible.
template <class R, class Work>
asio::awaitable<R> hand_over(asio::io_context& where, Work work) {
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(std::exception_ptr, R)>(
      [&where](auto handler, Work w) {
        using Resumer = decltype(handler);
        struct Waiting {
          explicit Waiting(Resumer h) : handler(std::move(h)) {}
          Resumer handler;
          std::atomic<bool> resumed{false};
        };
        auto waiting = std::make_shared<Waiting>(std::move(handler));
        auto resume = [waiting](std::exception_ptr e, R r) {
          if (waiting->resumed.exchange(true)) return;
          auto home = asio::get_associated_executor(waiting->handler);
          asio::post(home, [waiting, e, r = std::move(r)]() mutable {
            std::move(waiting->handler)(e, std::move(r));
          });
        };
        asio::post(where, [w = std::move(w), resume]() mutable {
          try {
            w(HandBack<R>([resume](R r) { resume(nullptr, std::move(r)); }));
          } catch (...) {
            resume(std::current_exception(), R{});
          }
        });
      },
      asio::use_awaitable, std::move(work));
}

}  // namespace revive::server
