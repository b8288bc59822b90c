#include "revive/signed_document.hpp"

#include <nlohmann/json.hpp>

#include "revive/bounded_json.hpp"
#include "revive/encoding.hpp"

namespace revive {

using json = nlohmann::json;

std::string sign_canonical(std::string_view kind, std::string_view canonical, const KeyPair& key) {
  const auto sig =
      key.sign({reinterpret_cast<const std::uint8_t*>(canonical.data()), canonical.size()});
  json s = {{"alg", "ed25519"},
            {"key_id", key_id(key.public_key())},
            {"public_key", to_base64(key.public_key())},
            {"sig", to_base64(sig)}};
  // The canonical text is spliced in verbatim, so the file shows exactly the signed bytes.
  return "{\"" + std::string(kind) + "\":" + std::string(canonical) + ",\"signature\":" + s.dump() +
         "}\n";
}

Result<SignedDocument> parse_signed_document(std::string_view text, std::string_view kind,
                                             std::size_t max_bytes) {
  const std::string k(kind);
  if (text.size() > max_bytes) return make_error(Errc::invalid_input, k + " file is too large");
  json j = parse_json_bounded(text);
  if (j.is_discarded() || !j.is_object())
    return make_error(Errc::corrupt, k + " file is not valid JSON (damaged or not a " + k + ")");
  if (!j.contains(k) || !j.contains("signature"))
    return make_error(Errc::bad_signature, k + " file has no signature (or no " + k + ")");
  SignedDocument d;
  d.canonical = j[k].dump(-1, ' ', false, json::error_handler_t::replace);
  const json& s = j["signature"];
  if (!s.is_object() || !s.contains("alg") || s["alg"] != "ed25519" || !s.contains("public_key") ||
      !s.contains("sig") || !s["public_key"].is_string() || !s["sig"].is_string()) {
    return make_error(Errc::bad_signature,
                      k + " signature block is malformed (need alg ed25519, public_key, sig)");
  }
  auto pk = from_base64(s["public_key"].get<std::string>());
  auto sig = from_base64(s["sig"].get<std::string>());
  if (!pk || pk->size() != 32 || !sig || sig->size() != 64) {
    return make_error(Errc::bad_signature, k + " signature or public key has the wrong size");
  }
  std::copy(pk->begin(), pk->end(), d.signer.begin());
  std::copy(sig->begin(), sig->end(), d.signature.begin());
  return d;
}

Result<void> check_document(const SignedDocument& d, const PublicKey& trusted,
                            std::string_view kind) {
  const std::string k(kind);
  if (d.signer != trusted) {
    return make_error(Errc::bad_signature, k + " is signed by key " + key_id(d.signer) +
                                               ", not by the trusted key " + key_id(trusted));
  }
  if (!verify_signature(
          trusted, {reinterpret_cast<const std::uint8_t*>(d.canonical.data()), d.canonical.size()},
          d.signature)) {
    return make_error(Errc::bad_signature,
                      k + " signature does not match its content (edited after signing?)");
  }
  return {};
}

}  // namespace revive
