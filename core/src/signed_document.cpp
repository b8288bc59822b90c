#include "revive/signed_document.hpp"

#include <nlohmann/json.hpp>

#include "revive/bounded_json.hpp"
#include "revive/encoding.hpp"
#include "revive/protocol.hpp"

namespace revive {

using json = nlohmann::json;

namespace {

// What "covers" says in a current signature block. A block without it is a legacy one.
constexpr std::string_view kCovers = "kind,body";
// The message prefix: a fixed tag, then the kind, each ended by a newline (neither holds one).
constexpr std::string_view kDomain = "revive-signed-document/2\n";

std::string canonical_text(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// The text without the one trailing newline a document file may end with.
std::string_view without_final_newline(std::string_view text) {
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  return text;
}

bool legacy_allowed(std::string_view kind) { return kind == "certificate"; }

}  // namespace

std::string signed_message(std::string_view kind, std::string_view canonical) {
  std::string m;
  m.reserve(kDomain.size() + kind.size() + 1 + canonical.size());
  m.append(kDomain).append(kind).append("\n").append(canonical);
  return m;
}

std::string sign_canonical(std::string_view kind, std::string_view canonical, const KeyPair& key) {
  const std::string message = signed_message(kind, canonical);
  const auto sig =
      key.sign({reinterpret_cast<const std::uint8_t*>(message.data()), message.size()});
  json s = {{"alg", "ed25519"},
            {"covers", kCovers},
            {"key_id", key_id(key.public_key())},
            {"public_key", to_base64(key.public_key())},
            {"sig", to_base64(sig)}};
  // The canonical text is spliced in verbatim, so the file shows exactly the signed bytes. The
  // kind sorts before "signature" (every kind we use does), so the whole file is canonical.
  return "{\"" + std::string(kind) + "\":" + std::string(canonical) +
         ",\"signature\":" + canonical_text(s) + "}\n";
}

Result<SignedDocument> parse_signed_document(std::string_view text, std::string_view kind,
                                             std::size_t max_bytes) {
  const std::string k(kind);
  if (text.size() > max_bytes) return make_error(Errc::invalid_input, k + " file is too large");
  auto parsed = protocol::parse_object(text);
  if (!parsed)
    return make_error(Errc::corrupt, k + " file is not valid JSON (damaged or not a " + k + ")");
  const json& j = *parsed;
  if (!j.contains(k) || !j.contains("signature"))
    return make_error(Errc::bad_signature, k + " file has no signature (or no " + k + ")");
  if (j.size() != 2)
    return make_error(Errc::bad_signature,
                      k + " file holds more than the " + k + " and its signature");
  // The bytes must be the one canonical form: a duplicate key (which readers resolve
  // differently), reordered keys or added whitespace would let the text say something other
  // than what was signed.
  if (canonical_text(j) != without_final_newline(text)) {
    return make_error(
        Errc::bad_signature,
        k + " file is not in canonical JSON form (duplicate or reordered keys, "
            "whitespace, escapes): refused, signatures cover the canonical form only");
  }
  SignedDocument d;
  d.canonical = canonical_text(j[k]);
  const json& s = j["signature"];
  if (!s.is_object() || !s.contains("alg") || s["alg"] != "ed25519" || !s.contains("public_key") ||
      !s.contains("sig") || !s["public_key"].is_string() || !s["sig"].is_string()) {
    return make_error(Errc::bad_signature,
                      k + " signature block is malformed (need alg ed25519, public_key, sig)");
  }
  if (s.contains("covers") && s["covers"] != kCovers) {
    return make_error(Errc::bad_signature,
                      k + " signature covers something this version does not know");
  }
  d.legacy = !s.contains("covers");
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
  if (d.legacy && !legacy_allowed(kind)) {
    return make_error(Errc::bad_signature,
                      k + " carries a signature that does not cover its kind (made before "
                          "revive-signed-document/2): refused");
  }
  const std::string message = d.legacy ? d.canonical : signed_message(kind, d.canonical);
  if (!verify_signature(trusted,
                        {reinterpret_cast<const std::uint8_t*>(message.data()), message.size()},
                        d.signature)) {
    return make_error(Errc::bad_signature,
                      k + " signature does not match its content (edited after signing, or "
                          "signed as another kind of document?)");
  }
  return {};
}

}  // namespace revive
