#pragma once
// Signed documents: {"<kind>": <canonical JSON>, "signature": {"alg": "ed25519", "covers":
// "kind,body", "key_id", "public_key", "sig"}}. The signature covers the document's kind and
// exactly the canonical text of the body (sorted keys, no insignificant whitespace), so anyone
// with the public key can check it offline, and a document signed as one kind (a manifest)
// can never be passed off as another (a job, a certificate).
// Image manifests, jobs and erasure certificates are all such documents.
//
// The whole document must itself be canonical JSON (plus at most one trailing newline): a
// duplicate key, reordered keys or extra whitespace is refused, so no two readers of the same
// bytes (this code, an auditor's script) can see different values under one signature.
//
// Signatures made before the kind was covered (no "covers") are accepted for certificates
// only: donors hold certificates issued before the change and they are immutable; a legacy
// signature is told apart from a current one by "covers", and a body signed that way still has
// to be a certificate (its "format") to pass as one. Manifests are re-signed by their store
// (ImageStore::resign_legacy_manifests); jobs never had legacy signatures.

#include <string>
#include <string_view>

#include "revive/error.hpp"
#include "revive/signing.hpp"

namespace revive {

struct SignedDocument {
  std::string canonical;  ///< the body's canonical text, which the signature covers
  PublicKey signer{};     ///< key named in the document (not yet trusted)
  Signature signature{};
  bool legacy = false;  ///< signed before signatures covered the kind (body only)
};

/// The bytes an ed25519 signature of a `kind` document covers: a domain-separation prefix
/// naming the kind, then the canonical body.
std::string signed_message(std::string_view kind, std::string_view canonical);

/// The document text for a body already in canonical form (ends with one newline).
std::string sign_canonical(std::string_view kind, std::string_view canonical, const KeyPair& key);

/// Splits a document without trusting its signature; errors name `kind` ("manifest",
/// "certificate", "job"): corrupt when the text is not JSON, bad_signature when the signature
/// block is missing or malformed or the text is not in canonical form. `max_bytes` bounds the
/// input.
Result<SignedDocument> parse_signed_document(std::string_view text, std::string_view kind,
                                             std::size_t max_bytes);

/// bad_signature unless `d` is signed by `trusted` as a `kind` document and unchanged since
/// (a legacy signature only for a certificate).
Result<void> check_document(const SignedDocument& d, const PublicKey& trusted,
                            std::string_view kind);

}  // namespace revive
