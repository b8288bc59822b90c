#pragma once
// The certificate and key of the operator listener (HTTPS). A workshop server has no name a
// public CA would certify, so on first start it makes its own (self-signed) and operators pin
// its key on first use (`revivectl login`, docs/SECURITY.md); a workshop with its own CA or
// certificate names its files instead. OpenSSL only: Beast loads the files (http_server.cpp).

#include <filesystem>
#include <string>

#include "revive/error.hpp"

namespace revive::server {

struct TlsIdentity {
  std::filesystem::path cert_file;  ///< PEM: the certificate (and its chain, if any)
  std::filesystem::path key_file;   ///< PEM: the private key (0600)
  std::string pin;                  ///< sha256//... of the key (revive/tls_pin.hpp)
  bool generated = false;           ///< made just now
};

/// `cert` and `key` when both are given (a workshop's own); otherwise DIR/cert.pem and
/// DIR/key.pem, made when missing: ECDSA P-256, self-signed, valid ten years, named for this
/// host, "localhost", 127.0.0.1 and ::1. Refuses a key file that group or others may read
/// (invalid_input, saying to chmod 600); io when the files cannot be read or written; internal
/// when OpenSSL fails.
Result<TlsIdentity> ensure_tls_identity(const std::filesystem::path& dir,
                                        const std::filesystem::path& cert,
                                        const std::filesystem::path& key);

}  // namespace revive::server
