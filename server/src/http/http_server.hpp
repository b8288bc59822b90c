#pragma once
// The HTTP/1.1 server (Boost.Beast, C++20 coroutines, one io_context thread for the network,
// and the domain's thread for everything that reads or writes the server's state). Two listeners
// serving the same handler: plain HTTP (agents, network-booting firmware, the server's own
// tools on loopback) and HTTPS (operators and the dashboard; docs/SECURITY.md). Keep-alive,
// timeouts on every read and write, connection caps per client address and overall (with
// back-off when descriptors run out), every request admitted from its header before its body
// is read (auth, rate limits, the route's body limit), uploads streamed to their handler,
// chunk files sent with sendfile(2), long-polls, Server-Sent Events on named channels (capped
// per channel and per address, each client's backlog bounded), and a graceful shutdown.
// With `HttpOptions::domain` set, admission, handlers, long-polls' polls and streams' checks run
// on that io_context's thread, handed each request with one post and handing the answer back
// with another, so one core reads, parses and writes while the other answers (bench/README.md,
// "1,000 laptops at once"); without it they run on the server's own thread.
// Beast is confined to http_server.cpp and the request_reader, response_writer and
// tls_listener files beside it (beast_common.hpp); this header does not include it.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "http/connection_limits.hpp"
#include "http/http_types.hpp"
#include "http/metrics.hpp"
#include "revive/error.hpp"

namespace boost::asio {
class io_context;
}

namespace revive::server {

struct HttpOptions {
  std::string host = "0.0.0.0";
  std::uint16_t port = 8080;
  /// The HTTPS listener; off when `tls_cert_file` is empty.
  std::string tls_host = "0.0.0.0";
  std::uint16_t tls_port = 8443;
  std::filesystem::path tls_cert_file, tls_key_file;
  std::size_t max_header_bytes = 16UL * 1024;
  std::size_t max_body_bytes = 1 << 20;         ///< the body limit when there is no `admit`
  std::uint64_t max_upload_bytes = 1ull << 40;  ///< an upload's body (HeaderVerdict::stream)
  std::chrono::seconds read_timeout{30};
  std::chrono::seconds idle_timeout{75};
  std::chrono::seconds write_timeout{60};
  std::chrono::seconds handshake_timeout{10};
  ConnectionCaps connections;
  /// Decides each request from its header (the route table's access rules, rate limits, body
  /// limits); nothing set: every request is admitted with `max_body_bytes`.
  std::function<HeaderVerdict(const Request&)> admit;
  std::function<void(const std::string&)> log;
  /// Where admit, the handler, LongPoll::poll, EventStream::still_allowed and `durable` are
  /// called: the thread that runs this io_context (it must outlive the server). Null: the
  /// server's own.
  boost::asio::io_context* domain = nullptr;
  /// Group commit: no answer leaves before every write made up to it is durable. `mark` counts
  /// the writes so far; `wait(mark, done)` is true when they are durable, else calls
  /// done(ok) later from any thread. Unset: writes are durable when they return.
  struct DurableWrites {
    std::function<std::uint64_t()> mark;
    std::function<bool(std::uint64_t, std::function<void(bool ok)>)> wait;
  } durable;
};

/// Handles one request; sets `route` to a low-cardinality label for metrics.
using Handler = std::function<Response(Request& req, std::string& route)>;

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, HttpOptions opts, Handler handler, Metrics& metrics);
  ~HttpServer();

  /// Binds both listeners and starts accepting; error when an address cannot be bound or the
  /// TLS certificate or key cannot be loaded.
  Result<void> start();
  /// The bound ports (useful with port 0); tls_port() is 0 when HTTPS is off.
  std::uint16_t port() const;
  std::uint16_t tls_port() const;
  // The calls below may come from any thread: they are carried out on the server's own.

  /// Wakes long-polls waiting on `key`.
  void notify(const std::string& key);
  /// How many event streams are open on `channel` (a publisher may skip building its message
  /// when none is).
  std::size_t subscribers(const std::string& channel) const;
  /// Sends an SSE event to every stream open on `channel`.
  void publish(const std::string& channel, const std::string& event, const std::string& data);
  /// Wakes every stream to ask its `still_allowed` again (after a token was revoked).
  void recheck_streams();
  /// Stops accepting, closes idle connections, answers waiting long-polls, ends event
  /// streams; in-flight responses finish. `done` runs (on the server's thread) when no
  /// connection is left or after `grace`, whichever comes first.
  void shutdown(std::chrono::seconds grace, std::function<void()> done);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace revive::server
