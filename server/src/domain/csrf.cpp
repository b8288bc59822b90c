#include "domain/csrf.hpp"

#include <sodium.h>

#include "domain/tokens.hpp"

namespace revive::server {

std::string csrf_token(std::string_view session_token) {
  // Another input than the session's own stored hash (token_hash(token)), so a copy of the
  // database does not hold the CSRF tokens either.
  return token_hash("revive-csrf\n" + std::string(session_token));
}

bool csrf_matches(std::string_view session_token, std::string_view presented) {
  if (session_token.empty() || presented.empty()) return false;
  const std::string want = csrf_token(session_token);
  if (presented.size() != want.size()) return false;
  return sodium_memcmp(want.data(), presented.data(), want.size()) == 0;
}

}  // namespace revive::server
