#pragma once
// What the server's Beast translation units share (http_server, tls_listener, response_writer,
// request_reader): the namespaces, the completion token, the two kinds of stream. Private to
// server/src/http; never included outside it (docs/ARCHITECTURE.md: Beast stays in http/).

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <chrono>
#include <type_traits>

namespace revive::server::beast_io {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

inline constexpr auto tok = asio::as_tuple(asio::use_awaitable);
using Clock = std::chrono::steady_clock;
using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
template <class Stream>
inline constexpr bool kIsTls = std::is_same_v<Stream, TlsStream>;

}  // namespace revive::server::beast_io
