#include "api/api.hpp"

#include "revive/manifest.hpp"

namespace revive::server {

namespace {
Response no_endpoint(const Request& req) {
  return error_response(404, "not_found", "no such endpoint: " + req.method + " " + req.path);
}
}  // namespace

Api::Api(Services& services, ImageStore& store, Metrics& metrics,
         std::function<void(const std::string& key)> notify, ApiOptions opts)
    : ctx_{services, store, metrics, std::move(notify), std::move(opts)} {
  add_health_routes(handlers_, ctx_);
  add_agent_routes(handlers_, ctx_);
  add_operator_routes(handlers_, ctx_);
  add_image_routes(handlers_, ctx_);
  add_certificate_routes(handlers_, ctx_);
  add_boot_routes(handlers_, ctx_);
  add_intake_routes(handlers_, ctx_);
  for (const auto& r : route_table()) REVIVE_CHECK(handlers_.at(r.id) != nullptr);
}

Result<std::string> Api::operator_of(const Request& req) {
  const std::string t = bearer(req);
  if (t.empty())
    return make_error(Errc::unauthorized,
                      "operator token required (Authorization: Bearer ...; see `revivectl login`)");
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

bool Api::any_token(const Request& req) {
  const std::string t = bearer(req);
  return !t.empty() &&
         (ctx_.services.operators.authenticate(t) || ctx_.services.enrolment.authenticate(t));
}

Response Api::handle(Request& req, std::string& label) {
  static const PathParams kNoParams;
  auto m = find_route(route_table(), req.method, req.path);
  Call call{req, m ? m->params : kNoParams, label, 0, {}};
  if (!m || m->route->access == Access::operator_) {
    // Everything under /api/v1/ that no public or agent route answered needs an operator,
    // even to learn that it does not exist.
    if (!req.path.starts_with("/api/v1/")) return no_endpoint(req);
    auto op = operator_of(req);
    if (!op) {
      label = "unauthorized";
      return from_error(op.error());
    }
    if (!m) {
      label = "unknown";
      return no_endpoint(req);
    }
    call.operator_name = std::move(*op);
  }
  label = std::string(m->route->pattern);
  if (m->route->access == Access::agent) {
    auto dev = agent_of(req, call.param("id"));
    if (!dev) return from_error(dev.error());
    call.device = *dev;
  } else if (m->route->access == Access::agent_or_operator && !any_token(req)) {
    return error_response(401, "unauthorized", "token required");
  }
  return handlers_.at(m->route->id)(call);
}

bool Api::is_upload(const Request& req) {
  return req.method == "POST" && req.path == protocol::route::kImages;
}

std::optional<Response> Api::upload_precheck(const Request& req) {
  auto op = operator_of(req);
  if (!op) return from_error(op.error());
  auto it = req.query.find("name");
  if (auto v = validate_image_name(it == req.query.end() ? "" : it->second); !v)
    return from_error(v.error());
  return std::nullopt;
}

}  // namespace revive::server
