#pragma once
// An HTTP/1.1 server on 127.0.0.1 (port 0) for client tests: each connection on its own
// thread, keep-alive, Content-Length bodies only, answers from a handler the test gives.
// Records every request and which connection carried it (to check keep-alive).

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace revive::test {

struct ReceivedRequest {
  std::string method;
  std::string target;                          ///< path and query
  std::map<std::string, std::string> headers;  ///< names in lower case
  std::string body;
  int connection = 0;  ///< 1 for the first accepted connection, 2 for the next...
};

struct CannedReply {
  CannedReply() = default;
  CannedReply(int s, std::string b, std::vector<std::string> h = {})
      : status(s), body(std::move(b)), headers(std::move(h)) {}

  int status = 200;
  std::string body;
  std::vector<std::string> headers;    ///< extra "Name: value" lines
  std::chrono::milliseconds delay{0};  ///< before answering
  bool close = false;                  ///< close the connection after answering
  bool drop = false;                   ///< close the connection without answering
  /// Send the head and this many bytes of the body, then nothing until the client goes away
  /// (a peer that froze mid-transfer).
  std::optional<std::size_t> stall_after;
};

class HttpTestServer {
 public:
  using Handler = std::function<CannedReply(const ReceivedRequest&)>;
  explicit HttpTestServer(Handler handler);
  ~HttpTestServer();
  HttpTestServer(const HttpTestServer&) = delete;
  HttpTestServer& operator=(const HttpTestServer&) = delete;

  /// http://127.0.0.1:PORT
  std::string url() const;
  std::vector<ReceivedRequest> requests() const;
  int connections() const { return connections_.load(); }

 private:
  void accept_loop();
  void serve(int fd, int connection);

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  mutable std::mutex mu_;
  std::vector<ReceivedRequest> requests_;
  std::vector<std::thread> workers_;
  std::thread acceptor_;
};

}  // namespace revive::test
