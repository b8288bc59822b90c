#include "api/admission.hpp"

#include <algorithm>

#include "domain/image_uploads.hpp"

namespace revive::server {

bool operator_facing(const RouteSpec* route, std::string_view path) {
  if (!route) return path.starts_with("/api/v1/");
  return route->access == Access::operator_ || route->id == RouteId::login ||
         route->id == RouteId::ui_login || route->id == RouteId::ui_page;
}

std::size_t body_limit(RouteId id, std::size_t largest) {
  constexpr std::size_t kKiB = 1024;
  switch (id) {
    case RouteId::agent_result:
    case RouteId::agent_checkpoint:
      return largest;
    case RouteId::enrol:
      return std::min(largest, 256 * kKiB);
    case RouteId::agent_events:
      return std::min(largest, 128 * kKiB);
    case RouteId::login:
    case RouteId::ui_login:
      return std::min(largest, 4 * kKiB);
    case RouteId::image_upload_piece:
      // A piece of a resumable upload, held in memory: the domain's own limit
      // (UploadLimits::max_piece), whatever --max-body says about step results.
      return UploadLimits{}.max_piece;
    default:
      return std::min(largest, 64 * kKiB);
  }
}

RateGroup rate_group(RouteId id) {
  switch (id) {
    case RouteId::enrol:
      return RateGroup::enrol;
    case RouteId::boot_script:
      return RateGroup::boot_script;
    case RouteId::login:
    case RouteId::ui_login:
      return RateGroup::login;
    case RouteId::linked_certificate:  // public, and each answer draws a PDF
      return RateGroup::certificate_link;
    default:
      return RateGroup::none;
  }
}

RateRule per_address_rule(RateGroup g) {
  // A laptop asks for one boot script and enrols once per boot (again after a server restart);
  // 20 at once and one every 2 s after that is far above it. An operator logs in now and then;
  // each login costs an argon2id hash on the server's one thread.
  return g == RateGroup::login ? RateRule{10, 0.2} : RateRule{20, 0.5};
}

RateRule overall_rule(RateGroup g) {
  // 40 laptops switched on together stay inside the burst; a sustained flood from many
  // addresses costs at most 20 transactions (or 2 password hashes) a second.
  return g == RateGroup::login ? RateRule{30, 2} : RateRule{200, 20};
}

}  // namespace revive::server
