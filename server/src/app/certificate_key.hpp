#pragma once
// The certificate key: the server signs erasure certificates with a key of its own, not with
// the image store's key (issue 15, finding 7). The store key signs what the live image trusts
// (manifests and jobs) and its public half is baked into every live image; a certificate is
// evidence for donors and auditors. Separate keys mean neither can stand in for the other even
// if a signature's kind were ever mixed up, and either can be replaced without the other.
//
// Layout: STATE/certificate-key/ed25519.key (0600, refused when others can read it) and
// ed25519.pub beside it, created on first start. A state directory from before the split keeps
// its store key as the manifest key and gets a new certificate key; the certificates issued
// until then stay signed by the store key, whose public key is still GET /api/v1/public-key
// (docs/SECURITY.md, "Which key verifies a certificate").

#include <filesystem>

#include "revive/error.hpp"
#include "revive/signing.hpp"

namespace revive::server {

/// Where the certificate key lives inside a state directory.
std::filesystem::path certificate_key_dir(const std::filesystem::path& state_dir);

/// Loads the certificate key from `state_dir`, or creates it there (see load_or_create).
/// invalid_input when it is the same key as `manifest_key` (a copied key file would undo the
/// split); the errors of KeyPair::load_or_create otherwise (a key others can read is refused).
Result<KeyPair> load_certificate_key(const std::filesystem::path& state_dir,
                                     const PublicKey& manifest_key);

}  // namespace revive::server
