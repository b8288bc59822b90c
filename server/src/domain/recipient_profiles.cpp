#include "domain/recipient_profiles.hpp"

#include "domain/recipient_profile.hpp"

namespace revive::server {

namespace {

Result<void> check_name(const std::string& name) {
  if (name.empty() || name.size() > 64)
    return make_error(Errc::invalid_input, "name: a profile's name must be 1-64 characters");
  for (const char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      return make_error(Errc::invalid_input, "name: a profile's name must be one line");
  }
  return {};
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "\"" : ", \"") + n + "\"";
  return out;
}

}  // namespace

Result<Json> RecipientProfiles::list() {
  RecipientProfileRepository& repo = ctx_.storage().recipient_profiles();
  REVIVE_ASSIGN(all, repo.list());
  Json out = Json::array();
  for (auto& p : all) {
    REVIVE_ASSIGN(users, repo.batches_using(p.id));
    out.push_back({{"name", p.name}, {"fields", std::move(p.fields)}, {"batches", users}});
  }
  return out;
}

Result<void> RecipientProfiles::put(const std::string& name, const Json& fields) {
  REVIVE_TRY(check_name(name));
  REVIVE_ASSIGN(clean, check_recipient_profile(fields));
  REVIVE_ASSIGN(id, ctx_.storage().recipient_profiles().put(name, clean, ctx_.now()));
  (void)id;
  return {};
}

Result<void> RecipientProfiles::remove(const std::string& name) {
  RecipientProfileRepository& repo = ctx_.storage().recipient_profiles();
  REVIVE_ASSIGN(uow, ctx_.storage().begin());
  REVIVE_ASSIGN(found, repo.find(name));
  if (!found)
    return make_error(Errc::not_found, "recipient profile \"" + name + "\" does not exist");
  REVIVE_ASSIGN(users, repo.batches_using(found->id));
  if (!users.empty()) {
    return make_error(Errc::conflict, "recipient profile \"" + name + "\" is used by batch" +
                                          (users.size() > 1 ? "es " : " ") + joined(users) +
                                          ": give them another profile first");
  }
  REVIVE_TRY(repo.remove(found->id));
  return uow->commit();
}

}  // namespace revive::server
