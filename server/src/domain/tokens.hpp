#pragma once
// Bearer tokens: random, URL-safe, and stored only as their SHA-256 (a copy of the database
// does not let anyone act as an agent or an operator).

#include <string>
#include <string_view>

namespace revive::server {

/// 32 random bytes, base64url without padding.
std::string new_token();
/// The hex SHA-256 under which a token is stored and looked up.
std::string token_hash(std::string_view token);

}  // namespace revive::server
