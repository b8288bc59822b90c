#pragma once
// A batch's recipient profile as the batches page sets it: the fields the provision step
// applies (the agent's parse_profile reads the same names), checked here so an operator hears
// of a mistake when setting it, not from every laptop's failed provision step.

#include "revive/error.hpp"
#include "storage/rows.hpp"

namespace revive::server {

/// The profile with empty fields left out (the agent's defaults apply to them). invalid_input
/// naming the field for anything but an object of known string fields (hostname, locale,
/// keyboard, timezone, windows_timezone, welcome_title, welcome_text), a value the agent would
/// refuse (quotes, backslashes, '$', '`' or newlines outside the welcome text; a locale with a
/// space; a time zone that is not a relative IANA name) or one that is too long. Pure.
Result<Json> check_recipient_profile(const Json& profile);

}  // namespace revive::server
