#pragma once
// Setting up the listeners: binding an address, the operators' TLS context (certificate, key,
// TLS 1.2 and later), and which accept(2) failures mean the process is out of descriptors.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "http/beast_common.hpp"
#include "revive/error.hpp"

namespace revive::server::beast_io {

/// Opens, binds and listens on host:port; invalid_input when host is not an IP address, io
/// when the address cannot be bound.
Result<void> listen_on(tcp::acceptor& a, const std::string& host, std::uint16_t port);

/// The TLS server context for the certificate chain and its key; invalid_input naming the
/// file when one cannot be loaded or the key does not belong to the certificate.
Result<std::unique_ptr<ssl::context>> make_tls_context(const std::filesystem::path& cert,
                                                       const std::filesystem::path& key);

/// accept(2) failures that mean "no descriptor or buffer for a new socket right now": waiting
/// (and closing an idle connection) helps; retrying at once only spins.
bool out_of_descriptors(const beast::error_code& ec);

}  // namespace revive::server::beast_io
