#include "revive/signing.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "revive/encoding.hpp"
#include "revive/file_util.hpp"
#include "revive/sha256.hpp"

namespace revive {

namespace {
constexpr std::string_view kKeyPrefix = "revive-ed25519 ";

struct SodiumInit {
  SodiumInit() { REVIVE_CHECK(sodium_init() >= 0); }
};
void ensure_sodium() { static SodiumInit init; }
}  // namespace

std::string key_id(const PublicKey& pk) {
  auto d = sha256(std::as_bytes(std::span(pk)));
  return to_hex(std::span(d).first(8));
}

std::string public_key_to_text(const PublicKey& pk) {
  return std::string(kKeyPrefix) + to_base64(pk) + "\n";
}

Result<PublicKey> public_key_from_text(std::string_view text) {
  auto trim = [](std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
  };
  text = trim(text);
  if (!text.starts_with(kKeyPrefix)) {
    return make_error(Errc::invalid_input,
                      "not a Revive public key (expected \"revive-ed25519 <base64>\")");
  }
  auto bytes = from_base64(trim(text.substr(kKeyPrefix.size())));
  if (!bytes || bytes->size() != 32) {
    return make_error(Errc::invalid_input, "public key is not 32 bytes of base64");
  }
  PublicKey pk{};
  std::copy(bytes->begin(), bytes->end(), pk.begin());
  return pk;
}

Result<PublicKey> load_public_key(const std::filesystem::path& path) {
  auto text = read_small_file(path, 4096);
  if (!text) return text.error();
  auto pk = public_key_from_text(*text);
  if (!pk) return pk.error().with_context(path.string());
  return pk;
}

KeyPair KeyPair::generate() {
  ensure_sodium();
  KeyPair kp;
  crypto_sign_ed25519_keypair(kp.pk_.data(), kp.sk_.data());
  return kp;
}

Result<KeyPair> KeyPair::load_or_create(const std::filesystem::path& dir) {
  ensure_sodium();
  const auto sk_path = dir / "ed25519.key";
  const auto pk_path = dir / "ed25519.pub";
  std::error_code ec;
  if (!std::filesystem::exists(sk_path, ec)) {
    if (std::filesystem::exists(pk_path, ec)) {
      return make_error(Errc::not_found,
                        sk_path.string() + " is missing but " + pk_path.string() +
                            " exists: refusing to create a new key that would not match");
    }
    std::filesystem::create_directories(dir, ec);
    if (ec) return make_error(Errc::io, "create " + dir.string() + ": " + ec.message());
    KeyPair kp = generate();
    // Concurrent first use: O_EXCL in write_file_atomic's rename target is not exclusive, so
    // create the secret with link(2) semantics: write temp, then link; losers load the winner's.
    const auto tmp = dir / unique_tmp_name("ed25519.key");
    {
      auto fd = open_file(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
      if (!fd) return fd.error();
      if (auto r = write_all(fd->get(), std::as_bytes(std::span(kp.sk_)), tmp.string()); !r) {
        ::unlink(tmp.c_str());
        return r.error();
      }
      if (::fsync(fd->get()) != 0) {
        ::unlink(tmp.c_str());
        return errno_error(errno, "fsync " + tmp.string());
      }
    }
    const int linked = ::link(tmp.c_str(), sk_path.c_str());
    const int link_errno = errno;
    ::unlink(tmp.c_str());
    if (linked == 0) {
      const auto text = public_key_to_text(kp.pk_);
      REVIVE_TRY(write_file_atomic(pk_path, as_bytes(text), dir));
      REVIVE_TRY(fsync_dir(dir));
      return kp;
    }
    if (link_errno != EEXIST) return errno_error(link_errno, "create " + sk_path.string());
  }
  // A secret key others could read is refused, not used: whoever copied it can sign jobs for
  // every laptop and certificates for every donor (issue 15). It is created 0600.
  REVIVE_TRY(require_owner_only(sk_path, "signing key"));
  auto data = read_small_file(sk_path, 4096);
  if (!data) return data.error();
  if (data->size() != 64) {
    return make_error(Errc::corrupt, sk_path.string() + " is not a 64-byte ed25519 secret key");
  }
  KeyPair kp;
  std::memcpy(kp.sk_.data(), data->data(), 64);
  crypto_sign_ed25519_sk_to_pk(kp.pk_.data(), kp.sk_.data());
  sodium_memzero(data->data(), data->size());
  if (!std::filesystem::exists(pk_path, ec)) {
    REVIVE_TRY(write_file_atomic(pk_path, as_bytes(public_key_to_text(kp.pk_)), dir));
  }
  return kp;
}

Signature KeyPair::sign(std::span<const std::uint8_t> message) const {
  Signature sig{};
  crypto_sign_ed25519_detached(sig.data(), nullptr, message.data(), message.size(), sk_.data());
  return sig;
}

bool verify_signature(const PublicKey& pk, std::span<const std::uint8_t> message,
                      const Signature& sig) {
  ensure_sodium();
  return crypto_sign_ed25519_verify_detached(sig.data(), message.data(), message.size(),
                                             pk.data()) == 0;
}

}  // namespace revive
