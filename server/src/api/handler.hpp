#pragma once
// What a route handler gets and the helpers every handler file shares: the call (request, path
// parameters, who is calling), JSON answers and errors mapped to HTTP statuses.

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "api/route_table.hpp"
#include "domain/login_throttle.hpp"
#include "domain/services.hpp"
#include "http/http_types.hpp"
#include "http/metrics.hpp"
#include "revive/error.hpp"

namespace revive::server {

struct Call {
  Request& req;
  const PathParams& params;
  std::string& label;         ///< the metrics label (a handler may name a special case)
  std::int64_t device = 0;    ///< Access::agent: the calling device
  std::string operator_name;  ///< Access::operator_: the calling operator

  /// A path parameter ("" when absent).
  const std::string& param(const std::string& name) const;
  /// A query parameter, or `fallback`.
  std::string query(const std::string& name, const std::string& fallback = "") const;
};

using RouteHandler = std::function<Response(Call&)>;

class HandlerTable {
 public:
  void add(RouteId id, RouteHandler h) { handlers_[static_cast<std::size_t>(id)] = std::move(h); }
  const RouteHandler& at(RouteId id) const { return handlers_[static_cast<std::size_t>(id)]; }

 private:
  std::array<RouteHandler, kRouteCount> handlers_;
};

struct ApiOptions {
  int max_long_poll_s = 30;
  /// The largest request body any route takes (step results, checkpoints); the others take
  /// less (api/admission.hpp).
  std::size_t max_body_bytes = 1 << 20;
  /// Where the HTTPS listener is, for the answer that sends operators there (0: 8443).
  std::uint16_t tls_port = 0;
  /// Where the plain HTTP listener is, for the kiosk link a TV opens (0: 8080).
  std::uint16_t plain_port = 0;
  /// BOOT/tftp (also served at /boot/files/NAME) and BOOT/live (at /boot/live/NAME). Empty:
  /// no boot files.
  std::filesystem::path boot_dir;
};

/// What handlers reach: the domain services, the image store, metrics and the HTTP layer's
/// long-poll wake-up.
struct ApiContext {
  Services& services;
  ImageStore& store;
  Metrics& metrics;
  std::function<void(const std::string& key)> notify;
  ApiOptions opts;
  /// Wakes every event stream to check its credentials again (after a revocation); may be
  /// empty.
  std::function<void()> recheck_streams;
  /// Failed logins by operator and address, for every login route (API and pages).
  LoginThrottle login_throttle;
};

// ---- answers
Response json_response(const Json& j, int status = 200);
/// The error as an HTTP error ({"error", "code"} with the status its class maps to).
Response from_error(const Error& e);
/// {"ok": true}, or the error.
Response ok_or_error(const Result<void>& r);
/// The JSON value, or the error.
Response reply(const Result<Json>& r, int status = 200);
int http_status(Errc code);

// ---- inputs
/// A positive integer id, or nullopt.
std::optional<std::int64_t> parse_id(const std::string& s);
/// The request body as a JSON object (bounded nesting); invalid_input otherwise.
Result<Json> body_json(const Request& req);
/// A string member, or "" when absent or not a string.
std::string str(const Json& j, const char* key);
/// A string member, or nullopt when absent or not a string.
std::optional<std::string> opt_str(const Json& j, const char* key);
/// The bearer token of the Authorization header, or "".
std::string bearer(const Request& req);
/// Whether a Host header can name this server in a URL we hand out (host[:port], no path).
bool plausible_host(const std::string& host);
/// The host the request named (its Host header without the port), nullopt when it cannot name
/// this server in a URL we hand out.
std::optional<std::string> request_host_name(const Request& req);

// ---- the areas (one file each)
void add_health_routes(HandlerTable& t, ApiContext& api);
void add_agent_routes(HandlerTable& t, ApiContext& api);
void add_operator_routes(HandlerTable& t, ApiContext& api);
void add_image_routes(HandlerTable& t, ApiContext& api);
void add_certificate_routes(HandlerTable& t, ApiContext& api);
void add_boot_routes(HandlerTable& t, ApiContext& api);
void add_intake_routes(HandlerTable& t, ApiContext& api);
void add_wall_routes(HandlerTable& t, ApiContext& api);
void add_label_routes(HandlerTable& t, ApiContext& api);
void add_page_routes(HandlerTable& t, ApiContext& api);
void add_partner_routes(HandlerTable& t, ApiContext& api);
void add_catalog_routes(HandlerTable& t, ApiContext& api);
void add_settings_routes(HandlerTable& t, ApiContext& api);

// ---- what the browser pages share (web_pages.cpp)
/// Content-Security-Policy (no inline script, nothing from elsewhere, never framed),
/// no Referer, nosniff, no-store.
void add_page_headers(Response& r);
/// The language of the page: ?lang=, else Accept-Language, else English (web/language.hpp).
std::string page_language(const Request& req);
/// The embedded page `file` with each placeholder replaced once, and the page headers.
Response filled_page(std::string_view file, int status,
                     std::initializer_list<std::pair<std::string_view, std::string>> values);
/// An embedded static file (not a page) with its ETag (304 when the browser has it); 404
/// for an unknown name.
Response web_asset(const Request& req, const std::string& name);

/// The strings of server/web/i18n/<lang>.json (an object; empty when the language is unknown).
Json web_strings(const std::string& language);
/// The workshop's language (the laptops' screens: `screen_language`), unless ?lang= names
/// another the pages have; English when neither is set.
std::string workshop_language(ApiContext& api, const Call& c);

// ---- logins (operator_routes.cpp)
struct LoginOutcome {
  std::string name;                 ///< the operator
  std::string token;                ///< the new session's token (empty when refused)
  std::optional<Response> refused;  ///< the answer refusing it
};
/// A login from the body {"name", "password"} for both login routes: the throttle is asked
/// first (429 with Retry-After, labelled login_throttled), a wrong password is counted.
/// `browser`: a browser session (Operators::login_browser), else an API session.
LoginOutcome throttled_login(ApiContext& api, Call& c, bool browser);

// ---- the wall screen's access (wall_routes.cpp)
/// Who looks at the wall: "kiosk:<token id>" for a kiosk link (`?k=`, over either listener),
/// "operator:<name>" for an operator's token (Authorization: Bearer); unauthorized without
/// either or for a bad one, forbidden for an operator token over plain HTTP from another host.
Result<std::string> wall_viewer(ApiContext& api, const Request& req);
/// The wall's page saying it needs a kiosk link (401), in the browser's language.
Response wall_refused_page(const Request& req);

}  // namespace revive::server
