#include "domain/tokens.hpp"

#include <sodium.h>

#include <cstdint>

#include "revive/encoding.hpp"
#include "revive/sha256.hpp"

namespace revive::server {

std::string new_token() {
  std::uint8_t b[32];
  randombytes_buf(b, sizeof b);
  std::string s = to_base64(b);
  for (char& c : s) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!s.empty() && s.back() == '=') s.pop_back();
  return s;
}

std::string token_hash(std::string_view token) {
  return digest_hex(sha256({reinterpret_cast<const std::byte*>(token.data()), token.size()}));
}

}  // namespace revive::server
