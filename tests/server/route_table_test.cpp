// The route table: which route a method and path reach, with what parameters, and the table's
// own consistency (patterns well formed, no route hidden behind an earlier one).
#include <gtest/gtest.h>

#include <set>

#include "api/route_table.hpp"
#include "revive/protocol.hpp"

namespace revive::server {
namespace {

TEST(RouteTable, MethodAndPathReachTheirRoute) {
  struct Case {
    const char* method;
    const char* path;
    std::optional<RouteId> id;
    PathParams params;
  } cases[] = {
      {"GET", "/healthz", RouteId::healthz, {}},
      {"POST", "/healthz", std::nullopt, {}},
      {"GET", "/healthz/", std::nullopt, {}},
      {"GET", "/chunks/abc", RouteId::chunk, {{"sha", "abc"}}},
      {"GET", "/boot/files/local-disk", RouteId::boot_local_disk, {}},
      {"GET", "/boot/files/undionly.kpxe", RouteId::boot_file, {{"name", "undionly.kpxe"}}},
      {"GET", "/boot/live/vmlinuz", RouteId::boot_live, {{"name", "vmlinuz"}}},
      {"GET",
       "/boot/52-54-00-12-34-56.ipxe",
       RouteId::boot_script,
       {{"script", "52-54-00-12-34-56.ipxe"}}},
      {"POST", "/api/v1/agents/enrol", RouteId::enrol, {}},
      {"POST", "/api/v1/agents/17/next", RouteId::agent_next, {{"id", "17"}}},
      {"GET", "/api/v1/agents/17/next", std::nullopt, {}},
      {"POST", "/api/v1/agents/17/relay", RouteId::agent_relay, {{"id", "17"}}},
      {"POST",
       "/api/v1/agents/17/steps/93/result",
       RouteId::agent_result,
       {{"id", "17"}, {"step", "93"}}},
      {"POST",
       "/api/v1/agents/17/steps/93/checkpoint",
       RouteId::agent_checkpoint,
       {{"id", "17"}, {"step", "93"}}},
      {"POST", "/api/v1/agents//next", std::nullopt, {}},
      {"GET", "/api/v1/images", RouteId::images, {}},
      {"POST", "/api/v1/images", RouteId::upload_image, {}},
      {"DELETE", "/api/v1/images/deb", RouteId::delete_image, {{"name", "deb"}}},
      {"GET", "/api/v1/images/deb/manifest", RouteId::image_manifest, {{"name", "deb"}}},
      {"GET", "/api/v1/certificates/c1", RouteId::certificate, {{"cert", "c1"}}},
      {"GET", "/api/v1/certificates/c1/pdf", RouteId::certificate_pdf, {{"cert", "c1"}}},
      {"POST", "/api/v1/steps/4/skip", RouteId::step_skip, {{"id", "4"}}},
      {"GET", "/api/v1/events/stream", RouteId::event_stream, {}},
      {"GET", "/wall", RouteId::wall_page, {}},
      {"GET", "/wall/", std::nullopt, {}},
      {"GET", "/wall/assets/wall.js", RouteId::wall_asset, {{"name", "wall.js"}}},
      {"GET", "/wall/assets/i18n/nl.json", std::nullopt, {}},
      {"GET", "/wall/events", RouteId::wall_stream, {}},
      {"POST", "/wall/events", std::nullopt, {}},
      {"POST", "/api/v1/kiosk-tokens", RouteId::create_kiosk_token, {}},
      {"GET", "/api/v1/devices/7/label", RouteId::device_label, {{"id", "7"}}},
      {"GET", "/api/v1/batches/b1/labels", RouteId::batch_labels, {{"name", "b1"}}},
      {"GET", "/c/cert-1/KEY", RouteId::linked_certificate, {{"cert", "cert-1"}, {"key", "KEY"}}},
      {"GET", "/c/cert-1", std::nullopt, {}},
      {"GET", "/ui", RouteId::ui_page, {}},
      {"GET", "/ui/assets/ui.js", RouteId::ui_asset, {{"name", "ui.js"}}},
      {"POST", "/ui/login", RouteId::ui_login, {}},
      {"GET", "/ui/login", std::nullopt, {}},
      {"POST", "/ui/logout", RouteId::ui_logout, {}},
      {"GET", "/ui/session", RouteId::ui_session, {}},
      {"GET", "/api/v1/laptops", RouteId::laptops, {}},
      {"GET", "/api/v1/laptops/12", RouteId::laptop_page, {{"id", "12"}}},
      {"GET", "/api/v1/organisations", RouteId::organisations, {}},
      {"POST", "/api/v1/organisations", RouteId::create_organisation, {}},
      {"POST", "/api/v1/organisations/3", RouteId::update_organisation, {{"id", "3"}}},
      {"GET", "/api/v1/handovers", RouteId::handovers, {}},
      {"POST", "/api/v1/handovers", RouteId::create_handover, {}},
      {"GET", "/api/v1/handovers/candidates", RouteId::handover_candidates, {}},
      {"GET", "/api/v1/handovers/4", RouteId::handover, {{"id", "4"}}},
      {"GET", "/api/v1/handovers/4/list", RouteId::handover_list, {{"id", "4"}}},
      {"POST", "/api/v1/devices/7/loan", RouteId::device_lend, {{"id", "7"}}},
      {"POST", "/api/v1/devices/7/loan/return", RouteId::device_loan_return, {{"id", "7"}}},
      {"POST", "/api/v1/image-uploads", RouteId::image_upload_begin, {}},
      {"GET", "/api/v1/image-uploads/ab12", RouteId::image_upload_status, {{"id", "ab12"}}},
      {"POST", "/api/v1/image-uploads/ab12/pieces", RouteId::image_upload_piece, {{"id", "ab12"}}},
      {"POST", "/api/v1/image-uploads/ab12/finish", RouteId::image_upload_finish, {{"id", "ab12"}}},
      {"DELETE", "/api/v1/image-uploads/ab12", RouteId::image_upload_cancel, {{"id", "ab12"}}},
      {"GET", "/api/v1/catalog/images", RouteId::catalog_images, {}},
      {"GET", "/api/v1/catalog/batches", RouteId::catalog_batches, {}},
      {"POST", "/api/v1/batches/gent-1", RouteId::update_batch, {{"name", "gent-1"}}},
      {"GET", "/api/v1/batches/gent-1", std::nullopt, {}},
      {"GET", "/api/v1/settings", RouteId::settings_view, {}},
      {"POST", "/api/v1/settings", RouteId::settings, {}},
      {"GET", "/api/v1/recipient-profiles", RouteId::recipient_profiles, {}},
      {"POST", "/api/v1/recipient-profiles", RouteId::put_recipient_profile, {}},
      {"DELETE",
       "/api/v1/recipient-profiles/school nl",
       RouteId::delete_recipient_profile,
       {{"name", "school nl"}}},
      {"POST", "/api/v1/grading-policy/preview", RouteId::grading_preview, {}},
      {"GET", "/api/v1/nope", std::nullopt, {}},
      {"GET", "", std::nullopt, {}},
  };
  for (const auto& c : cases) {
    auto m = find_route(route_table(), c.method, c.path);
    ASSERT_EQ(m.has_value(), c.id.has_value()) << c.method << " " << c.path;
    if (!m) continue;
    EXPECT_EQ(m->route->id, *c.id) << c.method << " " << c.path;
    EXPECT_EQ(m->params, c.params) << c.method << " " << c.path;
  }
}

TEST(RouteTable, WhoMayCallWhat) {
  auto access = [](const char* method, const char* path) {
    return find_route(route_table(), method, path)->route->access;
  };
  EXPECT_EQ(access("GET", "/chunks/x"), Access::anyone);
  EXPECT_EQ(access("POST", "/api/v1/agents/enrol"), Access::anyone);
  EXPECT_EQ(access("POST", "/api/v1/login"), Access::anyone);
  EXPECT_EQ(access("POST", "/api/v1/agents/1/progress"), Access::agent);
  EXPECT_EQ(access("POST", "/api/v1/agents/1/relay"), Access::agent);
  EXPECT_EQ(access("GET", "/api/v1/agents/1/certificates"), Access::agent);
  EXPECT_EQ(access("GET", "/api/v1/images"), Access::agent_or_operator);
  EXPECT_EQ(access("POST", "/api/v1/images"), Access::operator_);
  EXPECT_EQ(access("GET", "/api/v1/export"), Access::operator_);
  // The wall's data needs a kiosk link (or an operator); its static files carry no data.
  EXPECT_EQ(access("GET", "/wall"), Access::kiosk);
  EXPECT_EQ(access("GET", "/wall/events"), Access::kiosk);
  EXPECT_EQ(access("GET", "/wall/assets/wall.js"), Access::anyone);
  EXPECT_EQ(access("POST", "/api/v1/kiosk-tokens"), Access::operator_);
  // Labels are printed by operators; the link on one opens its certificate for anyone holding
  // it (the key in the link is checked by the domain).
  EXPECT_EQ(access("GET", "/api/v1/devices/7/label"), Access::operator_);
  EXPECT_EQ(access("GET", "/c/cert-1/KEY"), Access::anyone);
  // The operator pages: the page and its files carry no data, a login makes a session; all
  // else is an operator's (the cookie, with its CSRF token for a change).
  EXPECT_EQ(access("GET", "/ui"), Access::anyone);
  EXPECT_EQ(access("GET", "/ui/assets/ui.css"), Access::anyone);
  EXPECT_EQ(access("POST", "/ui/login"), Access::anyone);
  EXPECT_EQ(access("POST", "/ui/logout"), Access::operator_);
  EXPECT_EQ(access("GET", "/ui/session"), Access::operator_);
  EXPECT_EQ(access("GET", "/api/v1/laptops/3"), Access::operator_);
  // Partners, hand-overs and loans are operators' business only.
  EXPECT_EQ(access("POST", "/api/v1/organisations"), Access::operator_);
  EXPECT_EQ(access("GET", "/api/v1/handovers/4/list"), Access::operator_);
  EXPECT_EQ(access("POST", "/api/v1/devices/7/loan/return"), Access::operator_);
  // The images and batches pages: all an operator's.
  EXPECT_EQ(access("POST", "/api/v1/image-uploads/ab12/pieces"), Access::operator_);
  EXPECT_EQ(access("GET", "/api/v1/catalog/batches"), Access::operator_);
  EXPECT_EQ(access("POST", "/api/v1/batches/gent-1"), Access::operator_);
}

TEST(RouteTable, EveryRouteIsReachableAndAgentRoutesNameTheirDevice) {
  std::set<RouteId> ids;
  for (const auto& r : route_table()) {
    EXPECT_TRUE(ids.insert(r.id).second) << r.pattern;
    EXPECT_TRUE(r.pattern.starts_with("/")) << r.pattern;
    // The pattern itself (braces as literal text) reaches this very route: none earlier in
    // the table shadows it.
    auto m = find_route(route_table(), r.method, r.pattern);
    ASSERT_TRUE(m) << r.pattern;
    EXPECT_EQ(m->route, &r) << r.pattern << " is shadowed by " << m->route->pattern;
    if (r.access == Access::agent) {
      EXPECT_NE(r.pattern.find("{id}"), std::string_view::npos);
    }
  }
  EXPECT_EQ(ids.size(), kRouteCount);
}

TEST(RouteTable, AgentRoutesAreTheProtocolModulesPaths) {
  auto id_of = [](const std::string& method, const std::string& path) {
    return find_route(route_table(), method, path)->route->id;
  };
  EXPECT_EQ(id_of("POST", protocol::path::enrol()), RouteId::enrol);
  EXPECT_EQ(id_of("POST", protocol::path::progress(3)), RouteId::agent_progress);
  EXPECT_EQ(id_of("POST", protocol::path::events(3)), RouteId::agent_events);
  EXPECT_EQ(id_of("POST", protocol::path::checkpoint(3, 4)), RouteId::agent_checkpoint);
  EXPECT_EQ(id_of("POST", protocol::path::result(3, 4)), RouteId::agent_result);
  EXPECT_EQ(id_of("GET", protocol::path::certificates(3)), RouteId::agent_certificates);
  EXPECT_EQ(id_of("GET", protocol::path::manifest("deb")), RouteId::image_manifest);
  EXPECT_EQ(id_of("GET", protocol::path::chunk(std::string(64, 'a'))), RouteId::chunk);
  const std::string next = protocol::path::next(3, 30);
  EXPECT_EQ(id_of("POST", next.substr(0, next.find('?'))), RouteId::agent_next);
}

}  // namespace
}  // namespace revive::server
