#pragma once
// Signed documents: {"<kind>": <canonical JSON>, "signature": {"alg": "ed25519", "key_id",
// "public_key", "sig"}}. The signature covers exactly the canonical text of the body (sorted
// keys, no insignificant whitespace), so anyone with the public key can check it offline.
// Image manifests and erasure certificates are both such documents.

#include <string>
#include <string_view>

#include "revive/error.hpp"
#include "revive/signing.hpp"

namespace revive {

struct SignedDocument {
  std::string canonical;  ///< the body's canonical text, which the signature covers
  PublicKey signer{};     ///< key named in the document (not yet trusted)
  Signature signature{};
};

/// The document text for a body already in canonical form.
std::string sign_canonical(std::string_view kind, std::string_view canonical, const KeyPair& key);

/// Splits a document without trusting it; errors name `kind` ("manifest", "certificate").
/// `max_bytes` bounds the input.
Result<SignedDocument> parse_signed_document(std::string_view text, std::string_view kind,
                                             std::size_t max_bytes);

/// bad_signature unless `d` is signed by `trusted` and unchanged since.
Result<void> check_document(const SignedDocument& d, const PublicKey& trusted,
                            std::string_view kind);

}  // namespace revive
