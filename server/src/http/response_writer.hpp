#pragma once
// Writing an answer: a Response as an HTTP/1.1 response on either kind of stream, its body
// from memory or from a file (sendfile(2) on plain HTTP, read and written through TLS).

#include <chrono>

#include "http/beast_common.hpp"
#include "http/http_types.hpp"
#include "http/metrics.hpp"

namespace revive::server::beast_io {

struct WriteContext {
  std::chrono::seconds write_timeout;  ///< bounds each write (a stalled client is cut)
  Metrics& metrics;                    ///< bytes served, transfers in flight
};

/// Writes `r` (a HEAD request gets the header only); false when the connection failed.
/// Takes ownership of the answer's file descriptor. Instantiated for PlainStream and TlsStream.
template <class Stream>
asio::awaitable<bool> write_response(Stream& stream, Response& r, unsigned version, bool keep_alive,
                                     bool head, const WriteContext& ctx);

}  // namespace revive::server::beast_io
