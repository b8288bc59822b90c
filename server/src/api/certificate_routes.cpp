// Erasure certificates for operators: the device's list, the signed JSON and its PDF, a second
// volunteer's re-verification, and the donor's batch summary.
#include "api/handler.hpp"

namespace revive::server {

namespace {

Response document(const Result<Document>& d) {
  if (!d) return from_error(d.error());
  Response r;
  r.content_type = d->content_type;
  r.body = d->body;
  return r;
}

Response device_certificates(ApiContext& api, Call& c) {
  auto id = parse_id(c.param("id"));
  if (!id) return error_response(400, "invalid_input", "device id must be a positive integer");
  auto list = api.services.certificates.for_device(*id);
  if (!list) return from_error(list.error());
  Json out = Json::array();
  for (const auto& s : *list) out.push_back(protocol::to_json(s));
  return json_response(out);
}

Response validate(ApiContext& api, Call& c) {
  auto j = body_json(c.req);
  if (!j) return from_error(j.error());
  auto v = api.services.certificates.revalidate(c.param("cert"), c.operator_name,
                                                str(*j, "verdict"), str(*j, "note"));
  if (!v) return from_error(v.error());
  return json_response(
      {{"cert_id", v->cert_id}, {"result", v->result}, {"supersedes", v->supersedes}}, 201);
}

}  // namespace

void add_certificate_routes(HandlerTable& t, ApiContext& api) {
  Certificates& certs = api.services.certificates;
  t.add(RouteId::device_certificates, [&api](Call& c) { return device_certificates(api, c); });
  t.add(RouteId::certificate,
        [&certs](Call& c) { return document(certs.document(c.param("cert"), false)); });
  t.add(RouteId::certificate_pdf,
        [&certs](Call& c) { return document(certs.document(c.param("cert"), true)); });
  t.add(RouteId::certificate_validate, [&api](Call& c) { return validate(api, c); });
  t.add(RouteId::batch_certificate, [&certs](Call& c) {
    return document(certs.batch_summary(c.param("name"), c.query("format", "json")));
  });
}

}  // namespace revive::server
