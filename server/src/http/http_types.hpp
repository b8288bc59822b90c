#pragma once
// HTTP request/response as plain structs: the API layer works on these and never sees Beast
// (Beast stays in http_server.cpp so only one translation unit pays for it).

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "revive/file_util.hpp"
#include "revive/http_range.hpp"

namespace revive::server {

/// An upload's body while it arrives (HeaderVerdict::stream): the read end of a pipe the HTTP
/// layer writes the body into after the handler has returned. A handler that takes `fd` (moves
/// it out) reads it to its end or closes it, which stops the writer; one that leaves it there
/// refuses the body (none of it reaches the pipe: a client waiting for "100 Continue" does not
/// send it, another's is read and dropped).
struct BodyStream {
  UniqueFd fd;
  std::uint64_t length = 0;  ///< the body's bytes (its Content-Length: a stream needs one)
};

struct Request {
  std::string method;  ///< "GET", "POST", ...
  std::string path;    ///< decoded path without query
  std::map<std::string, std::string> query;
  std::map<std::string, std::string> headers;  ///< lower-case names
  std::string body;                            ///< small bodies (bounded)
  std::shared_ptr<BodyStream> body_stream;     ///< an upload's body (HeaderVerdict::stream)
  std::string peer;                            ///< remote address
  bool tls = false;                            ///< came in over the TLS listener
  /// From this machine: loopback, or a connection to the server's own address from that same
  /// address (its handshake cannot complete from another host).
  bool local = false;

  /// Header value or empty.
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct Response;

/// An answer that stays open as a Server-Sent Events stream on a channel ("operators", "wall"):
/// the HTTP layer sends `first`, then whatever is published on the channel, until the client
/// goes, the server stops, the stream falls too far behind, or `still_allowed` says no.
struct EventStream {
  std::string channel;
  std::string first;                       ///< framed SSE text sent before anything published
  std::size_t max_streams = 64;            ///< open streams on this channel, from all addresses
  std::size_t max_per_address = 8;         ///< open streams on this channel from one address
  std::size_t max_queued_bytes = 1 << 20;  ///< a client further behind is cut off
  /// Asked on each wake-up (publish or keep-alive); false ends the stream (a revoked token).
  std::function<bool()> still_allowed;
};

/// A response that waits: the server re-runs `poll` whenever `key` is notified (and once at the
/// deadline with final=true); the first non-empty answer is sent.
struct LongPoll {
  std::string key;
  std::chrono::milliseconds timeout{25000};
  std::function<std::optional<Response>(bool final)> poll;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  /// Send a file region instead of `body` (sendfile); the fd is closed after sending.
  struct File {
    int fd = -1;
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
  };
  std::optional<File> file;
  /// A body sent in parts, each some bytes from memory and then a file region: a long run of
  /// stored files (an image's chunk stream) opened one at a time rather than all at once.
  /// `length` is the sum of every part's (the Content-Length); `open(i)` gives part i, or
  /// nullopt when it cannot (a file went, or is not the size counted): the connection is then
  /// cut, because the length was promised. The fds are closed after sending.
  struct Part {
    std::string prefix;
    File file;
  };
  struct Parts {
    std::uint64_t length = 0;
    std::size_t count = 0;
    std::function<std::optional<Part>(std::size_t i)> open;
  };
  std::optional<Parts> parts;
  std::optional<LongPoll> long_poll;
  /// Server-Sent Events: keep the connection and send what is published on its channel.
  std::optional<EventStream> event_stream;
  /// What the server log gets for this answer and the client does not (a 500's cause).
  std::string log_detail;
};

/// What the server may do with a request, decided from its header alone (before the body is
/// read).
struct HeaderVerdict {
  /// Settled without the body (no credentials, too many requests, unknown route...): sent at
  /// once, and the body is never read.
  std::optional<Response> answer;
  std::string label;         ///< the metrics label of an answer given here
  std::size_t max_body = 0;  ///< bytes the body may have (kept in memory)
  /// An upload: the body is not held but handed to the handler as it arrives
  /// (Request::body_stream), for up to HttpOptions::max_upload_bytes.
  bool stream = false;
};

/// JSON error body: {"error": message, "code": code}.
Response error_response(int status, std::string_view code, std::string_view message);

/// Route patterns like "/api/v1/devices/{id}/retry": match and extract parameters.
/// Pure; used by the route table (api/route_table.hpp) and fuzzed with it
/// (tests/fuzz/route_fuzz.cpp).
bool match_route(std::string_view pattern, std::string_view path,
                 std::map<std::string, std::string>& params);

/// One Server-Sent Event: "event: E", a "data: " line per line of `data` (a line ends at LF,
/// CR or CRLF, as the browser splits it, so no text can start a field of its own), a blank
/// line. An event name is a token: characters other than [A-Za-z0-9_-] are dropped.
std::string sse_message(std::string_view event, std::string_view data);
/// The SSE field that tells the browser how long to wait before reconnecting.
std::string sse_retry(std::chrono::milliseconds delay);

/// Percent-decodes a path or query component; nullopt on malformed escapes or NUL.
std::optional<std::string> url_decode(std::string_view s, bool plus_is_space);

/// Splits "a=1&b=x%20y" into a map; malformed pairs are dropped.
std::map<std::string, std::string> parse_query(std::string_view q);

/// Whether `peer` (an address as Request::peer spells it) is this machine's own 127.0.0.1 or
/// ::1. A LAN host cannot send from these (the kernel drops such packets from a wire), so they
/// are the server's own tools: revivectl on the server, benches, the demo. The rest of
/// 127.0.0.0/8 is not included, so tests can play LAN hosts from 127.0.0.2 and up.
bool is_local_peer(std::string_view peer);

/// Range parsing is shared with the agents' peer relay (revive/http_range.hpp).
using revive::ByteRange;
using revive::parse_range;

}  // namespace revive::server
