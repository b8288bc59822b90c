#include "domain/certificates.hpp"

#include <algorithm>
#include <cstdlib>

#include "certificate.hpp"
#include "certificate_pdf.hpp"
#include "domain/step_params.hpp"

namespace revive::server {

namespace {

std::string asset_tag_of(const std::optional<Json>& inventory) {
  if (!inventory || !inventory->is_object()) return "";
  const Json chassis = inventory->value("smbios", Json::object()).value("chassis", Json::object());
  auto it = chassis.find("asset_tag");
  return it != chassis.end() && it->is_string() ? it->get<std::string>() : "";
}

Error no_certificate(const std::string& id) {
  return make_error(Errc::not_found, "no certificate " + id);
}

}  // namespace

Result<CertificateFacts> certificate_facts(Storage& s, std::int64_t device_id) {
  REVIVE_ASSIGN(d, s.devices().find(device_id));
  if (!d)
    return make_error(Errc::not_found, "device " + std::to_string(device_id) + " does not exist");
  REVIVE_ASSIGN(inventory, s.devices().inventory(device_id));
  CertificateFacts f;
  f.inventory = inventory;
  f.operator_name = d->intake_operator.value_or("");
  f.device = {{"device_id", device_id},
              {"vendor", d->vendor},
              {"model", d->model},
              {"serial", d->serial},
              {"system_uuid", d->system_uuid},
              {"asset_tag", asset_tag_of(inventory)}};
  if (d->batch_id) {
    REVIVE_ASSIGN(b, s.batches().find(*d->batch_id));
    if (b) f.donor_batch = {{"name", b->name}, {"donor", b->donor}};
  }
  return f;
}

Result<CertificateFacts> wipe_certificate_facts(Storage& s, const StepRow& step) {
  REVIVE_ASSIGN(facts, certificate_facts(s, step.device_id));
  // What the job named, decided as when it was handed out (the workflow's list wins).
  StepParamSources sources;
  sources.inventory = [&facts]() -> Result<std::optional<Json>> { return facts.inventory; };
  REVIVE_ASSIGN(params, step_parameters(StepKind::wipe, step.params, sources));
  facts.job_drives = params.value("drives", Json::array());
  // The newest laptop certificate another step earned (a re-verification supersedes its
  // original, so the newest is the one that stands); another attempt of this step is not a
  // previous visit.
  REVIVE_ASSIGN(certs, s.certificates().for_device(step.device_id));  // newest first
  for (const auto& c : certs) {
    if (c.kind == "laptop" && c.step_id != step.id) {
      facts.previous_laptop_certificate = c.cert_id;
      break;
    }
  }
  return facts;
}

Result<std::vector<std::string>> operators_who_handled(Storage& s, std::int64_t device_id) {
  REVIVE_ASSIGN(d, s.devices().find(device_id));
  std::vector<std::string> out;
  if (d && d->intake_operator) out.push_back(*d->intake_operator);
  REVIVE_ASSIGN(events, s.events().of_device(device_id,
                                             {"step-retry", "step-skipped", "workflow-cancelled",
                                              "workflow-restarted", "enrolment-accepted"},
                                             10000));
  for (const auto& e : events) {
    const Json who = e.data.is_object() ? e.data.value("operator", Json()) : Json();
    if (who.is_string() && std::find(out.begin(), out.end(), who) == out.end())
      out.push_back(who.get<std::string>());
  }
  return out;
}

Result<CertifierSettings> certifier_settings(SettingsRepository& settings) {
  CertifierSettings out;
  REVIVE_ASSIGN(workshop, settings.get("workshop_name"));
  REVIVE_ASSIGN(op, settings.get("certificate_operator"));
  REVIVE_ASSIGN(share, settings.get("reverify_share"));
  if (workshop) out.workshop = *workshop;
  if (op) out.operator_name = *op;
  if (share) out.reverify_share = std::clamp(std::strtod(share->c_str(), nullptr), 0.0, 1.0);
  return out;
}

Result<std::optional<std::string>> newest_laptop_result(CertificateRepository& certificates,
                                                        std::int64_t step_id) {
  REVIVE_ASSIGN(c, certificates.newest_for_step(step_id, "laptop"));
  if (!c) return std::optional<std::string>();
  return std::optional<std::string>(c->result);
}

Result<std::vector<protocol::CertificateSummary>> Certificates::for_device(std::int64_t device) {
  REVIVE_ASSIGN(rows, ctx_.storage().certificates().for_device(device));
  std::vector<protocol::CertificateSummary> out;
  out.reserve(rows.size());
  for (const auto& c : rows)
    out.push_back(
        protocol::CertificateSummary{c.cert_id, c.kind, c.result, c.step_id, c.created_at});
  return out;
}

Result<Document> Certificates::document(const std::string& cert_id, bool pdf) {
  REVIVE_ASSIGN(c, ctx_.storage().certificates().find(cert_id));
  if (!c) return no_certificate(cert_id);
  if (!pdf) return Document{"application/json", c->body};
  REVIVE_ASSIGN(rendered, cert::render_pdf(c->body));
  return Document{"application/pdf", std::move(rendered)};
}

Result<Json> Certificates::verified(const CertificateRow& row) const {
  Error last = make_error(Errc::bad_signature, "no trusted certificate key");
  for (const auto& key : trusted_) {
    auto v = cert::verify_json(row.body, key);
    if (v) return std::move(v->body);
    last = v.error();
  }
  return last.with_context("certificate " + row.cert_id);
}

Result<Revalidation> Certificates::revalidate(const std::string& cert_id, const std::string& who,
                                              const std::string& verdict, const std::string& note) {
  Storage& s = ctx_.storage();
  REVIVE_ASSIGN(old, s.certificates().find(cert_id));
  if (!old) return no_certificate(cert_id);
  // A superseded certificate is history: validating it again would undo a dispute.
  REVIVE_ASSIGN(newer, s.certificates().superseded_by(cert_id));
  if (newer) {
    return make_error(Errc::conflict, "certificate " + cert_id + " was superseded by " +
                                          newer->cert_id + ": re-verify the newest one");
  }
  REVIVE_ASSIGN(body, verified(*old));
  REVIVE_ASSIGN(handlers, operators_who_handled(s, old->device_id));
  REVIVE_ASSIGN(next, cert::revalidated(body, who, verdict, note, certifier_.now(), handlers));
  const NewCertificate c = certifier_.sign_one(next);
  REVIVE_ASSIGN(uow, s.begin());
  REVIVE_TRY(s.certificates().add(CertificateRow{c.cert_id, old->device_id, old->step_id, c.kind,
                                                 c.result, c.body, ctx_.now(), cert_id}));
  Json event = {{"certificate", c.cert_id}, {"kind", c.kind}, {"result", c.result}, {"by", who}};
  event["step"] = old->step_id ? Json(*old->step_id) : Json(0);
  REVIVE_TRY(ctx_.log(old->device_id, "certificate", event));
  REVIVE_TRY(uow->commit());
  ctx_.device_changed(old->device_id);
  return Revalidation{c.cert_id, c.result, cert_id};
}

Result<Document> Certificates::batch_summary(const std::string& name, const std::string& format) {
  Storage& s = ctx_.storage();
  REVIVE_ASSIGN(batch, s.batches().find(name));
  if (!batch) return make_error(Errc::not_found, "no batch " + name);
  REVIVE_ASSIGN(rows, s.certificates().newest_per_device_in_batch(batch->id, "laptop"));
  std::vector<Json> laptops;
  for (const auto& row : rows) {
    REVIVE_ASSIGN(body, verified(row));
    laptops.push_back(std::move(body));
  }
  REVIVE_ASSIGN(settings, certifier_settings(s.settings()));
  const Json donor = {{"name", name}, {"donor", batch->donor}};
  const Json summary = cert::batch_summary(settings.workshop, donor, certifier_.now(), laptops);
  if (format == "csv") return Document{"text/csv", cert::batch_csv(summary)};
  if (format != "json" && format != "pdf")
    return make_error(Errc::invalid_input, "format must be json, csv or pdf");
  Document doc{"application/json", certifier_.sign_one(summary).body};
  if (format == "json") return doc;
  REVIVE_ASSIGN(pdf, cert::render_pdf(doc.body));
  return Document{"application/pdf", std::move(pdf)};
}

}  // namespace revive::server
