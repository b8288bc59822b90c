#include "http/response_writer.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <vector>

#include "revive/file_util.hpp"

namespace revive::server::beast_io {

namespace {

asio::awaitable<bool> sendfile_to(tcp::socket& sock, int fd, std::uint64_t offset,
                                  std::uint64_t length, const WriteContext& ctx) {
  sock.native_non_blocking(true);
  off_t off = static_cast<off_t>(offset);
  std::uint64_t left = length;
  asio::steady_timer timer(sock.get_executor());
  while (left > 0) {
    const ssize_t n =
        ::sendfile(sock.native_handle(), fd, &off, std::min<std::uint64_t>(left, 1u << 30));
    if (n > 0) {
      left -= static_cast<std::uint64_t>(n);
      ctx.metrics.bytes_served(static_cast<std::uint64_t>(n));
      continue;
    }
    if (n == 0) co_return false;  // file shorter than announced: the connection is lost
    if (errno == EINTR) continue;
    if (errno != EAGAIN) co_return false;
    timer.expires_after(ctx.write_timeout);
    timer.async_wait([&sock](beast::error_code ec) {
      if (!ec) sock.cancel();
    });
    auto [ec] = co_await sock.async_wait(tcp::socket::wait_write, tok);
    timer.cancel();
    if (ec) co_return false;
  }
  co_return true;
}

asio::awaitable<bool> copy_file(TlsStream& stream, int fd, std::uint64_t offset,
                                std::uint64_t length, const WriteContext& ctx) {
  std::vector<char> chunk(std::min<std::uint64_t>(length, std::uint64_t{64} * 1024));
  while (length > 0) {
    const auto want = std::min<std::uint64_t>(length, chunk.size());
    const ssize_t n = ::pread(fd, chunk.data(), want, static_cast<off_t>(offset));
    if (n <= 0) co_return false;
    beast::get_lowest_layer(stream).expires_after(ctx.write_timeout);
    auto [ec, w] = co_await asio::async_write(
        stream, asio::buffer(chunk.data(), static_cast<std::size_t>(n)), tok);
    if (ec) co_return false;
    ctx.metrics.bytes_served(w);
    offset += static_cast<std::uint64_t>(n);
    length -= static_cast<std::uint64_t>(n);
  }
  co_return true;
}

// Plain HTTP: sendfile(2) straight from the page cache to the socket; a timer cuts a stalled
// client. TLS: the file is read and written through the TLS stream.
template <class Stream>
asio::awaitable<bool> send_region(Stream& stream, int fd, std::uint64_t offset,
                                  std::uint64_t length, const WriteContext& ctx) {
  if constexpr (kIsTls<Stream>) {
    co_return co_await copy_file(stream, fd, offset, length, ctx);
  } else {
    co_return co_await sendfile_to(stream.socket(), fd, offset, length, ctx);
  }
}

// Each part's bytes from memory, then its file region; false when a part cannot be opened or
// would not add up to the length announced.
template <class Stream>
asio::awaitable<bool> send_parts(Stream& stream, const Response::Parts& parts,
                                 const WriteContext& ctx) {
  std::uint64_t left = parts.length;
  for (std::size_t i = 0; i < parts.count; ++i) {
    auto part = parts.open(i);
    if (!part) co_return false;
    UniqueFd fd(part->file.fd);
    const std::uint64_t size = part->prefix.size() + part->file.length;
    if (size > left) co_return false;
    left -= size;
    beast::get_lowest_layer(stream).expires_after(ctx.write_timeout);
    auto [ec, n] = co_await asio::async_write(stream, asio::buffer(part->prefix), tok);
    if (ec) co_return false;
    ctx.metrics.bytes_served(n);
    if (!co_await send_region(stream, fd.get(), part->file.offset, part->file.length, ctx))
      co_return false;
  }
  co_return left == 0;
}

// TCP_CORK on a plain connection for the span of one file answer, like nginx's tcp_nopush:
// the header leaves with the file's first bytes and every segment goes out full, where the
// connection's TCP_NODELAY would push a short segment after the header and at the end of
// every sendfile call. Uncorked when the answer is done, however it ends, so the next answer
// on the connection is not held back (the kernel would send it only after 200 ms).
// Over loopback the gain is within this machine's noise (one wrk client, corked and uncorked
// servers in ABBA order: medians 1185 and 1150 MB/s); it is the setting of the nginx that
// chunk_serving_bench compares with, and on a real network it saves a header-only packet per
// answer.
class Corked {
 public:
  explicit Corked(tcp::socket& sock) : sock_(sock) { set(true); }
  ~Corked() { set(false); }
  Corked(const Corked&) = delete;
  Corked& operator=(const Corked&) = delete;

 private:
  using Option = asio::detail::socket_option::boolean<IPPROTO_TCP, TCP_CORK>;
  void set(bool on) {
    beast::error_code ec;  // a closed or failing socket: nothing to hold back or send
    if (sock_.is_open()) sock_.set_option(Option(on), ec);
  }
  tcp::socket& sock_;
};

// A body from files: the region of `file_fd` (r.file), or r.parts.
template <class Stream>
asio::awaitable<bool> send_files(Stream& stream, int file_fd, const Response& r,
                                 const WriteContext& ctx) {
  ctx.metrics.transfer_started();
  bool ok = false;
  if (r.file) {
    ok = co_await send_region(stream, file_fd, r.file->offset, r.file->length, ctx);
  } else {
    ok = co_await send_parts(stream, *r.parts, ctx);
  }
  ctx.metrics.transfer_finished();
  co_return ok;
}

// The header `res` has (its length that of the files), then the files.
template <class Stream>
asio::awaitable<bool> write_from_files(Stream& stream, const http::response<http::string_body>& res,
                                       const Response& r, bool keep_alive, bool head,
                                       const WriteContext& ctx) {
  http::response<http::empty_body> fres{res.result(), res.version()};
  for (const auto& f : res.base()) fres.set(f.name_string(), f.value());
  fres.content_length(r.file ? r.file->length : r.parts->length);
  fres.keep_alive(keep_alive);
  http::response_serializer<http::empty_body> sr{fres};
  std::optional<Corked> corked;
  if constexpr (!kIsTls<Stream>) corked.emplace(stream.socket());
  beast::get_lowest_layer(stream).expires_after(ctx.write_timeout);
  auto [ec, n] = co_await http::async_write_header(stream, sr, tok);
  UniqueFd fd(r.file ? r.file->fd : -1);
  if (ec) co_return false;
  if (head) co_return true;
  co_return co_await send_files(stream, fd.get(), r, ctx);
}

}  // namespace

template <class Stream>
asio::awaitable<bool> write_response(Stream& stream, Response& r, unsigned version, bool keep_alive,
                                     bool head, const WriteContext& ctx) {
  auto& lowest = beast::get_lowest_layer(stream);
  http::response<http::string_body> res{static_cast<http::status>(r.status), version};
  res.set(http::field::server, "revive/" REVIVE_VERSION);
  res.set(http::field::content_type, r.content_type);
  for (const auto& [k, v] : r.headers) res.set(k, v);
  res.keep_alive(keep_alive);
  if (r.file || r.parts) co_return co_await write_from_files(stream, res, r, keep_alive, head, ctx);
  lowest.expires_after(ctx.write_timeout);
  if (head) {
    http::response<http::empty_body> hres{res.result(), version};
    for (const auto& f : res.base()) hres.set(f.name_string(), f.value());
    hres.content_length(r.body.size());
    hres.keep_alive(keep_alive);
    auto [ec, n] = co_await http::async_write(stream, hres, tok);
    co_return !ec;
  }
  res.body() = std::move(r.body);
  res.prepare_payload();
  auto [ec, n] = co_await http::async_write(stream, res, tok);
  if (!ec) ctx.metrics.bytes_served(n);
  co_return !ec;
}

template asio::awaitable<bool> write_response(PlainStream&, Response&, unsigned, bool, bool,
                                              const WriteContext&);
template asio::awaitable<bool> write_response(TlsStream&, Response&, unsigned, bool, bool,
                                              const WriteContext&);

}  // namespace revive::server::beast_io
