#pragma once
// Named recipient profiles (issue 16, the settings page): a workshop keeps a few ("school NL",
// "library FR") and gives a batch one of them instead of typing the fields per batch. A profile
// a batch uses cannot be removed, so no batch's provision step is left without its profile.

#include <string>

#include "domain/context.hpp"

namespace revive::server {

class RecipientProfiles {
 public:
  explicit RecipientProfiles(DomainContext& ctx) : ctx_(ctx) {}

  /// Every profile by name: {name, fields, batches (the names of those using it)}; io on a
  /// storage failure.
  Result<Json> list();
  /// Creates the profile or replaces the fields of the one of that name. invalid_input for a
  /// name outside 1-64 characters or with control characters, or fields
  /// check_recipient_profile refuses (naming the field; nothing is stored then).
  Result<void> put(const std::string& name, const Json& fields);
  /// Removes the profile. not_found when there is none; conflict naming the batches while any
  /// uses it.
  Result<void> remove(const std::string& name);

 private:
  DomainContext& ctx_;
};

}  // namespace revive::server
