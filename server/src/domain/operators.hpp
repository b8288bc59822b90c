#pragma once
// Operator accounts (argon2id password hashes) and their tokens: sessions from a login (12 h)
// and API tokens for scripts (90 days unless asked otherwise). An operator lists and revokes
// their own tokens; a new password revokes them all.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/context.hpp"
#include "domain/token_cache.hpp"

namespace revive::server {

/// A token as its owner sees it (never the token itself).
struct OperatorTokenView {
  std::string id;  ///< the first 16 hex digits of the token's hash: names it for revoke()
  std::string kind;
  std::string label;
  Seconds created_at = 0;
  std::optional<Seconds> expires_at;
};

class Operators {
 public:
  static constexpr Seconds kApiTokenTtl = 90 * 86400;

  Operators(DomainContext& ctx, Seconds session_ttl_s = 12 * 3600);

  /// Creates an operator or sets a new password (which revokes every token of theirs).
  /// invalid_input for a name outside 1-64 characters or a password under 8; internal when
  /// hashing fails (out of memory).
  Result<void> add(const std::string& name, const std::string& password);
  /// How many operators exist; io on a storage failure.
  Result<std::int64_t> count();
  /// A session token for a correct name and password; unauthorized otherwise (one message for
  /// both, so names cannot be probed).
  Result<std::string> login(const std::string& name, const std::string& password);
  /// A new API token for the operator, valid `ttl_s` seconds (1 s to a year); not_found for
  /// an unknown name, invalid_input for a lifetime out of range.
  Result<std::string> create_api_token(const std::string& operator_name, const std::string& label,
                                       Seconds ttl_s = kApiTokenTtl);
  /// The operator's tokens, sessions and API tokens, newest first; io on a storage failure.
  Result<std::vector<OperatorTokenView>> tokens(const std::string& operator_name);
  /// Revokes the operator's token named `id` (OperatorTokenView::id); not_found when they have
  /// none by that id.
  Result<void> revoke(const std::string& operator_name, const std::string& id);
  /// The operator a session or API token belongs to; unauthorized for an unknown token or an
  /// expired session.
  Result<std::string> authenticate(std::string_view token);
  /// Deletes the tokens past their expiry (refused anyway, but kept in the list and the
  /// database until now): the server's retention tick calls it.
  Result<void> forget_expired_tokens();

 private:
  DomainContext& ctx_;
  Seconds session_ttl_s_;
  /// token hash -> (owner, when read from storage). Entries are trusted for a few seconds only:
  /// `revive-server operator add` changes a password from another process, and the tokens it
  /// revokes must stop working in this one too.
  TokenCache<std::pair<OperatorTokenOwner, Seconds>> tokens_;
};

}  // namespace revive::server
