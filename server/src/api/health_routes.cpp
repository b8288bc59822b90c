// Health, Prometheus metrics and the server's public keys: the one agents pin (manifests,
// jobs) and the one certificates are signed with.
#include "api/deploy_metrics.hpp"
#include "api/handler.hpp"

namespace revive::server {

void add_health_routes(HandlerTable& t, ApiContext& api) {
  t.add(RouteId::healthz, [](Call&) { return json_response({{"status", "ok"}}); });
  t.add(RouteId::metrics, [&api](Call&) {
    auto counts = api.services.views.counts_by_state();
    Response r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = api.metrics.render(counts ? *counts : std::map<std::string, std::int64_t>{});
    r.body += render_deploy_metrics(api.services.deployments.stats());
    return r;
  });
  t.add(RouteId::public_key, [&api](Call&) {
    Response r;
    r.content_type = "text/plain";
    r.body = public_key_to_text(api.store.key().public_key());
    return r;
  });
  t.add(RouteId::certificate_key, [&api](Call&) {
    Response r;
    r.content_type = "text/plain";
    r.body = public_key_to_text(api.services.certificates.signing_key());
    return r;
  });
}

}  // namespace revive::server
