#include "api/route_table.hpp"

#include "http/http_types.hpp"
#include "revive/chunk_stream.hpp"
#include "revive/protocol.hpp"

namespace revive::server {

namespace {

namespace r = protocol::route;
using A = Access;
using R = RouteId;

constexpr RouteSpec kRoutes[] = {
    // health, metrics, chunks, boot: public (a booting laptop has no credentials yet)
    {"GET", "/healthz", A::anyone, R::healthz},
    {"GET", "/metrics", A::anyone, R::metrics},
    {"GET", r::kChunk, A::anyone, R::chunk},
    {"GET", "/boot/files/local-disk", A::anyone, R::boot_local_disk},
    {"GET", "/boot/files/{name}", A::anyone, R::boot_file},
    {"GET", "/boot/live/{name}", A::anyone, R::boot_live},
    {"GET", "/boot/{script}", A::anyone, R::boot_script},
    {"GET", r::kPublicKey, A::anyone, R::public_key},
    {"GET", r::kCertificateKey, A::anyone, R::certificate_key},
    // agents
    {"POST", r::kEnrol, A::anyone, R::enrol},
    {"POST", r::kNext, A::agent, R::agent_next},
    {"POST", r::kProgress, A::agent, R::agent_progress},
    {"POST", r::kRelay, A::agent, R::agent_relay},
    {"POST", r::kEvents, A::agent, R::agent_events},
    {"POST", r::kCheckpoint, A::agent, R::agent_checkpoint},
    {"GET", r::kCertificates, A::agent, R::agent_certificates},
    {"POST", r::kResult, A::agent, R::agent_result},
    // images, for agents and operators
    {"GET", r::kImages, A::agent_or_operator, R::images},
    {"GET", r::kManifest, A::agent_or_operator, R::image_manifest},
    {"GET", chunk_stream::kImageStreamRoute, A::agent_or_operator, R::image_stream},
    // operators
    {"POST", "/api/v1/login", A::anyone, R::login},
    {"POST", "/api/v1/tokens", A::operator_, R::create_token},
    {"GET", "/api/v1/tokens", A::operator_, R::tokens},
    {"DELETE", "/api/v1/tokens/{id}", A::operator_, R::revoke_token},
    {"GET", "/api/v1/devices", A::operator_, R::devices},
    {"GET", "/api/v1/devices/{id}", A::operator_, R::device},
    {"GET", "/api/v1/devices/{id}/certificates", A::operator_, R::device_certificates},
    {"GET", "/api/v1/certificates/{cert}", A::operator_, R::certificate},
    {"GET", "/api/v1/certificates/{cert}/pdf", A::operator_, R::certificate_pdf},
    {"POST", "/api/v1/certificates/{cert}/validate", A::operator_, R::certificate_validate},
    {"GET", "/api/v1/batches/{name}/certificate", A::operator_, R::batch_certificate},
    {"POST", "/api/v1/devices/{id}/cancel", A::operator_, R::device_cancel},
    {"POST", "/api/v1/devices/{id}/restart", A::operator_, R::device_restart},
    {"POST", "/api/v1/devices/{id}/assign", A::operator_, R::device_assign},
    {"POST", "/api/v1/steps/{id}/retry", A::operator_, R::step_retry},
    {"POST", "/api/v1/steps/{id}/skip", A::operator_, R::step_skip},
    {"GET", "/api/v1/workflows", A::operator_, R::workflows},
    {"POST", "/api/v1/workflows", A::operator_, R::put_workflow},
    {"POST", "/api/v1/settings", A::operator_, R::settings},
    {"GET", "/api/v1/batches", A::operator_, R::batches},
    {"POST", "/api/v1/batches", A::operator_, R::create_batch},
    {"POST", r::kImages, A::operator_, R::upload_image},
    {"DELETE", "/api/v1/images/{name}", A::operator_, R::delete_image},
    {"GET", "/api/v1/events", A::operator_, R::events},
    {"GET", "/api/v1/events/stream", A::operator_, R::event_stream},
    {"GET", "/api/v1/export", A::operator_, R::export_devices},
    // trust (issue 15): intake and refused enrolments
    {"GET", "/api/v1/intake", A::operator_, R::intake_status},
    {"POST", "/api/v1/intake", A::operator_, R::intake_open},
    {"POST", "/api/v1/intake/close", A::operator_, R::intake_close},
    {"POST", "/api/v1/devices/{id}/accept-enrolment", A::operator_, R::device_accept_enrolment},
    // the wall screen (issue 16): the page and its events need a kiosk link; the static files
    // hold no data
    {"GET", "/wall", A::kiosk, R::wall_page},
    {"GET", "/wall/assets/{name}", A::anyone, R::wall_asset},
    {"GET", "/wall/events", A::kiosk, R::wall_stream},
    {"POST", "/api/v1/kiosk-tokens", A::operator_, R::create_kiosk_token},
    // labels (issue 16); a label's QR code opens its certificate with the key it carries
    {"GET", "/api/v1/devices/{id}/label", A::operator_, R::device_label},
    {"GET", "/api/v1/batches/{name}/labels", A::operator_, R::batch_labels},
    {"GET", "/c/{cert}/{key}", A::anyone, R::linked_certificate},
    // the operator pages (issue 16): the page and its files hold no data (what the page shows
    // comes from the operator routes, with the session cookie); a login makes the cookie
    {"GET", "/ui", A::anyone, R::ui_page},
    {"GET", "/ui/assets/{name}", A::anyone, R::ui_asset},
    {"POST", "/ui/login", A::anyone, R::ui_login},
    {"POST", "/ui/logout", A::operator_, R::ui_logout},
    {"GET", "/ui/session", A::operator_, R::ui_session},
    {"GET", "/api/v1/laptops", A::operator_, R::laptops},
    {"GET", "/api/v1/laptops/{id}", A::operator_, R::laptop_page},
    // partner organisations, hand-overs and loans (issue 16)
    {"GET", "/api/v1/organisations", A::operator_, R::organisations},
    {"POST", "/api/v1/organisations", A::operator_, R::create_organisation},
    {"POST", "/api/v1/organisations/{id}", A::operator_, R::update_organisation},
    {"GET", "/api/v1/handovers", A::operator_, R::handovers},
    {"POST", "/api/v1/handovers", A::operator_, R::create_handover},
    {"GET", "/api/v1/handovers/candidates", A::operator_, R::handover_candidates},
    {"GET", "/api/v1/handovers/{id}", A::operator_, R::handover},
    {"GET", "/api/v1/handovers/{id}/list", A::operator_, R::handover_list},
    {"POST", "/api/v1/devices/{id}/loan", A::operator_, R::device_lend},
    {"POST", "/api/v1/devices/{id}/loan/return", A::operator_, R::device_loan_return},
    // the images, batches and donors pages (issue 16): resumable uploads in pieces, the views
    // the pages show, a batch's image and recipient profile
    {"POST", "/api/v1/image-uploads", A::operator_, R::image_upload_begin},
    {"GET", "/api/v1/image-uploads/{id}", A::operator_, R::image_upload_status},
    {"POST", "/api/v1/image-uploads/{id}/pieces", A::operator_, R::image_upload_piece},
    {"POST", "/api/v1/image-uploads/{id}/finish", A::operator_, R::image_upload_finish},
    {"DELETE", "/api/v1/image-uploads/{id}", A::operator_, R::image_upload_cancel},
    {"GET", "/api/v1/catalog/images", A::operator_, R::catalog_images},
    {"GET", "/api/v1/catalog/batches", A::operator_, R::catalog_batches},
    {"POST", "/api/v1/batches/{name}", A::operator_, R::update_batch},
    // the settings page (issue 16): the settings it shows (changed with POST /api/v1/settings),
    // named recipient profiles, and how an edited grading policy would grade the laptops
    {"GET", "/api/v1/settings", A::operator_, R::settings_view},
    {"GET", "/api/v1/recipient-profiles", A::operator_, R::recipient_profiles},
    {"POST", "/api/v1/recipient-profiles", A::operator_, R::put_recipient_profile},
    {"DELETE", "/api/v1/recipient-profiles/{name}", A::operator_, R::delete_recipient_profile},
    {"POST", "/api/v1/grading-policy/preview", A::operator_, R::grading_preview},
};
static_assert(std::size(kRoutes) == kRouteCount, "one table entry per RouteId");

}  // namespace

std::span<const RouteSpec> route_table() { return kRoutes; }

std::optional<RouteMatch> find_route(std::span<const RouteSpec> table, std::string_view method,
                                     std::string_view path) {
  RouteMatch m;
  for (const auto& spec : table) {
    if (spec.method != method) continue;
    if (match_route(spec.pattern, path, m.params)) {
      m.route = &spec;
      return m;
    }
  }
  return std::nullopt;
}

}  // namespace revive::server
