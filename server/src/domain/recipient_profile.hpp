#pragma once
// A batch's recipient profile as the batches page sets it: the fields the provision step
// applies (the agent's parse_profile reads the same names), checked here so an operator hears
// of a mistake when setting it, not from every laptop's failed provision step.

#include "revive/error.hpp"
#include "storage/rows.hpp"

namespace revive::server {

/// The profile with empty fields left out (the agent's defaults apply to them). invalid_input
/// naming the field for anything but an object of known string fields (hostname, locale,
/// keyboard, timezone, windows_timezone, welcome_title, welcome_text) and `first_user`
/// ({name, full_name}, checked by revive/first_user as the agent checks it; an empty name
/// leaves it out, a full name without a name is refused), a value the agent would refuse
/// (quotes, backslashes, '$', '`' or newlines outside the welcome text; a locale with a space;
/// a time zone that is not a relative IANA name; a system account as the first user) or one
/// that is too long. Pure.
Result<Json> check_recipient_profile(const Json& profile);

}  // namespace revive::server
