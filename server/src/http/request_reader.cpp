#include "http/request_reader.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <variant>
#include <vector>

#include "revive/file_util.hpp"

namespace revive::server::beast_io {

using namespace std::chrono_literals;

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Response connection_gone() {
  Response gone;
  gone.status = 0;  // the connection is gone: nothing to answer
  return gone;
}

// Beast reads a body into `buf` only as much as fits beyond what it holds (at least 512 bytes),
// and `buf` stays at a request header's size: a 2 GiB image push took four million reads, each
// with its epoll wait and timer (25 s of the server's CPU for what imports locally in 2 s).
// Room for the body while it is read, up to the 64 KiB Beast reads at most at once. A room that
// grew the buffer is given back after, since a kept-alive connection keeps its buffer (a
// thousand laptops' connections each holding what their last result's body took); one that
// did not leaves the buffer as the header's read sized it.
class BodyRoom {
 public:
  BodyRoom(beast::flat_buffer& buf, boost::optional<std::uint64_t> length)
      : buf_(buf), before_(buf.capacity()) {
    constexpr std::uint64_t kMostBeastReads = 64 << 10;
    buf.reserve(
        static_cast<std::size_t>(std::min(length.value_or(kMostBeastReads), kMostBeastReads)));
  }
  ~BodyRoom() {
    if (buf_.capacity() > before_) buf_.shrink_to_fit();
  }
  BodyRoom(const BodyRoom&) = delete;
  BodyRoom& operator=(const BodyRoom&) = delete;

 private:
  beast::flat_buffer& buf_;
  std::size_t before_;
};

// "100 Continue" for a client that waits for it before sending the body (curl does for large
// uploads), sent once the request has been admitted.
template <class Stream>
asio::awaitable<void> send_continue(Stream& stream, const Request& req, unsigned version,
                                    const HttpOptions& opts) {
  if (!waits_for_continue(req, version)) co_return;
  http::response<http::empty_body> cont{http::status::continue_, version};
  beast::get_lowest_layer(stream).expires_after(opts.write_timeout);
  co_await http::async_write(stream, cont, tok);
}

}  // namespace

template <class Stream>
asio::awaitable<bool> read_header(Stream& stream, beast::flat_buffer& buf, HeaderParser& hp,
                                  const HttpOptions& opts, const WriteContext& wc) {
  hp.header_limit(static_cast<std::uint32_t>(opts.max_header_bytes));
  hp.body_limit(opts.max_upload_bytes);  // the real limit is the admission's
  beast::get_lowest_layer(stream).expires_after(opts.idle_timeout);
  auto [ec, n] = co_await http::async_read_header(stream, buf, hp, tok);
  if (!ec) co_return true;
  if (ec == http::error::header_limit) {
    Response r = error_response(
        431, "header_too_large",
        "request header larger than " + std::to_string(opts.max_header_bytes) + " bytes");
    co_await write_response(stream, r, 11, false, false, wc);
  } else if (ec != http::error::end_of_stream && ec != beast::error::timeout &&
             ec != asio::error::operation_aborted && ec != asio::error::connection_reset &&
             ec != asio::error::eof && ec != asio::error::bad_descriptor) {
    Response r = error_response(400, "bad_request", "malformed HTTP request: " + ec.message());
    co_await write_response(stream, r, 11, false, false, wc);
  }
  co_return false;
}

bool make_request(const HeaderParser& hp, const std::string& peer, bool secure, Request& req) {
  const auto& h = hp.get();
  req.method = h.method() == http::verb::head ? "GET" : std::string(h.method_string());
  const std::string_view target = h.target();
  const auto qpos = target.find('?');
  auto path = url_decode(target.substr(0, qpos), false);
  req.peer = peer;
  req.tls = secure;
  for (const auto& f : h) req.headers[lower(f.name_string())] = std::string(f.value());
  if (!path || path->empty() || path->front() != '/') return false;
  req.path = *path;
  if (qpos != std::string_view::npos) req.query = parse_query(target.substr(qpos + 1));
  return true;
}

bool take_buffered_body(const HeaderParser& hp, beast::flat_buffer& buf, Request& req,
                        const HttpOptions& opts) {
  if (hp.is_done() || !hp.content_length()) return false;
  const std::uint64_t length = *hp.content_length();
  if (length > buf.size() || length > opts.max_header_bytes) return false;
  const auto bytes = buf.data();
  req.body.assign(static_cast<const char*>(bytes.data()), static_cast<std::size_t>(length));
  buf.consume(static_cast<std::size_t>(length));
  return true;
}

template <class Stream>
asio::awaitable<std::optional<Response>> read_admitted(Stream& stream, beast::flat_buffer& buf,
                                                       HeaderParser& hp, Request& req,
                                                       const HeaderVerdict& a, bool body_taken,
                                                       bool& keep_alive, bool& drain,
                                                       const HttpOptions& opts) {
  const bool has_body = !hp.is_done();
  const auto refuse = [&](Response r) {
    if (has_body) {
      keep_alive = false;
      drain = !body_taken;
    }
    return std::optional<Response>(std::move(r));
  };
  const auto too_large = [&] {
    return error_response(
        413, "too_large",
        "request body larger than " + std::to_string(a.max_body) + " bytes for this endpoint");
  };
  if (hp.content_length() && *hp.content_length() > a.max_body) co_return refuse(too_large());
  if (!has_body || body_taken) co_return std::nullopt;
  co_await send_continue(stream, req, hp.get().version(), opts);
  http::request_parser<http::string_body> sp{std::move(hp)};
  sp.body_limit(a.max_body);
  const BodyRoom room(buf, sp.content_length());
  beast::get_lowest_layer(stream).expires_after(opts.read_timeout);
  auto [bec, bn] = co_await http::async_read(stream, buf, sp, tok);
  if (bec == http::error::body_limit) co_return refuse(too_large());
  if (bec) co_return connection_gone();
  req.body = std::move(sp.get().body());
  co_return std::nullopt;
}

std::variant<UniqueFd, Response> open_body_stream(const HeaderParser& hp, Request& req,
                                                  bool body_taken, const HttpOptions& opts) {
  if (!hp.is_done() && !body_taken && !hp.content_length())
    return error_response(411, "length_required", "an upload states its length (Content-Length)");
  const std::uint64_t length = body_taken ? req.body.size() : hp.content_length().value_or(0);
  if (length > opts.max_upload_bytes) {
    return error_response(413, "too_large",
                          "upload larger than " + std::to_string(opts.max_upload_bytes) + " bytes");
  }
  std::array<int, 2> ends{};
  if (::pipe2(ends.data(), O_CLOEXEC) != 0) {
    Response r = error_response(500, "io", "cannot take the upload (the server's log says why)");
    r.log_detail = "pipe for an upload: " + errno_error(errno, "pipe2").message;
    return r;
  }
  UniqueFd read_end(ends[0]), write_end(ends[1]);
  // A pipe holds 64 KiB unless asked; 1 MiB takes each piece write_body_stream writes at once,
  // with fewer wake-ups on both sides. Only a wish: pipe-max-size may refuse it, and 64 KiB works.
  constexpr int kPipeBytes = 1 << 20;
  (void)::fcntl(write_end.get(), F_SETPIPE_SZ, kPipeBytes);
  req.body_stream = std::make_shared<BodyStream>(BodyStream{std::move(read_end), length});
  return write_end;
}

// Writes `bytes` into the pipe while its reader reads; once it has closed its end (EPIPE:
// SIGPIPE is ignored), `pipe` is emptied and what comes after is dropped.
asio::awaitable<void> pass_on(std::optional<asio::posix::stream_descriptor>& pipe,
                              asio::const_buffer bytes) {
  if (!pipe || bytes.size() == 0) co_return;
  auto [ec, n] = co_await asio::async_write(*pipe, bytes, tok);
  if (ec) pipe.reset();
}

template <class Stream>
asio::awaitable<bool> write_body_stream(Stream& stream, beast::flat_buffer& buf, HeaderParser& hp,
                                        Request& req, bool body_taken, UniqueFd pipe_end,
                                        const HttpOptions& opts) {
  std::optional<asio::posix::stream_descriptor> pipe;  // none: the handler refused the body
  if (pipe_end) pipe.emplace(stream.get_executor(), pipe_end.release());
  if (body_taken) {
    co_await pass_on(pipe, asio::buffer(req.body));
    co_return true;
  }
  co_await send_continue(stream, req, hp.get().version(), opts);
  http::request_parser<http::buffer_body> bp{std::move(hp)};
  bp.body_limit(opts.max_upload_bytes);
  std::vector<char> chunk(1 << 20);
  const BodyRoom room(buf, bp.content_length());
  while (!bp.is_done()) {
    bp.get().body().data = chunk.data();
    bp.get().body().size = chunk.size();
    beast::get_lowest_layer(stream).expires_after(opts.read_timeout);
    auto [ec, n] = co_await http::async_read(stream, buf, bp, tok);
    // What came before a loss goes on too: the reader sees all that arrived, then the end.
    co_await pass_on(pipe, asio::buffer(chunk.data(), chunk.size() - bp.get().body().size));
    if (ec && ec != http::error::need_buffer) co_return false;
  }
  co_return true;
}

bool waits_for_continue(const Request& req, unsigned version) {
  return version >= 11 && lower(req.header("expect")) == "100-continue";
}

// The client may still be sending the body: say we are done, then read and drop what comes.
template <class Stream>
asio::awaitable<void> linger(Stream& stream) {
  auto& lowest = beast::get_lowest_layer(stream);
  beast::error_code ec;
  if constexpr (!kIsTls<Stream>) lowest.socket().shutdown(tcp::socket::shutdown_send, ec);
  // Not cleared: what lands in it is dropped. It sits in the coroutine's frame, allocated for
  // each answer refused from its header (a flood of them is what a hostile host would send).
  std::array<char, 4096> sink;
  const auto until = Clock::now() + 2s;
  for (std::size_t dropped = 0; dropped < (1u << 20) && Clock::now() < until;) {
    lowest.expires_at(until);
    auto [rec, n] = co_await lowest.async_read_some(asio::buffer(sink), tok);
    if (rec) break;
    dropped += n;
  }
}

// S is a type: it cannot be put in parentheses.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define REVIVE_READER_FOR(S)                                                                      \
  template asio::awaitable<bool> read_header(S&, beast::flat_buffer&, HeaderParser&,              \
                                             const HttpOptions&, const WriteContext&);            \
  template asio::awaitable<std::optional<Response>> read_admitted(                                \
      S&, beast::flat_buffer&, HeaderParser&, Request&, const HeaderVerdict&, bool, bool&, bool&, \
      const HttpOptions&);                                                                        \
  template asio::awaitable<bool> write_body_stream(S&, beast::flat_buffer&, HeaderParser&,        \
                                                   Request&, bool, UniqueFd, const HttpOptions&); \
  template asio::awaitable<void> linger(S&);
REVIVE_READER_FOR(PlainStream)
REVIVE_READER_FOR(TlsStream)
#undef REVIVE_READER_FOR
// NOLINTEND(bugprone-macro-parentheses)

}  // namespace revive::server::beast_io
