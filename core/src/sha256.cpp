#include "revive/sha256.hpp"

#include <openssl/evp.h>

#include "revive/encoding.hpp"
#include "revive/error.hpp"

namespace revive {

Digest sha256(std::span<const std::byte> data) {
  Digest d{};
  unsigned int len = 0;
  REVIVE_CHECK(EVP_Digest(data.data(), data.size(), d.data(), &len, EVP_sha256(), nullptr) == 1);
  REVIVE_CHECK(len == d.size());
  return d;
}

std::string digest_hex(const Digest& d) { return to_hex(d); }

std::optional<Digest> parse_digest(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  auto bytes = from_hex(hex);
  if (!bytes) return std::nullopt;
  Digest d{};
  std::copy(bytes->begin(), bytes->end(), d.begin());
  return d;
}

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  REVIVE_CHECK(ctx_ != nullptr);
  REVIVE_CHECK(EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_sha256(), nullptr) == 1);
}

Sha256::~Sha256() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

void Sha256::update(std::span<const std::byte> data) {
  REVIVE_CHECK(EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data.data(), data.size()) == 1);
}

Digest Sha256::finish() {
  Digest d{};
  unsigned int len = 0;
  REVIVE_CHECK(EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), d.data(), &len) == 1);
  return d;
}

}  // namespace revive
