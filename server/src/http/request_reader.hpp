#pragma once
// Reading a request: its header (bounded), the Request made from it, then, once it is admitted
// from its header (before any body byte is read), the body as admitted: into memory up to the
// route's limit, or spooled to a temp file (uploads are never held in memory). And lingering
// after an answer given without reading the body, so the answer is not lost to a reset.

#include <optional>
#include <string>

#include "http/beast_common.hpp"
#include "http/http_server.hpp"
#include "http/http_types.hpp"
#include "http/response_writer.hpp"

namespace revive::server::beast_io {

using HeaderParser = http::request_parser<http::empty_body>;

/// Reads the next request's header; false when the connection is done (closed, timed out, or
/// a malformed or oversized header, which is answered here).
template <class Stream>
asio::awaitable<bool> read_header(Stream& stream, beast::flat_buffer& buf, HeaderParser& hp,
                                  const HttpOptions& opts, const WriteContext& wc);

/// The request line and header as a Request; false for a path that does not decode.
bool make_request(const HeaderParser& hp, const std::string& peer, bool secure, Request& req);

/// Takes a body the client has sent whole already (it sits in `buf` behind the header) into
/// req.body, so that its admission and its answer can be one hand-over to the domain's thread:
/// only a body of a stated length no larger than a header may be, which costs nothing to hold
/// (the admission still refuses it as it would refuse a body not yet read). False, with
/// nothing taken, otherwise.
bool take_buffered_body(const HeaderParser& hp, beast::flat_buffer& buf, Request& req,
                        const HttpOptions& opts);

/// Reads the body of a request its header's admission `a` (opts.admit) let through, as `a`
/// allows (`body_taken`: take_buffered_body took it; an upload's is written to its temp file).
/// An answer when the request is settled without the handler (a body over the limit: `drain`,
/// its body is left unread, and `keep_alive` is cleared); status 0 in it: the connection is gone.
template <class Stream>
asio::awaitable<std::optional<Response>> read_admitted(Stream& stream, beast::flat_buffer& buf,
                                                       HeaderParser& hp, Request& req,
                                                       const HeaderVerdict& a, bool body_taken,
                                                       bool& keep_alive, bool& drain,
                                                       const HttpOptions& opts);

/// After an answer sent without reading the body: reads and drops what the client still sends,
/// for a little while (closing with unread data would reset the connection).
template <class Stream>
asio::awaitable<void> linger(Stream& stream);

}  // namespace revive::server::beast_io
