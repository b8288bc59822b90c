#pragma once
// The fingerprint by which revivectl pins the server's TLS key: "sha256//" + base64 of the
// SHA-256 of the certificate's DER SubjectPublicKeyInfo. It is the form libcurl's
// CURLOPT_PINNEDPUBLICKEY takes and what `openssl x509 -pubkey | openssl pkey -pubin -outform
// der | openssl dgst -sha256 -binary | base64` prints, and it names the key, so a certificate
// renewed over the same key keeps its pin.

#include <string>
#include <string_view>

#include "revive/error.hpp"

namespace revive {

/// The pin of the first certificate in `pem`; invalid_input when there is none to read.
Result<std::string> public_key_pin(std::string_view pem);

/// Whether `text` has the pin's form ("sha256//" and 44 characters of base64).
bool is_public_key_pin(std::string_view text);

}  // namespace revive
