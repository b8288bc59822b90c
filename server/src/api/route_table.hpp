#pragma once
// Every HTTP endpoint of revive-server in one table: method, path pattern, who may call it,
// and which handler answers. Routing is a pure function over the table (table-driven tests,
// and tests/fuzz/route_fuzz.cpp); the handlers live in one file per area (*_routes.cpp).
// The pattern is also the route's label on /metrics.

#include <cstddef>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace revive::server {

/// Who may call a route. The API checks it before the handler runs.
enum class Access {
  anyone,             ///< no credentials (laptops booting, health checks, content-addressed chunks)
  agent_or_operator,  ///< any valid agent or operator token
  agent,              ///< the agent token of the device named by the path's {id}
  /// an operator's session or API token (Authorization: Bearer), or the operator pages'
  /// session cookie (a state-changing request also needs its CSRF token and this origin)
  operator_,
  /// the wall screen: a kiosk token in the query (`?k=`, read-only, any listener) or an
  /// operator's token (over HTTPS or from this machine)
  kiosk,
};

enum class RouteId {
  healthz,
  metrics,
  chunk,
  boot_local_disk,
  boot_file,
  boot_live,
  boot_script,
  public_key,
  certificate_key,
  enrol,
  agent_next,
  agent_progress,
  agent_relay,
  agent_events,
  agent_checkpoint,
  agent_certificates,
  agent_result,
  images,
  image_manifest,
  image_stream,
  login,
  create_token,
  tokens,
  revoke_token,
  devices,
  device,
  device_certificates,
  certificate,
  certificate_pdf,
  certificate_validate,
  batch_certificate,
  device_cancel,
  device_restart,
  device_assign,
  step_retry,
  step_skip,
  workflows,
  put_workflow,
  settings,
  batches,
  create_batch,
  upload_image,
  delete_image,
  events,
  event_stream,
  export_devices,
  // trust (issue 15): intake and refused enrolments
  intake_status,
  intake_open,
  intake_close,
  device_accept_enrolment,
  // the wall screen (issue 16)
  wall_page,
  wall_asset,
  wall_stream,
  create_kiosk_token,
  // labels (issue 16)
  device_label,
  batch_labels,
  linked_certificate,
  // the operator pages (issue 16)
  ui_page,
  ui_asset,
  ui_login,
  ui_logout,
  ui_session,
  laptops,
  laptop_page,
  // partner organisations, hand-overs and loans (issue 16)
  organisations,
  create_organisation,
  update_organisation,
  handovers,
  create_handover,
  handover_candidates,
  handover,
  handover_list,
  device_lend,
  device_loan_return,
  // the images, batches and donors pages (issue 16)
  image_upload_begin,
  image_upload_status,
  image_upload_piece,
  image_upload_finish,
  image_upload_cancel,
  catalog_images,
  catalog_batches,
  update_batch,
  // the settings page (issue 16)
  settings_view,
  recipient_profiles,
  put_recipient_profile,
  delete_recipient_profile,
  grading_preview,
  count_  ///< not a route: the number of routes
};
inline constexpr std::size_t kRouteCount = static_cast<std::size_t>(RouteId::count_);

struct RouteSpec {
  std::string_view method;
  std::string_view pattern;  ///< "/api/v1/devices/{id}": {name} matches one non-empty segment
  Access access;
  RouteId id;
};

/// The server's routes, in matching order (the first match wins).
std::span<const RouteSpec> route_table();

using PathParams = std::map<std::string, std::string>;

struct RouteMatch {
  const RouteSpec* route = nullptr;
  PathParams params;
};

/// The first route of `table` whose method and pattern match; nullopt when none does. Pure.
std::optional<RouteMatch> find_route(std::span<const RouteSpec> table, std::string_view method,
                                     std::string_view path);

}  // namespace revive::server
