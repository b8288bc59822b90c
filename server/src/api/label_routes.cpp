// Laptop labels for operators (one laptop, or every certified laptop of a batch, on 62 mm tape
// or A4 sheets, in the workshop's language) and the public link a label's QR code opens.
#include "api/handler.hpp"
#include "domain/labels.hpp"

namespace revive::server {

namespace {

// The label.* strings of server/web/i18n/<lang>.json; the defaults (English) for any missing.
LabelWords words_in(const std::string& language) {
  LabelWords w;
  const Json j = web_strings(language);
  auto take = [&](const char* key, std::string& into) {
    if (auto it = j.find(key); it != j.end() && it->is_string()) into = it->get<std::string>();
  };
  take("label.grade", w.grade);
  take("label.asset", w.asset);
  take("label.serial", w.serial);
  take("label.ram", w.ram);
  take("label.battery", w.battery);
  take("label.no_battery", w.no_battery);
  take("label.windows11_ready", w.windows11_ready);
  take("label.windows11_not", w.windows11_not);
  take("label.certificate", w.certificate);
  return w;
}

Response pdf(const Result<std::string>& r, const std::string& filename) {
  if (!r) return from_error(r.error());
  Response out;
  out.content_type = "application/pdf";
  out.headers.emplace_back("Content-Disposition", "inline; filename=\"" + filename + "\"");
  out.body = *r;
  return out;
}

// Everything the two label routes share: the stock, the words, where links point.
struct LabelRequest {
  cert::LabelStock stock;
  LabelWords words;
  std::string link_base;
};

Result<LabelRequest> label_request(ApiContext& api, const Call& c) {
  const auto stock = cert::parse_label_stock(c.query("stock", "62mm"));
  if (!stock) return make_error(Errc::invalid_input, "stock must be 62mm or a4");
  // A label leaves the workshop: its link is the server's public address when one is set.
  REVIVE_ASSIGN(public_url, api.services.ctx.storage().settings().get("public_url"));
  std::string link_base = public_url.value_or("");
  if (link_base.empty()) {
    const std::string host = c.req.header("host");
    if (!plausible_host(host))
      return make_error(Errc::invalid_input, "the Host header must name this server (host[:port])");
    link_base = (c.req.tls ? "https://" : "http://") + host;
  }
  return LabelRequest{*stock, words_in(workshop_language(api, c)), std::move(link_base)};
}

Response device_label(ApiContext& api, const Call& c) {
  auto id = parse_id(c.param("id"));
  if (!id) return error_response(400, "invalid_input", "device id must be a positive integer");
  auto r = label_request(api, c);
  if (!r) return from_error(r.error());
  Labels labels(api.services.ctx, api.services.certificates);
  return pdf(labels.device_label(*id, r->stock, r->link_base, r->words),
             "label-" + std::to_string(*id) + ".pdf");
}

Response batch_labels(ApiContext& api, const Call& c) {
  auto r = label_request(api, c);
  if (!r) return from_error(r.error());
  Labels labels(api.services.ctx, api.services.certificates);
  return pdf(labels.batch_labels(c.param("name"), r->stock, r->link_base, r->words), "labels.pdf");
}

Response linked_certificate(ApiContext& api, const Call& c) {
  Labels labels(api.services.ctx, api.services.certificates);
  auto d = labels.linked_certificate(c.param("cert"), c.param("key"));
  if (!d) return from_error(d.error());
  Response out;
  out.content_type = d->content_type;
  out.headers.emplace_back("Cache-Control", "no-store");
  out.headers.emplace_back("X-Content-Type-Options", "nosniff");
  out.body = std::move(d->body);
  return out;
}

}  // namespace

void add_label_routes(HandlerTable& t, ApiContext& api) {
  t.add(RouteId::device_label, [&api](Call& c) { return device_label(api, c); });
  t.add(RouteId::batch_labels, [&api](Call& c) { return batch_labels(api, c); });
  t.add(RouteId::linked_certificate, [&api](Call& c) { return linked_certificate(api, c); });
}

}  // namespace revive::server
