#include "domain/operators.hpp"

#include <sodium.h>

#include <algorithm>

#include "domain/tokens.hpp"

namespace revive::server {

namespace {
constexpr std::size_t kTokenIdLength = 16;
constexpr Seconds kCacheTrust = 5;  // seconds a cached token owner is believed without a look

Result<std::string> hash_password(std::string_view password) {
  char hash[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(hash, password.data(), password.size(),
                            crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return make_error(Errc::internal, "argon2id hashing failed (out of memory?)");
  }
  return std::string(hash);
}

// Checked against when the name is unknown, so that answer costs the same argon2id work as a
// wrong password for a real operator and the time taken does not tell which names exist. Its
// password is random and forgotten at once.
const std::string& unknown_name_hash() {
  static const std::string h = [] {
    if (sodium_init() < 0) return std::string();
    std::string secret(32, '\0');
    randombytes_buf(secret.data(), secret.size());
    auto r = hash_password(secret);
    return r ? *r : std::string();
  }();
  return h;
}
}  // namespace

Operators::Operators(DomainContext& ctx, Seconds session_ttl_s)
    : ctx_(ctx), session_ttl_s_(session_ttl_s) {
  (void)unknown_name_hash();  // made now, so the first unknown name is not slower either
}

Result<void> Operators::add(const std::string& name, const std::string& password) {
  if (name.empty() || name.size() > 64)
    return make_error(Errc::invalid_input, "operator name must be 1-64 characters");
  if (password.size() < 8)
    return make_error(Errc::invalid_input, "password must be at least 8 characters");
  REVIVE_ASSIGN(hash, hash_password(password));
  REVIVE_ASSIGN(uow, ctx_.storage().begin());
  REVIVE_ASSIGN(before, ctx_.storage().operators().find(name));
  REVIVE_TRY(ctx_.storage().operators().put(name, hash, ctx_.now()));
  // A new password is how an operator who fears a token leaked takes it back.
  if (before) REVIVE_TRY(ctx_.storage().operators().remove_tokens_of(before->id));
  REVIVE_TRY(uow->commit());
  tokens_.erase_if([&](const auto& v) { return v.first.operator_name == name; });
  return {};
}

Result<std::int64_t> Operators::count() { return ctx_.storage().operators().count(); }

Result<std::string> Operators::login(const std::string& name, const std::string& password) {
  return login_as(name, password, "session");
}

Result<std::string> Operators::login_browser(const std::string& name, const std::string& password) {
  return login_as(name, password, "browser");
}

Result<std::string> Operators::login_as(const std::string& name, const std::string& password,
                                        const std::string& kind) {
  REVIVE_ASSIGN(op, ctx_.storage().operators().find(name));
  const Error denied = make_error(Errc::unauthorized, "wrong operator name or password");
  if (!op) {
    const std::string& h = unknown_name_hash();
    if (crypto_pwhash_str_verify(h.c_str(), password.data(), password.size()) == 0) return denied;
    return denied;
  }
  if (crypto_pwhash_str_verify(op->password_hash.c_str(), password.data(), password.size()) != 0)
    return denied;
  const std::string token = new_token();
  const Seconds now = ctx_.now();
  REVIVE_TRY(ctx_.storage().operators().add_token(
      OperatorTokenRow{token_hash(token), op->id, kind, "", now, now + session_ttl_s_}));
  return token;
}

Result<std::string> Operators::create_api_token(const std::string& operator_name,
                                                const std::string& label, Seconds ttl_s) {
  if (ttl_s < 1 || ttl_s > 366L * 86400)
    return make_error(Errc::invalid_input, "an API token lives from 1 second to a year");
  return add_token(operator_name, "api", label, ttl_s);
}

Result<std::string> Operators::create_kiosk_token(const std::string& operator_name,
                                                  const std::string& label) {
  // No expiry: a TV on the workshop wall shows the link for months; it is read-only and
  // revoked by hand (or by its operator's new password).
  return add_token(operator_name, "kiosk", label, std::nullopt);
}

Result<std::string> Operators::add_token(const std::string& operator_name, const std::string& kind,
                                         const std::string& label, std::optional<Seconds> ttl_s) {
  if (label.size() > 200)
    return make_error(Errc::invalid_input, "a token label is at most 200 characters");
  REVIVE_ASSIGN(op, ctx_.storage().operators().find(operator_name));
  if (!op) return make_error(Errc::not_found, "no operator named \"" + operator_name + "\"");
  const std::string token = new_token();
  const Seconds now = ctx_.now();
  const std::optional<Seconds> expires =
      ttl_s ? std::optional<Seconds>(now + *ttl_s) : std::nullopt;
  REVIVE_TRY(ctx_.storage().operators().add_token(
      OperatorTokenRow{token_hash(token), op->id, kind, label, now, expires}));
  return token;
}

Result<std::vector<OperatorTokenView>> Operators::tokens(const std::string& operator_name) {
  std::vector<OperatorTokenView> out;
  REVIVE_ASSIGN(rows, ctx_.storage().operators().tokens());
  for (const auto& r : rows) {
    if (r.operator_name != operator_name) continue;
    out.push_back(OperatorTokenView{r.token_hash.substr(0, kTokenIdLength), r.kind, r.label,
                                    r.created_at, r.expires_at});
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.created_at > b.created_at; });
  return out;
}

Result<void> Operators::revoke(const std::string& operator_name, const std::string& id) {
  const Error none = make_error(Errc::not_found, "you have no token with id \"" + id + "\"");
  if (id.size() != kTokenIdLength || id.find_first_not_of("0123456789abcdef") != std::string::npos)
    return none;
  REVIVE_ASSIGN(uow, ctx_.storage().begin());
  REVIVE_ASSIGN(rows, ctx_.storage().operators().tokens());
  std::size_t gone = 0;
  for (const auto& r : rows) {
    // Only the asker's own tokens: an id names a hash prefix, never another operator's token.
    if (r.operator_name != operator_name || !r.token_hash.starts_with(id)) continue;
    REVIVE_TRY(ctx_.storage().operators().remove_token(r.token_hash));
    ++gone;
  }
  REVIVE_TRY(uow->commit());
  tokens_.erase_if([&](const auto& v) { return v.first.operator_name == operator_name; });
  if (gone == 0) return none;
  return {};
}

Result<void> Operators::forget_expired_tokens() {
  REVIVE_ASSIGN(uow, ctx_.storage().begin());
  REVIVE_TRY(ctx_.storage().operators().remove_expired(ctx_.now()));
  return uow->commit();
}

Result<OperatorTokenOwner> Operators::owner_of(std::string_view token) {
  const std::string hash = token_hash(token);
  const Seconds now = ctx_.now();
  std::optional<OperatorTokenOwner> owner;
  if (auto cached = tokens_.find(hash); cached && now - cached->second < kCacheTrust)
    owner = cached->first;
  if (!owner) {
    REVIVE_ASSIGN(stored, ctx_.storage().operators().token_owner(hash));
    if (!stored) {
      tokens_.erase(hash);
      return make_error(Errc::unauthorized, "unknown operator token");
    }
    owner = *stored;
    tokens_.put(hash, {*owner, now});
  }
  if (owner->expires_at && *owner->expires_at < now)
    return make_error(Errc::unauthorized, "token expired: log in again (or make a new API token)");
  return *owner;
}

Result<std::string> Operators::authenticate(std::string_view token) {
  REVIVE_ASSIGN(owner, owner_of(token));
  // Only the kinds that are an operator's credential (a kiosk link is not, and a kind added
  // later is not one until it is named here).
  if (owner.kind != "session" && owner.kind != "api")
    return make_error(Errc::unauthorized, "unknown operator token");
  return owner.operator_name;
}

Result<std::string> Operators::authenticate_browser(std::string_view token) {
  REVIVE_ASSIGN(owner, owner_of(token));
  if (owner.kind != "browser") return make_error(Errc::unauthorized, "not a browser session");
  return owner.operator_name;
}

Result<void> Operators::logout_browser(std::string_view token) {
  const Error none = make_error(Errc::not_found, "no such browser session");
  auto owner = owner_of(token);
  if (!owner || owner->kind != "browser") return none;
  const std::string hash = token_hash(token);
  REVIVE_ASSIGN(uow, ctx_.storage().begin());
  REVIVE_TRY(ctx_.storage().operators().remove_token(hash));
  REVIVE_TRY(uow->commit());
  tokens_.erase(hash);
  return {};
}

Result<std::string> Operators::authenticate_kiosk(std::string_view token) {
  REVIVE_ASSIGN(owner, owner_of(token));
  if (owner.kind != "kiosk") return make_error(Errc::unauthorized, "not a kiosk link");
  return token_hash(token).substr(0, kTokenIdLength);
}

}  // namespace revive::server
