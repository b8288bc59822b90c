#include "http/tls_identity.hpp"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <memory>

#include "revive/file_util.hpp"
#include "revive/tls_pin.hpp"

namespace revive::server {

namespace fs = std::filesystem;

namespace {

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;

Error openssl_error(const std::string& what) {
  return make_error(Errc::internal, "TLS certificate: " + what + " failed (OpenSSL)");
}

// This host's name when it can stand in a certificate's DNS name; "" otherwise.
std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return {};
  std::string h(buf);
  const bool ok = !h.empty() && h.size() < 64 && std::all_of(h.begin(), h.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
  });
  return ok ? h : std::string();
}

bool add_extension(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str());
  if (!ext) return false;
  const bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

Result<std::string> to_pem(const std::function<int(BIO*)>& write) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || write(bio.get()) != 1) return openssl_error("PEM encoding");
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

// Names and extensions of the self-signed certificate; false when OpenSSL refuses one.
bool describe(X509* cert) {
  const std::string host = host_name();
  X509_NAME* name = X509_get_subject_name(cert);
  const std::string cn = host.empty() ? std::string("revive-server") : host;
  const auto text = [](const std::string& s) {
    return reinterpret_cast<const unsigned char*>(s.c_str());
  };
  if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, text("Revive workshop server"), -1, -1,
                                 0) != 1 ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, text(cn), -1, -1, 0) != 1 ||
      X509_set_issuer_name(cert, name) != 1)
    return false;
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  std::string san = "DNS:localhost,IP:127.0.0.1,IP:::1";
  if (!host.empty() && host != "localhost") san = "DNS:" + host + "," + san;
  return add_extension(cert, &ctx, NID_basic_constraints, "critical,CA:FALSE") &&
         add_extension(cert, &ctx, NID_key_usage, "critical,digitalSignature") &&
         add_extension(cert, &ctx, NID_ext_key_usage, "serverAuth") &&
         add_extension(cert, &ctx, NID_subject_key_identifier, "hash") &&
         add_extension(cert, &ctx, NID_subject_alt_name, san);
}

// A fresh key and a self-signed certificate for it, both as PEM.
Result<std::pair<std::string, std::string>> make_self_signed() {
  PkeyPtr key(EVP_EC_gen("P-256"));
  X509Ptr cert(X509_new());
  BnPtr serial(BN_new());
  if (!key || !cert || !serial) return openssl_error("key generation");
  constexpr long kTenYears = 10L * 365 * 24 * 3600;
  if (X509_set_version(cert.get(), 2) != 1 ||
      BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) ||
      !X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) ||
      !X509_gmtime_adj(X509_getm_notAfter(cert.get()), kTenYears) ||
      X509_set_pubkey(cert.get(), key.get()) != 1 || !describe(cert.get()) ||
      X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0)
    return openssl_error("self-signing");
  auto cert_pem = to_pem([&](BIO* b) { return PEM_write_bio_X509(b, cert.get()); });
  if (!cert_pem) return cert_pem.error();
  auto key_pem = to_pem([&](BIO* b) {
    return PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  });
  if (!key_pem) return key_pem.error();
  return std::make_pair(std::move(*cert_pem), std::move(*key_pem));
}

}  // namespace

Result<TlsIdentity> ensure_tls_identity(const fs::path& dir, const fs::path& cert,
                                        const fs::path& key) {
  TlsIdentity id;
  if (!cert.empty() || !key.empty()) {
    if (cert.empty() || key.empty())
      return make_error(Errc::invalid_input,
                        "a TLS certificate needs its key, and a key its "
                        "certificate (give both files)");
    id.cert_file = cert;
    id.key_file = key;
  } else {
    id.cert_file = dir / "cert.pem";
    id.key_file = dir / "key.pem";
    std::error_code ec;
    if (!fs::exists(id.cert_file, ec) && !fs::exists(id.key_file, ec)) {
      fs::create_directories(dir, ec);
      if (ec) return make_error(Errc::io, "create " + dir.string() + ": " + ec.message());
      ::chmod(dir.c_str(), 0700);
      auto made = make_self_signed();
      if (!made) return made.error();
      // The key first: a certificate without its key would stop the next start.
      REVIVE_TRY(write_file_atomic(id.key_file, as_bytes(made->second), dir, 0600));
      REVIVE_TRY(write_file_atomic(id.cert_file, as_bytes(made->first), dir, 0644));
      id.generated = true;
    }
  }
  REVIVE_TRY(require_owner_only(id.key_file, "TLS key"));
  auto pem = read_small_file(id.cert_file, 1 << 20);
  if (!pem) return pem.error();
  auto pin = public_key_pin(*pem);
  if (!pin) return pin.error().with_context("TLS certificate " + id.cert_file.string());
  id.pin = *pin;
  return id;
}

}  // namespace revive::server
