#include "api/api.hpp"

#include <cmath>

#include "api/admission.hpp"
#include "api/browser_session.hpp"
#include "revive/manifest.hpp"

namespace revive::server {

namespace {
Response no_endpoint(const Request& req) {
  return error_response(404, "not_found", "no such endpoint: " + req.method + " " + req.path);
}

// Operator credentials travel only over TLS, or inside this machine.
bool secure_transport(const Request& req) {
  return req.tls || req.local || is_local_peer(req.peer);
}
}  // namespace

Api::Api(Services& services, ImageStore& store, Metrics& metrics,
         std::function<void(const std::string& key)> notify, ApiOptions opts)
    : ctx_{services, store, metrics, std::move(notify), std::move(opts), {}, LoginThrottle()} {
  add_health_routes(handlers_, ctx_);
  add_agent_routes(handlers_, ctx_);
  add_operator_routes(handlers_, ctx_);
  add_image_routes(handlers_, ctx_);
  add_certificate_routes(handlers_, ctx_);
  add_boot_routes(handlers_, ctx_);
  add_intake_routes(handlers_, ctx_);
  add_wall_routes(handlers_, ctx_);
  add_label_routes(handlers_, ctx_);
  add_page_routes(handlers_, ctx_);
  add_partner_routes(handlers_, ctx_);
  add_catalog_routes(handlers_, ctx_);
  add_settings_routes(handlers_, ctx_);
  for (const auto& r : route_table()) REVIVE_CHECK(handlers_.at(r.id) != nullptr);
  for (auto g :
       {RateGroup::enrol, RateGroup::boot_script, RateGroup::login, RateGroup::certificate_link})
    limiters_.emplace(static_cast<int>(g), RateLimiter(per_address_rule(g), overall_rule(g)));
}

Result<std::string> Api::operator_of(const Request& req) {
  const std::string t = bearer(req);
  // Without a bearer token, the operator pages' session cookie (with its CSRF checks).
  if (t.empty()) return browser_operator(ctx_.services.operators, req);
  return ctx_.services.operators.authenticate(t);
}

// Agent routes: the token must belong to the device named in the path.
Result<std::int64_t> Api::agent_of(const Request& req, const std::string& id_text) {
  const std::string t = bearer(req);
  if (t.empty()) return make_error(Errc::unauthorized, "agent token required");
  REVIVE_ASSIGN(dev, ctx_.services.enrolment.authenticate(t));
  auto id = parse_id(id_text);
  if (!id || *id != dev)
    return make_error(Errc::unauthorized, "this agent token belongs to another device");
  return dev;
}

Response Api::https_required(const Request& req, bool page) const {
  const std::string host = request_host_name(req).value_or("SERVER");
  const std::string url =
      "https://" + host + ":" + std::to_string(ctx_.opts.tls_port ? ctx_.opts.tls_port : 8443);
  if (page) {  // a browser asking for the operator pages is sent to them
    Response r = error_response(303, "https_required", "the operator pages are at " + url + "/ui");
    r.headers.emplace_back("Location", url + "/ui");
    return r;
  }
  return error_response(403, "https_required",
                        "operators use the server over HTTPS (" + url +
                            "; `revivectl login --server " + url +
                            "`): passwords and tokens do not cross the network in clear text");
}

std::optional<Response> Api::check_caller(const Request& req, const RouteMatch* m, Caller& caller,
                                          std::string& label) {
  if (operator_facing(m ? m->route : nullptr, req.path) && !secure_transport(req)) {
    label = "https_required";
    return https_required(req, m && m->route->id == RouteId::ui_page);
  }
  if (!m || m->route->access == Access::operator_) {
    // Everything under /api/v1/ that no public or agent route answered needs an operator,
    // even to learn that it does not exist.
    if (!m && !req.path.starts_with("/api/v1/")) return no_endpoint(req);
    auto op = operator_of(req);
    if (!op) {
      label = op.error().code == Errc::forbidden ? "csrf_refused" : "unauthorized";
      return from_error(op.error());
    }
    if (!m) {
      label = "unknown";
      return no_endpoint(req);
    }
    caller.operator_name = std::move(*op);
  }
  label = std::string(m->route->pattern);
  if (m->route->access == Access::kiosk) {
    auto viewer = wall_viewer(ctx_, req);
    if (!viewer) {
      label = "unauthorized";
      if (viewer.error().code == Errc::forbidden) {
        label = "https_required";
        return https_required(req);
      }
      return m->route->id == RouteId::wall_page ? wall_refused_page(req)
                                                : from_error(viewer.error());
    }
  } else if (m->route->access == Access::agent) {
    auto dev = agent_of(req, m->params.count("id") ? m->params.at("id") : std::string());
    if (!dev) return from_error(dev.error());
    caller.device = *dev;
  } else if (m->route->access == Access::agent_or_operator) {
    const std::string t = bearer(req);
    if (t.empty()) return error_response(401, "unauthorized", "token required");
    if (ctx_.services.operators.authenticate(t)) {
      if (!secure_transport(req)) {
        label = "https_required";
        return https_required(req);
      }
    } else if (!ctx_.services.enrolment.authenticate(t)) {
      return error_response(401, "unauthorized", "token required");
    }
  }
  return std::nullopt;
}

std::optional<Response> Api::rate_limit(const Request& req, RouteId id) {
  const RateGroup g = rate_group(id);
  if (g == RateGroup::none || req.local || is_local_peer(req.peer)) return std::nullopt;
  const double wait = limiters_.at(static_cast<int>(g)).take(req.peer, monotonic_seconds());
  if (wait <= 0) return std::nullopt;
  const auto secs = static_cast<long>(std::ceil(wait));
  Response r = error_response(
      429, "too_many_requests",
      "too many requests from " + req.peer + ": try again in " + std::to_string(secs) + " s");
  r.headers.emplace_back("Retry-After", std::to_string(secs));
  return r;
}

HeaderVerdict Api::admit(const Request& req) {
  HeaderVerdict a;
  auto m = find_route(route_table(), req.method, req.path);
  Caller caller;
  if (auto refused = check_caller(req, m ? &*m : nullptr, caller, a.label)) {
    a.answer = std::move(*refused);
    return a;
  }
  const RouteId id = m->route->id;
  if (auto limited = rate_limit(req, id)) {
    a.label = "rate_limited";
    a.answer = std::move(*limited);
    return a;
  }
  if (id == RouteId::upload_image) {
    auto it = req.query.find("name");
    if (auto v = validate_image_name(it == req.query.end() ? "" : it->second); !v)
      a.answer = from_error(v.error());
    a.stream = true;
    return a;
  }
  a.max_body = body_limit(id, ctx_.opts.max_body_bytes);
  return a;
}

Response Api::handle(Request& req, std::string& label) {
  auto m = find_route(route_table(), req.method, req.path);
  Caller caller;
  if (auto refused = check_caller(req, m ? &*m : nullptr, caller, label)) return *refused;
  Call call{req, m->params, label, caller.device, std::move(caller.operator_name)};
  return handlers_.at(m->route->id)(call);
}

}  // namespace revive::server
