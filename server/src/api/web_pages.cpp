// What the browser pages share (the wall screen, the operator pages): their security headers,
// the language a browser gets, the page with its placeholders filled in, the static files.
#include "api/handler.hpp"
#include "web/assets.hpp"
#include "web/language.hpp"

namespace revive::server {

void add_page_headers(Response& r) {
  // No inline script or style, nothing from elsewhere, never framed; a page's URL may hold a
  // kiosk token, so it is never sent on as a Referer.
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'none'; script-src 'self'; style-src 'self'; "
                         "connect-src 'self'; img-src 'self'; base-uri 'none'; "
                         "form-action 'none'; frame-ancestors 'none'");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Cache-Control", "no-store");
}

std::string page_language(const Request& req) {
  auto it = req.query.find("lang");
  return web::choose_language(it == req.query.end() ? "" : it->second,
                              req.header("accept-language"), web::wall_languages());
}

Json web_strings(const std::string& language) {
  const web::Asset* a = web::find_asset(language + ".json");
  Json j = a ? Json::parse(a->body, nullptr, false) : Json();
  return j.is_object() ? j : Json::object();
}

std::string workshop_language(ApiContext& api, const Call& c) {
  auto setting = api.services.ctx.storage().settings().get("screen_language");
  const std::string workshop = setting && *setting ? **setting : "en";
  const std::string chosen = c.query("lang", workshop);
  return web::choose_language(chosen, workshop, web::wall_languages());
}

Response filled_page(std::string_view file, int status,
                     std::initializer_list<std::pair<std::string_view, std::string>> values) {
  const web::Asset* page = web::find_asset(file);
  REVIVE_CHECK(page != nullptr);
  std::string html(page->body);
  for (const auto& [key, value] : values) {
    if (auto at = html.find(key); at != std::string::npos) html.replace(at, key.size(), value);
  }
  Response r;
  r.status = status;
  r.content_type = std::string(web::content_type(page->name));
  r.body = std::move(html);
  add_page_headers(r);
  return r;
}

Response web_asset(const Request& req, const std::string& name) {
  const web::Asset* a = web::find_asset(name);
  if (!a || name.ends_with(".html"))  // pages are served (filled in) at their own paths only
    return error_response(404, "not_found", "no such file: " + name);
  Response r;
  const std::string etag = "\"" + std::string(a->etag) + "\"";
  r.headers.emplace_back("ETag", etag);
  r.headers.emplace_back("Cache-Control", "no-cache");  // revalidated: an upgrade shows at once
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.content_type = std::string(web::content_type(a->name));
  if (req.header("if-none-match") == etag) {
    r.status = 304;
    return r;
  }
  r.body = std::string(a->body);
  return r;
}

}  // namespace revive::server
