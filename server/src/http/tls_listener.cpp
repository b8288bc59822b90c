#include "http/tls_listener.hpp"

#include <openssl/ssl.h>

#include <cerrno>

namespace revive::server::beast_io {

Result<void> listen_on(tcp::acceptor& a, const std::string& host, std::uint16_t port) {
  beast::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec)
    return make_error(Errc::invalid_input, "listen address \"" + host + "\" is not an IP address");
  tcp::endpoint ep(addr, port);
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return make_error(Errc::io,
                      "listen on " + host + ":" + std::to_string(port) + ": " + ec.message());
  return {};
}

Result<std::unique_ptr<ssl::context>> make_tls_context(const std::filesystem::path& cert,
                                                       const std::filesystem::path& key) {
  auto tls = std::make_unique<ssl::context>(ssl::context::tls_server);
  tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  beast::error_code ec;
  tls->use_certificate_chain_file(cert.string(), ec);
  if (ec)
    return make_error(Errc::invalid_input,
                      "TLS certificate " + cert.string() + ": " + ec.message());
  tls->use_private_key_file(key.string(), ssl::context::pem, ec);
  if (ec) return make_error(Errc::invalid_input, "TLS key " + key.string() + ": " + ec.message());
  if (SSL_CTX_check_private_key(tls->native_handle()) != 1)
    return make_error(
        Errc::invalid_input,
        "TLS key " + key.string() + " does not belong to the certificate " + cert.string());
  return tls;
}

bool out_of_descriptors(const beast::error_code& ec) {
  return ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
         ec == asio::error::no_memory || ec.value() == ENFILE;
}

}  // namespace revive::server::beast_io
