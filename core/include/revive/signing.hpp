#pragma once
// ed25519 signatures (libsodium): the store's key signs manifests; anyone holding the public
// key can verify them offline.

#include <array>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "revive/error.hpp"

namespace revive {

using PublicKey = std::array<std::uint8_t, 32>;
using Signature = std::array<std::uint8_t, 64>;

/// Short, stable name of a public key: first 16 hex digits of its SHA-256.
std::string key_id(const PublicKey& pk);

/// Text form of a public key file: "revive-ed25519 <base64>\n".
std::string public_key_to_text(const PublicKey& pk);

/// Parses the text form (surrounding whitespace allowed); invalid_input otherwise.
Result<PublicKey> public_key_from_text(std::string_view text);

/// Reads a public key file.
Result<PublicKey> load_public_key(const std::filesystem::path& path);

class KeyPair {
 public:
  /// A fresh random key pair.
  static KeyPair generate();

  /// Loads `dir/ed25519.key` (+ derives the public key), or creates the pair there (secret file
  /// mode 0600, public key in `dir/ed25519.pub`) when neither file exists yet.
  static Result<KeyPair> load_or_create(const std::filesystem::path& dir);

  const PublicKey& public_key() const { return pk_; }

  /// Detached signature over the message.
  Signature sign(std::span<const std::uint8_t> message) const;

 private:
  PublicKey pk_{};
  std::array<std::uint8_t, 64> sk_{};
};

/// true when `sig` is pk's signature over the message.
bool verify_signature(const PublicKey& pk, std::span<const std::uint8_t> message,
                      const Signature& sig);

}  // namespace revive
