// The workshop wall screen (issue 16): its page, its static files, its live event stream, and
// the kiosk links operators make for it. Nothing here changes state (but making a link).
// The view model is domain/wall.hpp; the files are server/web/ (compiled in, web/assets.hpp).
#include <chrono>

#include "api/browser_session.hpp"
#include "api/handler.hpp"

namespace revive::server {

namespace {

// Open wall streams: a workshop has a TV or two (and operators glancing at it); the caps keep
// a host holding a leaked kiosk link from taking every place, or many descriptors.
constexpr std::size_t kMaxWallStreams = 32;
constexpr std::size_t kMaxWallStreamsPerAddress = 4;
// A snapshot of a few hundred tiles is ~100 KiB; a screen further behind than this starts again.
constexpr std::size_t kMaxWallBacklog = 1 << 20;
constexpr std::chrono::milliseconds kReconnectDelay{3000};

// The page with its language and access filled in (the script words everything else).
Response wall_html(const Request& req, int status, std::string_view access) {
  return filled_page("wall.html", status,
                     {{"__LANG__", page_language(req)}, {"__ACCESS__", std::string(access)}});
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
  const std::string path = "/wall?k=" + *t;
  Json answer = {{"token", *t}, {"id", *id}, {"path", path}};
  // The link for the TV: the plain HTTP port of the host the operator reached, so a TV needs no
  // trust in the operators' self-signed certificate (docs/SECURITY.md, "The wall screen").
  if (auto host = request_host_name(c.req)) {
    const std::uint16_t port = api.opts.plain_port ? api.opts.plain_port : 8080;
    answer["wall_url"] = "http://" + *host + ":" + std::to_string(port) + path;
  }
  return json_response(answer, 201);
}

}  // namespace

Result<std::string> wall_viewer(ApiContext& api, const Request& req) {
  if (auto k = req.query.find("k"); k != req.query.end()) {
    REVIVE_ASSIGN(id, api.services.operators.authenticate_kiosk(k->second));
    return "kiosk:" + id;
  }
  const std::string t = bearer(req);
  // An operator logged in to the operator pages looks at the wall in the same browser.
  if (t.empty() && !cookie_value(req, kSessionCookie).empty()) {
    REVIVE_ASSIGN(name, browser_operator(api.services.operators, req));
    return "operator:" + name;
  }
  if (t.empty())
    return make_error(Errc::unauthorized,
                      "the wall needs a kiosk link (`revivectl kiosk create` prints one) or an "
                      "operator's login");
  // An operator's token is a credential: only over TLS or inside this machine.
  if (!req.tls && !req.local && !is_local_peer(req.peer))
    return make_error(Errc::forbidden, "operator tokens travel over HTTPS only");
  REVIVE_ASSIGN(name, api.services.operators.authenticate(t));
  return "operator:" + name;
}

Response wall_refused_page(const Request& req) { return wall_html(req, 401, "refused"); }

void add_wall_routes(HandlerTable& t, ApiContext& api) {
  t.add(RouteId::wall_page, [](Call& c) { return wall_html(c.req, 200, "ok"); });
  t.add(RouteId::wall_asset, [](Call& c) { return web_asset(c.req, c.param("name")); });
  t.add(RouteId::wall_stream, [&api](Call& c) { return wall_stream(api, c); });
  t.add(RouteId::create_kiosk_token, [&api](Call& c) { return create_kiosk_token(api, c); });
}

}  // namespace revive::server
