#include "revive/tls_pin.hpp"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>
#include <vector>

#include "revive/encoding.hpp"
#include "revive/sha256.hpp"

namespace revive {

Result<std::string> public_key_pin(std::string_view pem) {
  const auto fail = [] {
    return make_error(Errc::invalid_input, "no PEM certificate to take the public key from");
  };
  if (pem.size() > (1 << 20)) return fail();
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  if (!bio) return fail();
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free);
  if (!cert) return fail();
  const X509_PUBKEY* spki = X509_get_X509_PUBKEY(cert.get());
  unsigned char* der = nullptr;
  const int len = spki ? i2d_X509_PUBKEY(spki, &der) : -1;
  if (len <= 0) return fail();
  const Digest d =
      sha256(std::span(reinterpret_cast<const std::byte*>(der), static_cast<std::size_t>(len)));
  OPENSSL_free(der);
  return "sha256//" + to_base64(d);
}

bool is_public_key_pin(std::string_view text) {
  constexpr std::string_view kPrefix = "sha256//";
  if (!text.starts_with(kPrefix) || text.size() != kPrefix.size() + 44) return false;
  auto bytes = from_base64(text.substr(kPrefix.size()));
  return bytes && bytes->size() == 32;
}

}  // namespace revive
