#pragma once
// Operator accounts (argon2id password hashes) and their tokens: sessions from a login (12 h),
// API tokens for scripts (90 days unless asked otherwise), kiosk tokens (the wall screen's
// link, read-only, until revoked) and browser sessions (the operator pages' cookie, as long as
// a session). An operator lists and revokes their own tokens; a new password revokes them all.
// A kiosk token is never an operator's credential: authenticate() refuses it, and
// authenticate_kiosk() takes nothing else. A browser session is honoured only from its cookie
// with a CSRF token beside it (authenticate_browser, csrf.hpp), never as a bearer token: a page
// script never sees it (HttpOnly), so it cannot leak into one.

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
  static constexpr Seconds kApiTokenTtl = 90L * 86400;

  Operators(DomainContext& ctx, Seconds session_ttl_s = 12L * 3600);

  /// Creates an operator or sets a new password (which revokes every token of theirs).
  /// invalid_input for a name outside 1-64 characters or a password under 8; internal when
  /// hashing fails (out of memory).
  Result<void> add(const std::string& name, const std::string& password);
  /// How many operators exist; io on a storage failure.
  Result<std::int64_t> count();
  /// A session token for a correct name and password; unauthorized otherwise (one message for
  /// both, so names cannot be probed).
  Result<std::string> login(const std::string& name, const std::string& password);
  /// A browser session (kind "browser") for a correct name and password, valid as long as a
  /// login's session; unauthorized otherwise (the same message as login()).
  Result<std::string> login_browser(const std::string& name, const std::string& password);
  /// The operator a browser session belongs to; unauthorized for an unknown, expired or
  /// revoked session and for any other kind of token.
  Result<std::string> authenticate_browser(std::string_view token);
  /// Ends a browser session (logout); not_found when it is no (longer a) browser session.
  Result<void> logout_browser(std::string_view token);
  /// How long a login's session and a browser session live, in seconds.
  Seconds session_ttl() const { return session_ttl_s_; }
  /// A new API token for the operator, valid `ttl_s` seconds (1 s to a year); not_found for
  /// an unknown name, invalid_input for a lifetime out of range.
  Result<std::string> create_api_token(const std::string& operator_name, const std::string& label,
                                       Seconds ttl_s = kApiTokenTtl);
  /// A new kiosk token: it opens the wall screen (read-only) and nothing else, until revoked;
  /// not_found for an unknown operator, invalid_input for a label over 200 characters.
  Result<std::string> create_kiosk_token(const std::string& operator_name,
                                         const std::string& label);
  /// The id (OperatorTokenView::id) of a kiosk token; unauthorized for any other token.
  Result<std::string> authenticate_kiosk(std::string_view token);
  /// The operator's tokens (sessions, API and kiosk tokens), newest first; io on a storage failure.
  Result<std::vector<OperatorTokenView>> tokens(const std::string& operator_name);
  /// Revokes the operator's token named `id` (OperatorTokenView::id); not_found when they have
  /// none by that id.
  Result<void> revoke(const std::string& operator_name, const std::string& id);
  /// The operator a session or API token belongs to; unauthorized for an unknown token, an
  /// expired one, or a kiosk token.
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
  /// The token's owner (cached for a few seconds), or unauthorized when unknown or expired.
  Result<OperatorTokenOwner> owner_of(std::string_view token);
  /// A token of `kind` ("session" or "browser") for a correct name and password.
  Result<std::string> login_as(const std::string& name, const std::string& password,
                               const std::string& kind);
  Result<std::string> add_token(const std::string& operator_name, const std::string& kind,
                                const std::string& label, std::optional<Seconds> ttl_s);
};

}  // namespace revive::server
