#include "cert_commands.hpp"

#include <fmt/core.h>

#include "certificate_pdf.hpp"
#include "revive/file_util.hpp"
#include "revive/signing.hpp"

namespace revive::ctl {

int cert_verify(const std::string& file, const std::string& pubkey_file) {
  if (pubkey_file.empty()) {
    fmt::print(
        stderr,
        "revivectl: error: --pubkey KEYFILE is required (the workshop server's public key)\n");
    return 2;
  }
  auto key = load_public_key(pubkey_file);
  if (!key) {
    fmt::print(stderr, "revivectl: error: {}\n", key.error().message);
    return 2;
  }
  auto contents = read_small_file(file, 16 << 20);
  if (!contents) {
    fmt::print(stderr, "revivectl: error: {}\n", contents.error().message);
    return 2;
  }
  auto v = cert::verify_file_contents(*contents, *key);
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
