#include "cert_commands.hpp"

#include <fmt/core.h>

#include "certificate_pdf.hpp"
#include "revive/file_util.hpp"
#include "revive/signing.hpp"

namespace revive::ctl {

namespace {

// The certificate checked against each trusted key in turn (a workshop has had two keys for
// certificates when it signed some with the store key before the certificate key existed).
Result<cert::Verified> verify_with_any(const std::string& contents,
                                       const std::vector<PublicKey>& keys) {
  std::string why;
  for (const auto& key : keys) {
    auto v = cert::verify_file_contents(contents, key);
    if (v) return v;
    why += (why.empty() ? "" : "; ") + v.error().message;
  }
  return make_error(Errc::bad_signature, why);
}

}  // namespace

int cert_verify(const std::string& file, const std::vector<std::string>& pubkey_files) {
  if (pubkey_files.empty()) {
    fmt::print(stderr,
               "revivectl: error: --pubkey KEYFILE is required (the workshop server's "
               "certificate key)\n");
    return 2;
  }
  std::vector<PublicKey> keys;
  for (const auto& f : pubkey_files) {
    auto key = load_public_key(f);
    if (!key) {
      fmt::print(stderr, "revivectl: error: {}\n", key.error().message);
      return 2;
    }
    keys.push_back(*key);
  }
  auto contents = read_small_file(file, 16 << 20);
  if (!contents) {
    fmt::print(stderr, "revivectl: error: {}\n", contents.error().message);
    return 2;
  }
  auto v = verify_with_any(*contents, keys);
  if (!v) {
    fmt::print(stderr, "NOT AUTHENTIC: {}: {}\n", file, v.error().message);
    return 1;
  }
  const auto& b = v->body;
  auto s = [](const nlohmann::json& j, const char* k) {
    return j.is_object() && j.contains(k) && j[k].is_string() ? j[k].get<std::string>()
                                                              : std::string();
  };
  fmt::print("authentic {} certificate {}\n", s(b, "kind"), s(b, "certificate_id"));
  fmt::print("  signed by key {} at {}, workshop {}\n", v->key_id, s(b, "issued_at"),
             s(b, "workshop"));
  const auto dev = b.value("device", nlohmann::json::object());
  fmt::print("  computer {} {} serial {}\n", s(dev, "vendor"), s(dev, "model"), s(dev, "serial"));
  if (s(b, "kind") == "drive") {
    const auto drive = b.value("drive", nlohmann::json::object());
    const auto san = b.value("sanitization", nlohmann::json::object());
    fmt::print("  drive {} serial {}: {} ({})\n", s(drive, "model"), s(drive, "serial"),
               s(san, "method"), s(san, "nist_level"));
  }
  fmt::print("  result: {}\n", s(b, "result"));
  return 0;
}

}  // namespace revive::ctl
