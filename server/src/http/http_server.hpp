#pragma once
// The HTTP/1.1 server (Boost.Beast, C++20 coroutines, one io_context thread). Keep-alive,
// timeouts on every read and write, bounded headers and bodies, large uploads streamed to a
// temp file, chunk files sent with sendfile(2), long-polls, Server-Sent Events, and a
// graceful shutdown. Beast is confined to http_server.cpp.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

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
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 1 << 20;
  std::uint64_t max_upload_bytes = 1ull << 40;
  std::chrono::seconds read_timeout{30};
  std::chrono::seconds idle_timeout{75};
  std::chrono::seconds write_timeout{60};
  std::filesystem::path upload_dir;               ///< where uploads are spooled
  std::function<bool(const Request&)> is_upload;  ///< which requests stream their body to a file
  /// Checked on an upload's header before its body is read (auth, name): an answer here is
  /// sent at once and the body is never spooled.
  std::function<std::optional<Response>(const Request&)> upload_precheck;
};

/// Handles one request; sets `route` to a low-cardinality label for metrics.
using Handler = std::function<Response(Request& req, std::string& route)>;

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, HttpOptions opts, Handler handler, Metrics& metrics);
  ~HttpServer();

  /// Binds and starts accepting; error when the address cannot be bound.
  Result<void> start();
  /// The bound port (useful with port 0).
  std::uint16_t port() const;
  /// Wakes long-polls waiting on `key`.
  void notify(const std::string& key);
  /// Whether any event stream is connected (a publisher may skip building its message).
  bool has_subscribers() const;
  /// Sends an SSE event to every connected event stream.
  void publish(const std::string& event, const std::string& data);
  /// Stops accepting, closes idle connections, answers waiting long-polls, ends event
  /// streams; in-flight responses finish. `done` runs when no connection is left or after
  /// `grace`, whichever comes first.
  void shutdown(std::chrono::seconds grace, std::function<void()> done);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace revive::server
