#include "app/certificate_key.hpp"

namespace revive::server {

std::filesystem::path certificate_key_dir(const std::filesystem::path& state_dir) {
  return state_dir / "certificate-key";
}

Result<KeyPair> load_certificate_key(const std::filesystem::path& state_dir,
                                     const PublicKey& manifest_key) {
  const auto dir = certificate_key_dir(state_dir);
  auto key = KeyPair::load_or_create(dir);
  if (!key) return key.error().with_context("certificate key");
  if (key->public_key() == manifest_key) {
    return make_error(Errc::invalid_input,
                      "certificate key " + (dir / "ed25519.key").string() +
                          " is the image store's key (key id " + key_id(manifest_key) +
                          "): certificates and manifests must be signed by different keys; "
                          "move that file away and the server makes a new certificate key");
  }
  return key;
}

}  // namespace revive::server
