#pragma once
// The first user of a recipient profile ({name, full_name}): the one check the server applies
// when an operator sets it on a batch or a named profile, and the agent applies before it
// writes the account into the first-boot script (useradd) or unattend.xml. In core so both
// sides refuse exactly the same names.

#include <cstddef>
#include <string_view>

#include "revive/error.hpp"

namespace revive {

inline constexpr std::size_t kFirstUserNameMax = 32;       ///< useradd's limit on Debian
inline constexpr std::size_t kFirstUserFullNameMax = 100;  ///< characters (UTF-8 code points)

/// Whether a login is an account or group every Debian base (or one of Revive's images, or
/// Windows) already has, such as root, daemon, nobody, sudo or administrator: useradd would
/// skip it or fail on it at first boot.
bool reserved_account_name(std::string_view name);

/// The login: a lower-case letter, then lower-case letters, digits, '_' and '-', at most
/// 32 characters, not a reserved_account_name. invalid_input naming `first_user.name`.
Result<void> check_first_user_name(std::string_view name);

/// The full name (the account's comment, Windows' display name): text on one line, without
/// quotes, backslashes, '$', '`', ':' or ',' (the comment's field separators) and at most 100
/// characters; empty is allowed. invalid_input naming `first_user.full_name`.
Result<void> check_first_user_full_name(std::string_view full_name);

/// Both checks, the name's first.
Result<void> check_first_user(std::string_view name, std::string_view full_name);

}  // namespace revive
