#pragma once
// What the API decides about a request from its header alone, as pure functions of the route
// table: which routes carry operator credentials (served over HTTPS only, unless the caller is
// this machine), how large a body each route takes, and which public routes are rate limited.
// The Api applies them before the HTTP layer reads a body (docs/SECURITY.md).

#include <cstddef>
#include <string_view>

#include "api/rate_limiter.hpp"
#include "api/route_table.hpp"

namespace revive::server {

/// Whether a request carries an operator's password or token: operator routes, the logins
/// (API and pages), the operator pages' page itself (so its login form is only ever shown
/// over HTTPS), and any unmatched path under /api/v1/ (which needs an operator to learn it
/// does not exist).
bool operator_facing(const RouteSpec* route, std::string_view path);

/// The largest body the route takes: step results and checkpoints up to `largest` (the
/// server's --max-body: wipe evidence for many drives, done ranges of a large image), an
/// enrolment (identity and inventory) up to 256 KiB, agent events 128 KiB, a login 4 KiB, a
/// piece of a resumable image upload 8 MiB, anything else 64 KiB.
std::size_t body_limit(RouteId id, std::size_t largest);

/// Public routes that cost a database transaction or a password hash, each with its own
/// buckets.
enum class RateGroup { none, enrol, boot_script, login, certificate_link };
RateGroup rate_group(RouteId id);
/// Per client address and overall. Sized so a workshop's laptops booting at once never meet
/// them (one boot script and one enrolment per laptop boot) while a flood is cut to a trickle.
RateRule per_address_rule(RateGroup g);
RateRule overall_rule(RateGroup g);

}  // namespace revive::server
