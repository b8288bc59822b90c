#pragma once
// Operator accounts (argon2id password hashes) and their tokens: sessions from a login (12 h)
// and API tokens for scripts (no expiry).

#include <cstdint>
#include <string>
#include <string_view>

#include "domain/context.hpp"
#include "domain/token_cache.hpp"

namespace revive::server {

class Operators {
 public:
  Operators(DomainContext& ctx, Seconds session_ttl_s = 12 * 3600)
      : ctx_(ctx), session_ttl_s_(session_ttl_s) {}

  /// Creates an operator or sets a new password. invalid_input for a name outside 1-64
  /// characters or a password under 8; internal when hashing fails (out of memory).
  Result<void> add(const std::string& name, const std::string& password);
  /// How many operators exist; io on a storage failure.
  Result<std::int64_t> count();
  /// A session token for a correct name and password; unauthorized otherwise (one message for
  /// both, so names cannot be probed).
  Result<std::string> login(const std::string& name, const std::string& password);
  /// A new API token for the operator; not_found for an unknown name.
  Result<std::string> create_api_token(const std::string& operator_name, const std::string& label);
  /// The operator a session or API token belongs to; unauthorized for an unknown token or an
  /// expired session.
  Result<std::string> authenticate(std::string_view token);

 private:
  DomainContext& ctx_;
  Seconds session_ttl_s_;
  TokenCache<OperatorTokenOwner> tokens_;  ///< token hash -> owner
};

}  // namespace revive::server
