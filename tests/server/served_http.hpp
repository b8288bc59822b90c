#pragma once
// revive-server's HTTP server on 127.0.0.1 (a port of the kernel's choice), run on a thread of
// its own (optionally with a second thread for the domain's side, as revive-server runs it),
// and a raw client for it: what the tests of the HTTP layer share.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <cerrno>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "http/http_server.hpp"

namespace revive::test {

/// Answers every request 200 with an empty JSON object.
inline server::Response empty_ok(server::Request& /*req*/, std::string& /*route*/) {
  server::Response r;
  r.status = 200;
  r.body = "{}";
  return r;
}

class ServedHttp {
 public:
  ServedHttp() = default;
  ServedHttp(const ServedHttp&) = delete;
  ServedHttp& operator=(const ServedHttp&) = delete;
  ~ServedHttp() { stop(); }

  /// Starts serving `opts` (its host and port replaced) with `handler`; false when it could not.
  bool start(server::HttpOptions opts, server::Handler handler) {
    opts.host = "127.0.0.1";
    opts.port = 0;
    server_ =
        std::make_unique<server::HttpServer>(io_, std::move(opts), std::move(handler), metrics_);
    if (!server_->start()) return false;
    thread_ = std::thread([this] { io_.run(); });
    return true;
  }
  /// As start(), with admission, the handler, polls, stream checks and `durable` called on a
  /// second thread (HttpOptions::domain): domain() runs there.
  bool start_with_domain(server::HttpOptions opts, server::Handler handler) {
    opts.domain = &domain_;
    domain_thread_ = std::thread([this] {
      auto busy = boost::asio::make_work_guard(domain_);
      domain_.run();
    });
    return start(std::move(opts), std::move(handler));
  }
  /// Stops the io thread and the domain's (after which the metrics may be read).
  void stop() {
    if (thread_.joinable()) {
      io_.stop();
      thread_.join();
    }
    if (domain_thread_.joinable()) {
      domain_.stop();
      domain_thread_.join();
    }
  }
  std::uint16_t port() const { return server_->port(); }
  const server::Metrics& metrics() const { return metrics_; }
  server::HttpServer& server() { return *server_; }
  boost::asio::io_context& domain() { return domain_; }
  std::thread::id domain_thread() const { return domain_thread_.get_id(); }

 private:
  boost::asio::io_context io_;
  /// After io_, so destroyed first: a request handed to it and never run holds its session,
  /// whose socket belongs to io_.
  boost::asio::io_context domain_;
  std::thread domain_thread_;
  server::Metrics metrics_;
  std::unique_ptr<server::HttpServer> server_;
  std::thread thread_;
};

/// A socket connected to 127.0.0.1:port, or -1 with errno set.
inline int connect_loopback(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    const int e = errno;
    ::close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

/// Sends `request` on `fd`; the answer's status line, or "" when none came within `wait`.
inline std::string status_line(int fd, const std::string& request, std::chrono::milliseconds wait) {
  if (::write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size()))
    return "";
  pollfd p{fd, POLLIN, 0};
  char buf[512];
  if (::poll(&p, 1, static_cast<int>(wait.count())) != 1) return "";
  const auto n = ::read(fd, buf, sizeof buf);
  if (n <= 0) return "";
  const std::string got(buf, static_cast<std::size_t>(n));
  return got.substr(0, got.find("\r\n"));
}

/// Reads on `fd` until `want` appears in what came, the server closes, or `wait` passes.
inline std::string read_until(int fd, const std::string& want, std::chrono::milliseconds wait) {
  std::string got;
  const auto until = std::chrono::steady_clock::now() + wait;
  while (got.find(want) == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) != 1) break;
    char buf[4096];
    const auto n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<std::size_t>(n));
  }
  return got;
}

/// Writes all of `text` to `fd` (blocking); false when the connection fails first.
inline bool send_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const auto n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

/// A POST request with `body` and its Content-Length.
inline std::string post(const std::string& path, const std::string& body) {
  return "POST " + path + " HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

/// A 200 answer of plain text.
inline server::Response text_answer(std::string body) {
  server::Response r;
  r.content_type = "text/plain";
  r.body = std::move(body);
  return r;
}

}  // namespace revive::test
