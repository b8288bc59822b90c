#pragma once
// Reading a request: its header (bounded), the Request made from it, then, once it is admitted
// from its header (before any body byte is read), the body as admitted: into memory up to the
// route's limit, or, for an upload, written into a pipe its handler reads while the body
// arrives (uploads are never held in memory, nor written to a file on the way). And lingering
// after an answer given without reading the body, so the answer is not lost to a reset.

#include <optional>
#include <string>
#include <variant>

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

/// Reads the body of a request its header's admission `a` (opts.admit) let through into
/// req.body, as `a` allows (`body_taken`: take_buffered_body took it; not for a stream).
/// An answer when the request is settled without the handler (a body over the limit: `drain`,
/// its body is left unread, and `keep_alive` is cleared); status 0 in it: the connection is gone.
template <class Stream>
asio::awaitable<std::optional<Response>> read_admitted(Stream& stream, beast::flat_buffer& buf,
                                                       HeaderParser& hp, Request& req,
                                                       const HeaderVerdict& a, bool body_taken,
                                                       bool& keep_alive, bool& drain,
                                                       const HttpOptions& opts);

/// For a request admitted as a stream (HeaderVerdict::stream): its body's pipe, the read end
/// in req.body_stream (with the body's length) and the write end returned; or the answer
/// refusing it (no stated length: 411, over opts.max_upload_bytes: 413, no pipe: 500).
std::variant<UniqueFd, Response> open_body_stream(const HeaderParser& hp, Request& req,
                                                  bool body_taken, const HttpOptions& opts);

/// Writes a streamed request's body into `pipe_end` (open_body_stream's write end, closed on
/// return) as it arrives: what take_buffered_body took (`body_taken`), or the body read from
/// the connection after a "100 Continue" when the client waits for one. Once the reader has
/// closed its end (or with no `pipe_end`: the handler refused the body), the rest is read and
/// dropped, so the client, which may be sending it all before it reads, gets the answer. Each
/// read has the read timeout; a write waits for the reader as long as it takes (an import's
/// pace). False when the connection is gone.
template <class Stream>
asio::awaitable<bool> write_body_stream(Stream& stream, beast::flat_buffer& buf, HeaderParser& hp,
                                        Request& req, bool body_taken, UniqueFd pipe_end,
                                        const HttpOptions& opts);

/// Whether the client waits for "100 Continue" before it sends the body.
bool waits_for_continue(const Request& req, unsigned version);

/// After an answer sent without reading the body: reads and drops what the client still sends,
/// for a little while (closing with unread data would reset the connection).
template <class Stream>
asio::awaitable<void> linger(Stream& stream);

}  // namespace revive::server::beast_io
