#include "domain/operators.hpp"

#include <sodium.h>

#include "domain/tokens.hpp"

namespace revive::server {

Result<void> Operators::add(const std::string& name, const std::string& password) {
  if (name.empty() || name.size() > 64)
    return make_error(Errc::invalid_input, "operator name must be 1-64 characters");
  if (password.size() < 8)
    return make_error(Errc::invalid_input, "password must be at least 8 characters");
  char hash[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(hash, password.data(), password.size(),
                            crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return make_error(Errc::internal, "argon2id hashing failed (out of memory?)");
  }
  return ctx_.storage().operators().put(name, hash, ctx_.now());
}

Result<std::int64_t> Operators::count() { return ctx_.storage().operators().count(); }

Result<std::string> Operators::login(const std::string& name, const std::string& password) {
  REVIVE_ASSIGN(op, ctx_.storage().operators().find(name));
  const Error denied = make_error(Errc::unauthorized, "wrong operator name or password");
  if (!op) return denied;
  if (crypto_pwhash_str_verify(op->password_hash.c_str(), password.data(), password.size()) != 0)
    return denied;
  const std::string token = new_token();
  const Seconds now = ctx_.now();
  REVIVE_TRY(ctx_.storage().operators().add_token(
      OperatorTokenRow{token_hash(token), op->id, "session", "", now, now + session_ttl_s_}));
  return token;
}

Result<std::string> Operators::create_api_token(const std::string& operator_name,
                                                const std::string& label) {
  REVIVE_ASSIGN(op, ctx_.storage().operators().find(operator_name));
  if (!op) return make_error(Errc::not_found, "no operator named \"" + operator_name + "\"");
  const std::string token = new_token();
  REVIVE_TRY(ctx_.storage().operators().add_token(
      OperatorTokenRow{token_hash(token), op->id, "api", label, ctx_.now(), std::nullopt}));
  return token;
}

Result<std::string> Operators::authenticate(std::string_view token) {
  const std::string hash = token_hash(token);
  std::optional<OperatorTokenOwner> owner = tokens_.find(hash);
  if (!owner) {
    REVIVE_ASSIGN(stored, ctx_.storage().operators().token_owner(hash));
    if (!stored) return make_error(Errc::unauthorized, "unknown operator token");
    owner = *stored;
    tokens_.put(hash, *owner);
  }
  if (owner->expires_at && *owner->expires_at < ctx_.now())
    return make_error(Errc::unauthorized, "session expired: log in again");
  return owner->operator_name;
}

}  // namespace revive::server
