#include "revive/sha256.hpp"

#include <openssl/evp.h>

#include <memory>

#include "revive/encoding.hpp"
#include "revive/error.hpp"

namespace revive {

namespace {
// OpenSSL 3 looks EVP_sha256() up in its provider tables (locks included) at every use; for
// the short inputs the server hashes per request (tokens) that look-up cost more than the
// hash (issue 19's profile). Fetched once, kept for the process.
const EVP_MD* sha256_md() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  REVIVE_CHECK(md != nullptr);
  return md;
}

struct CtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
}  // namespace

Digest sha256(std::span<const std::byte> data) {
  thread_local const std::unique_ptr<EVP_MD_CTX, CtxFree> ctx(EVP_MD_CTX_new());
  REVIVE_CHECK(ctx != nullptr);
  Digest d{};
  unsigned int len = 0;
  REVIVE_CHECK(EVP_DigestInit_ex2(ctx.get(), sha256_md(), nullptr) == 1);
  REVIVE_CHECK(EVP_DigestUpdate(ctx.get(), data.data(), data.size()) == 1);
  REVIVE_CHECK(EVP_DigestFinal_ex(ctx.get(), d.data(), &len) == 1);
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
  REVIVE_CHECK(EVP_DigestInit_ex2(static_cast<EVP_MD_CTX*>(ctx_), sha256_md(), nullptr) == 1);
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
