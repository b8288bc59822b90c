// The workshop wall screen (issue 16): its page, its static files, its live event stream, and
// the kiosk links operators make for it. Nothing here changes state (but making a link).
// The view model is domain/wall.hpp; the files are server/web/ (compiled in, web/assets.hpp).
#include <chrono>

#include "api/handler.hpp"
#include "web/assets.hpp"
#include "web/language.hpp"

namespace revive::server {

namespace {

// Open wall streams: a workshop has a TV or two (and operators glancing at it); the caps keep
// a host holding a leaked kiosk link from taking every place, or many descriptors.
constexpr std::size_t kMaxWallStreams = 32;
constexpr std::size_t kMaxWallStreamsPerAddress = 4;
// A snapshot of a few hundred tiles is ~100 KiB; a screen further behind than this starts again.
constexpr std::size_t kMaxWallBacklog = 1 << 20;
constexpr std::chrono::milliseconds kReconnectDelay{3000};

// No inline script or style, nothing from elsewhere, never framed; the page's URL holds the
// kiosk token, so it is never sent on as a Referer.
void add_page_headers(Response& r) {
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'none'; script-src 'self'; style-src 'self'; "
                         "connect-src 'self'; img-src 'self'; base-uri 'none'; "
                         "form-action 'none'; frame-ancestors 'none'");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Cache-Control", "no-store");
}

std::string language_of(const Request& req) {
  auto it = req.query.find("lang");
  return web::choose_language(it == req.query.end() ? "" : it->second,
                              req.header("accept-language"), web::wall_languages());
}

// The page with its language and access filled in (the script words everything else).
Response wall_html(const Request& req, int status, std::string_view access) {
  const web::Asset* page = web::find_asset("wall.html");
  REVIVE_CHECK(page != nullptr);
  std::string html(page->body);
  for (auto [key, value] : {std::pair<std::string_view, std::string>{"__LANG__", language_of(req)},
                            {"__ACCESS__", std::string(access)}}) {
    if (auto at = html.find(key); at != std::string::npos) html.replace(at, key.size(), value);
  }
  Response r;
  r.status = status;
  r.content_type = std::string(web::content_type(page->name));
  r.body = std::move(html);
  add_page_headers(r);
  return r;
}

Response wall_asset(const Call& c) {
  const std::string& name = c.param("name");
  const web::Asset* a = web::find_asset(name);
  if (!a || name.ends_with(".html"))  // the page is served (filled in) at /wall only
    return error_response(404, "not_found", "no such file: " + name);
  Response r;
  const std::string etag = "\"" + std::string(a->etag) + "\"";
  r.headers.emplace_back("ETag", etag);
  r.headers.emplace_back("Cache-Control", "no-cache");  // revalidated: an upgrade shows at once
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.content_type = std::string(web::content_type(a->name));
  if (c.req.header("if-none-match") == etag) {
    r.status = 304;
    return r;
  }
  r.body = std::string(a->body);
  return r;
}

Response wall_stream(ApiContext& api, const Call& c) {
  auto snapshot = api.services.wall.snapshot();
  if (!snapshot) return from_error(snapshot.error());
  Response r;
  EventStream es;
  es.channel = "wall";
  es.first = sse_retry(kReconnectDelay) + sse_message("snapshot", snapshot->dump());
  es.max_streams = kMaxWallStreams;
  es.max_per_address = kMaxWallStreamsPerAddress;
  es.max_queued_bytes = kMaxWallBacklog;
  // A revoked link (or a new password of its operator) ends the stream, and the page then
  // finds itself refused.
  es.still_allowed = [&api, req = c.req] { return wall_viewer(api, req).has_value(); };
  r.event_stream = std::move(es);
  return r;
}

Response create_kiosk_token(ApiContext& api, Call& c) {
  auto j = body_json(c.req);
  const std::string label = j ? str(*j, "label") : std::string();
  auto t = api.services.operators.create_kiosk_token(c.operator_name, label);
  if (!t) return from_error(t.error());
  auto id = api.services.operators.authenticate_kiosk(*t);
  if (!id) return from_error(id.error());
  return json_response({{"token", *t}, {"id", *id}, {"path", "/wall?k=" + *t}}, 201);
}

}  // namespace

Result<std::string> wall_viewer(ApiContext& api, const Request& req) {
  if (auto k = req.query.find("k"); k != req.query.end()) {
    REVIVE_ASSIGN(id, api.services.operators.authenticate_kiosk(k->second));
    return "kiosk:" + id;
  }
  const std::string t = bearer(req);
  if (t.empty())
    return make_error(Errc::unauthorized,
                      "the wall needs a kiosk link (`revivectl kiosk create` prints one)");
  // An operator's token is a credential: only over TLS or inside this machine.
  if (!req.tls && !req.local && !is_local_peer(req.peer))
    return make_error(Errc::forbidden, "operator tokens travel over HTTPS only");
  REVIVE_ASSIGN(name, api.services.operators.authenticate(t));
  return "operator:" + name;
}

Response wall_refused_page(const Request& req) { return wall_html(req, 401, "refused"); }

void add_wall_routes(HandlerTable& t, ApiContext& api) {
  t.add(RouteId::wall_page, [](Call& c) { return wall_html(c.req, 200, "ok"); });
  t.add(RouteId::wall_asset, [](Call& c) { return wall_asset(c); });
  t.add(RouteId::wall_stream, [&api](Call& c) { return wall_stream(api, c); });
  t.add(RouteId::create_kiosk_token, [&api](Call& c) { return create_kiosk_token(api, c); });
}

}  // namespace revive::server
