// The operator pages (issue 16): the page and its files, the browser login that makes the
// session cookie, logout, the session's CSRF token, and the laptop views the pages show (the
// actions go to the operator routes: retry, skip, cancel, restart). The views are
// domain/laptop_pages.hpp; the files server/web/ui.* (compiled in, web/assets.hpp).
#include "api/browser_session.hpp"
#include "api/handler.hpp"
#include "domain/csrf.hpp"

namespace revive::server {

namespace {

Response ui_login(ApiContext& api, Call& c) {
  // A login from another site's page would put the browser in that site's chosen account.
  if (!same_origin(c.req)) return error_response(403, "forbidden", "cross-site login refused");
  auto out = throttled_login(api, c, /*browser=*/true);
  if (out.refused) return std::move(*out.refused);
  Response r = json_response({{"operator", out.name}, {"csrf", csrf_token(out.token)}});
  r.headers.emplace_back(
      "Set-Cookie", session_cookie(out.token, api.services.operators.session_ttl(), c.req.tls));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

Response ui_logout(ApiContext& api, const Call& c) {
  const std::string token = cookie_value(c.req, kSessionCookie);
  // A bearer caller has no browser session to end; the cookie is cleared either way.
  if (!token.empty()) (void)api.services.operators.logout_browser(token);
  Response r = json_response({{"ok", true}});
  r.headers.emplace_back("Set-Cookie", cleared_session_cookie(c.req.tls));
  return r;
}

Response ui_session(const Call& c) {
  const std::string token = cookie_value(c.req, kSessionCookie);
  const bool by_cookie = bearer(c.req).empty() && !token.empty();
  Response r = json_response(
      {{"operator", c.operator_name}, {"csrf", by_cookie ? Json(csrf_token(token)) : Json()}});
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

Response laptops(ApiContext& api, const Call& c) {
  LaptopFilter f{c.query("state"), c.query("batch"), c.query("grade"), c.query("q")};
  return reply(api.services.laptops.list(f));
}

Response laptop_page(ApiContext& api, const Call& c) {
  auto id = parse_id(c.param("id"));
  if (!id) return error_response(400, "invalid_input", "laptop id must be a positive integer");
  return reply(api.services.laptops.page(*id));
}

}  // namespace

void add_page_routes(HandlerTable& t, ApiContext& api) {
  t.add(RouteId::ui_page, [](Call& c) {
    return filled_page("ui.html", 200, {{"__LANG__", page_language(c.req)}});
  });
  t.add(RouteId::ui_asset, [](Call& c) { return web_asset(c.req, c.param("name")); });
  t.add(RouteId::ui_login, [&api](Call& c) { return ui_login(api, c); });
  t.add(RouteId::ui_logout, [&api](Call& c) { return ui_logout(api, c); });
  t.add(RouteId::ui_session, [](Call& c) { return ui_session(c); });
  t.add(RouteId::laptops, [&api](Call& c) { return laptops(api, c); });
  t.add(RouteId::laptop_page, [&api](Call& c) { return laptop_page(api, c); });
}

}  // namespace revive::server
