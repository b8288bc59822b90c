#include "http_test_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <optional>
#include <stdexcept>

namespace revive::test {

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Waits until `fd` is readable; false when `stop` was set or the wait failed.
bool readable(int fd, const std::atomic<bool>& stop) {
  while (!stop.load()) {
    pollfd p{fd, POLLIN, 0};
    const int n = ::poll(&p, 1, 50);
    if (n > 0) return true;
    if (n < 0) return false;
  }
  return false;
}

// Reads until `buf` holds at least `n` bytes; false on EOF, error or stop.
bool fill(int fd, std::string& buf, std::size_t n, const std::atomic<bool>& stop) {
  char tmp[65536];
  while (buf.size() < n) {
    if (!readable(fd, stop)) return false;
    const ssize_t got = ::recv(fd, tmp, sizeof tmp, 0);
    if (got <= 0) return false;
    buf.append(tmp, static_cast<std::size_t>(got));
  }
  return true;
}

bool send_all(int fd, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

// The request head in `buf` (up to the blank line), parsed; the head is removed from `buf`.
std::optional<ReceivedRequest> parse_head(std::string& buf, std::size_t end) {
  ReceivedRequest r;
  const std::string head = buf.substr(0, end);
  buf.erase(0, end + 4);
  std::size_t pos = head.find("\r\n");
  const std::string line = head.substr(0, pos);
  const auto sp1 = line.find(' ');
  const auto sp2 = line.find(' ', sp1 + 1);
  if (sp1 == std::string::npos || sp2 == std::string::npos) return std::nullopt;
  r.method = line.substr(0, sp1);
  r.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  while (pos != std::string::npos && pos < head.size()) {
    const std::size_t next = head.find("\r\n", pos + 2);
    const std::string h =
        head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
    const auto colon = h.find(':');
    if (colon != std::string::npos) {
      std::string value = h.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      r.headers[lower(h.substr(0, colon))] = value;
    }
    pos = next;
  }
  return r;
}

std::string reason(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 401:
      return "Unauthorized";
    case 404:
      return "Not Found";
    case 409:
      return "Conflict";
    default:
      return "Status";
  }
}

}  // namespace

HttpTestServer::HttpTestServer(Handler handler) : handler_(std::move(handler)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      ::listen(listen_fd_, 16) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw std::runtime_error("HttpTestServer: cannot listen on 127.0.0.1");
  }
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

HttpTestServer::~HttpTestServer() {
  stop_.store(true);
  acceptor_.join();
  for (auto& w : workers_) w.join();
  ::close(listen_fd_);
}

std::string HttpTestServer::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::vector<ReceivedRequest> HttpTestServer::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

void HttpTestServer::accept_loop() {
  while (readable(listen_fd_, stop_)) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    const int n = ++connections_;
    workers_.emplace_back([this, fd, n] {
      serve(fd, n);
      ::close(fd);
    });
  }
}

void HttpTestServer::serve(int fd, int connection) {
  std::string buf;
  for (;;) {
    std::size_t end = 0;
    while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
      if (!fill(fd, buf, buf.size() + 1, stop_)) return;
    }
    auto r = parse_head(buf, end);
    if (!r) return;
    r->connection = connection;
    if (lower(r->headers["expect"]) == "100-continue" &&
        !send_all(fd, "HTTP/1.1 100 Continue\r\n\r\n"))
      return;
    const std::size_t length =
        r->headers.count("content-length") ? std::stoul(r->headers["content-length"]) : 0;
    if (!fill(fd, buf, length, stop_)) return;
    r->body = buf.substr(0, length);
    buf.erase(0, length);
    {
      std::lock_guard lock(mu_);
      requests_.push_back(*r);
    }
    const CannedReply reply = handler_(*r);
    if (reply.delay.count() > 0) std::this_thread::sleep_for(reply.delay);
    if (reply.drop) return;
    std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " " + reason(reply.status) +
                      "\r\nContent-Length: " + std::to_string(reply.body.size()) + "\r\n";
    for (const auto& h : reply.headers) out += h + "\r\n";
    if (reply.close) out += "Connection: close\r\n";
    if (reply.stall_after) {
      out += "\r\n" + reply.body.substr(0, *reply.stall_after);
      if (!send_all(fd, out)) return;
      while (readable(fd, stop_)) {  // until the client hangs up (or the server stops)
        char tmp[4096];
        if (::recv(fd, tmp, sizeof tmp, 0) <= 0) return;
      }
      return;
    }
    out += "\r\n" + reply.body;
    if (!send_all(fd, out) || reply.close) return;
  }
}

}  // namespace revive::test
