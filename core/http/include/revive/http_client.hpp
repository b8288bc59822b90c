#pragma once
// The one HTTP client (libcurl) shared by the agent and revivectl. A Connection is one
// reusable libcurl easy handle: requests through it to the same server share a keep-alive
// connection. Bodies come back in memory, or stream to a sink (large downloads); uploads stream
// from a file. An HTTP status is an answer, never an error: only a failed exchange is.
//
// libcurl stays inside http_client.cpp; this header does not include it.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "revive/error.hpp"

namespace revive::http {

namespace detail {
struct Transfer;  // what one exchange's libcurl callbacks share (http_client.cpp)
}  // namespace detail

/// One request. GET and DELETE send no body unless one is given; POST and PUT send `body`.
struct Request {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  ///< "Name: value" lines
  std::string body;
  /// Bounds the whole exchange (a long-poll needs its wait and a margin); 0: no bound, for
  /// uploads whose length says nothing about how long they take.
  std::chrono::seconds timeout{0};
  /// Response headers to keep (names, case-insensitive); the others are dropped.
  std::vector<std::string> keep_headers;
};

struct Response {
  long status = 0;
  /// The body; for download(), only the body of an answer that is not 2xx (its error message).
  std::string body;
  std::map<std::string, std::string> headers;   ///< the kept ones, names in lower case
  std::optional<std::uint64_t> content_length;  ///< as announced by the server
  std::uint64_t body_bytes = 0;                 ///< body bytes received (sink included)

  bool ok() const { return status >= 200 && status < 300; }
  /// A kept header's value, "" when absent (`name` in any case).
  std::string header(std::string_view name) const;
};

/// Takes a 2xx body piece by piece. An error aborts the transfer; download() returns it.
using BodySink = std::function<Result<void>(std::span<const std::byte>)>;
/// Told the bytes sent so far and the total during an upload.
using UploadProgress = std::function<void(std::uint64_t sent, std::uint64_t total)>;

struct ConnectionOptions {
  std::chrono::seconds connect_timeout{10};
  /// Caps this connection's download rate in bytes/s (slow workshop links); 0: no cap.
  std::uint64_t max_recv_rate = 0;
  /// A transfer below `low_speed_limit` bytes/s for `low_speed_time` is cut (a stalled
  /// server); 0: never.
  std::uint64_t low_speed_limit = 0;
  std::chrono::seconds low_speed_time{0};
  /// Cuts an exchange whose answer (its status line) has not begun this long after it started,
  /// connecting and sending included (a peer that took the connection and froze); 0: only the
  /// request's timeout bounds it. For small requests: an upload's sending counts against it.
  std::chrono::milliseconds first_byte_timeout{0};
  /// Cuts an exchange once its answer has begun and no byte has moved for this long (a LAN
  /// peer that died mid-transfer); 0: never. libcurl checks about once a second while idle,
  /// so a stall is noticed between this and a second later.
  std::chrono::milliseconds stall_timeout{0};
  /// Set: the exchange is cut (cancelled) within about a second, even while nothing moves.
  const std::atomic<bool>* abort = nullptr;
  /// Largest body kept in memory; a bigger answer aborts the transfer (invalid_input), so a
  /// misbehaving server cannot exhaust the agent's RAM.
  std::size_t max_body = std::size_t{256} << 20;
  /// For https:// URLs: the server's TLS public key pin ("sha256//<base64>", the form of
  /// revive/tls_pin.hpp). When set, the server is trusted by this pin alone (a workshop
  /// server's certificate is self-signed, so no authority or host name can vouch for it), and
  /// a server showing another key is refused (bad_signature). Empty: the system's certificate
  /// authorities, as curl does by default.
  std::string pinned_public_key;
};

/// A reusable connection (one libcurl easy handle). Not thread-safe: one per thread, or calls
/// serialised by the owner.
class Connection {
 public:
  explicit Connection(ConnectionOptions o = {});
  ~Connection();
  Connection(Connection&& o) noexcept;
  Connection& operator=(Connection&& o) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// The answer, whatever its status, with the body in memory. io when no answer came
  /// (connect, timeout, reset; the message names method and URL), invalid_input when the body
  /// exceeds max_body, internal when libcurl cannot be set up.
  Result<Response> request(const Request& r);
  /// Like request(), but a 2xx body goes to `sink` as it arrives and is not kept; a non-2xx
  /// body is kept in Response::body. The sink's error is returned as the sink gave it.
  Result<Response> download(const Request& r, const BodySink& sink);
  /// Sends the regular file `file` as the body (POST or PUT; streamed, never held in memory),
  /// telling `progress` as it goes. Errors as request(); io when the file cannot be read.
  Result<Response> upload(const Request& r, const std::filesystem::path& file,
                          const UploadProgress& progress = {});

 private:
  Result<Response> perform(const Request& r, detail::Transfer& t);

  ConnectionOptions opts_;
  void* curl_ = nullptr;  // CURL*
};

/// The certificate (PEM) the TLS server at `url` shows, read without trusting it: for trust on
/// first use, where a person compares its pin with the one the server printed at start. io
/// when no TLS connection could be made, unsupported when libcurl gives no certificate.
Result<std::string> peer_certificate(const std::string& url,
                                     std::chrono::seconds timeout = std::chrono::seconds(10));

/// "Authorization: Bearer <token>".
std::string bearer(std::string_view token);

/// Percent-encodes `s` for a URL path segment or query value (RFC 3986: unreserved characters
/// stay as they are).
std::string escape(std::string_view s);

/// `url` without trailing slashes, so base + "/path" never holds "//".
std::string trim_base_url(std::string url);

}  // namespace revive::http
