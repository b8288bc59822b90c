#include "domain/partners.hpp"

#include <algorithm>
#include <set>

#include "domain/json_fields.hpp"
#include "domain/laptop_pages.hpp"

namespace revive::server {

namespace {

constexpr std::size_t kMaxHandover = 500;  // a van load is far less; more is a mistake

Error invalid(const std::string& why) { return make_error(Errc::invalid_input, why); }

Json organisation_ref(const OrganisationRow& o) {
  return {{"id", o.id}, {"name", o.name}, {"kind", o.kind}};
}

Result<OrganisationRow> organisation(Storage& s, std::int64_t id) {
  REVIVE_ASSIGN(o, s.organisations().find(id));
  if (!o) return make_error(Errc::not_found, "no organisation " + std::to_string(id));
  return *o;
}

}  // namespace

Result<void> validate(const OrganisationRow& o) {
  if (o.name.empty() || o.name.size() > 100)
    return invalid("an organisation's name must be 1-100 characters");
  if (o.contact.size() > 500) return invalid("an organisation's contact is at most 500 characters");
  const bool known = std::any_of(std::begin(kOrganisationKinds), std::end(kOrganisationKinds),
                                 [&](const char* k) { return o.kind == k; });
  if (!known)
    return invalid("an organisation's kind must be library, welfare, school or other, not \"" +
                   o.kind + "\"");
  return {};
}

Json organisation_json(const OrganisationRow& o) {
  return {{"id", o.id},
          {"name", o.name},
          {"contact", o.contact},
          {"kind", o.kind},
          {"created_at", o.created_at}};
}

std::string handover_refusal(const Json& summary, bool handed_over_since_run) {
  const std::string state = text_field(summary, "state");
  if (state != "done") return "is not finished (" + (state.empty() ? "idle" : state) + ")";
  const std::string grade = text_field(summary, "grade");
  if (grade.empty()) return "has no grade";
  if (grade == "reject") return "was graded reject";
  if (handed_over_since_run) return "was handed over already";
  return "";
}

Result<std::optional<HandoverRow>> current_handover(Storage& s, std::int64_t device_id) {
  REVIVE_ASSIGN(h, s.handovers().latest_for(device_id));
  if (!h) return std::optional<HandoverRow>();
  REVIVE_ASSIGN(run, s.runs().latest(device_id));
  // A run that began after the hand-over is a new visit: the laptop came back. Times are in
  // seconds, and a loan returned in the hand-over's second starts its run in that second too;
  // the run handed over was finished before (a hand-over takes finished laptops only).
  const bool after =
      run && (run->created_at > h->at || (run->created_at == h->at && !run->finished_at));
  if (after) return std::optional<HandoverRow>();
  return std::move(h);
}

Result<Json> whereabouts(DomainContext& ctx, std::int64_t device_id) {
  Storage& s = ctx.storage();
  REVIVE_ASSIGN(h, s.handovers().latest_for(device_id));
  REVIVE_ASSIGN(current, current_handover(s, device_id));
  REVIVE_ASSIGN(loans, s.handovers().loans_of(device_id));
  Json handover;
  if (h) {
    REVIVE_ASSIGN(org, organisation(s, h->organisation_id));
    handover = {{"id", h->id},
                {"at", h->at},
                {"operator", h->operator_name},
                {"organisation", organisation_ref(org)}};
  }
  Json list = Json::array();
  for (const auto& l : loans) {
    list.push_back({{"id", l.id},
                    {"handover", l.handover_id},
                    {"reference", l.reference},
                    {"reference_erased", l.reference_erased},
                    {"lent_at", l.lent_at},
                    {"lent_by", l.lent_by},
                    {"returned_at", l.returned_at ? Json(*l.returned_at) : Json()},
                    {"returned_by", l.returned_by ? Json(*l.returned_by) : Json()}});
  }
  return Json{{"handover", std::move(handover)},
              {"current", current.has_value()},
              {"loans", std::move(list)}};
}

Result<Json> Partners::create_organisation(const OrganisationInput& in) {
  OrganisationRow o{0, in.name.value_or(""), in.contact.value_or(""), in.kind.value_or("other"),
                    ctx_.now()};
  REVIVE_TRY(validate(o));
  REVIVE_ASSIGN(uow, ctx_.storage().begin());
  REVIVE_ASSIGN(id, ctx_.storage().organisations().create(o));
  o.id = id;
  REVIVE_TRY(ctx_.log(std::nullopt, "organisation-created", organisation_ref(o)));
  REVIVE_TRY(uow->commit());
  return organisation_json(o);
}

Result<Json> Partners::update_organisation(std::int64_t id, const OrganisationInput& in) {
  REVIVE_ASSIGN(uow, ctx_.storage().begin());
  REVIVE_ASSIGN(o, organisation(ctx_.storage(), id));
  if (in.name) o.name = *in.name;
  if (in.contact) o.contact = *in.contact;
  if (in.kind) o.kind = *in.kind;
  REVIVE_TRY(validate(o));
  REVIVE_TRY(ctx_.storage().organisations().update(o));
  REVIVE_TRY(uow->commit());
  return organisation_json(o);
}

Result<Json> Partners::organisations() {
  REVIVE_ASSIGN(all, ctx_.storage().organisations().list());
  Json out = Json::array();
  for (const auto& o : all) out.push_back(organisation_json(o));
  return out;
}

Result<Json> Partners::hand_over(std::int64_t organisation_id,
                                 const std::vector<std::int64_t>& devices,
                                 const std::string& operator_name) {
  if (devices.empty()) return invalid("choose at least one laptop to hand over");
  if (devices.size() > kMaxHandover)
    return invalid("at most " + std::to_string(kMaxHandover) + " laptops in one hand-over");
  if (std::set<std::int64_t>(devices.begin(), devices.end()).size() != devices.size())
    return invalid("a laptop is named twice");
  REVIVE_ASSIGN(uow, ctx_.storage().begin());
  REVIVE_ASSIGN(org, organisation(ctx_.storage(), organisation_id));
  std::string refused;
  for (const std::int64_t d : devices) {
    REVIVE_ASSIGN(summary, views_.device_summary(d));
    REVIVE_ASSIGN(out, current_handover(ctx_.storage(), d));
    const std::string why = handover_refusal(summary, out.has_value());
    if (!why.empty())
      refused += (refused.empty() ? "" : "; ") + ("laptop " + std::to_string(d) + " " + why);
  }
  if (!refused.empty()) return make_error(Errc::conflict, "nothing was handed over: " + refused);
  HandoverRow h{0, organisation_id, operator_name, ctx_.now(), devices};
  std::sort(h.devices.begin(), h.devices.end());
  REVIVE_ASSIGN(id, ctx_.storage().handovers().create(h));
  for (const std::int64_t d : h.devices) {
    REVIVE_TRY(
        ctx_.log(d, "handed-over",
                 {{"handover", id}, {"organisation", org.name}, {"operator", operator_name}}));
  }
  REVIVE_TRY(uow->commit());
  for (const std::int64_t d : h.devices) ctx_.device_changed(d);
  return handover(id);
}

Result<Json> Partners::laptop_line(std::int64_t device_id) {
  REVIVE_ASSIGN(summary, views_.device_summary(device_id));
  REVIVE_ASSIGN(certs, ctx_.storage().certificates().for_device(device_id));  // newest first
  const auto newest = std::find_if(certs.begin(), certs.end(),
                                   [](const CertificateRow& c) { return c.kind == "laptop"; });
  return Json{{"id", device_id},
              {"vendor", summary.value("vendor", Json())},
              {"model", summary.value("model", Json())},
              {"serial", summary.value("serial", Json())},
              {"grade", summary.value("grade", Json())},
              {"certificate", newest == certs.end() ? Json() : Json(newest->cert_id)}};
}

Result<Json> Partners::handover(std::int64_t id) {
  REVIVE_ASSIGN(h, ctx_.storage().handovers().find(id));
  if (!h) return make_error(Errc::not_found, "no hand-over " + std::to_string(id));
  REVIVE_ASSIGN(org, organisation(ctx_.storage(), h->organisation_id));
  Json laptops = Json::array();
  for (const std::int64_t d : h->devices) {
    REVIVE_ASSIGN(line, laptop_line(d));
    laptops.push_back(std::move(line));
  }
  return Json{{"id", h->id},
              {"at", h->at},
              {"operator", h->operator_name},
              {"organisation", organisation_json(org)},
              {"laptops", std::move(laptops)}};
}

Result<Json> Partners::handovers() {
  REVIVE_ASSIGN(all, ctx_.storage().handovers().list());
  Json out = Json::array();
  for (const auto& h : all) {
    REVIVE_ASSIGN(org, organisation(ctx_.storage(), h.organisation_id));
    out.push_back({{"id", h.id},
                   {"at", h.at},
                   {"operator", h.operator_name},
                   {"organisation", organisation_ref(org)},
                   {"laptops", h.devices.size()}});
  }
  return out;
}

Result<Json> Partners::candidates() {
  REVIVE_ASSIGN(all, views_.devices());
  Json out = Json::array();
  for (const auto& summary : all) {
    const auto id = summary.value("id", std::int64_t{0});
    REVIVE_ASSIGN(out_now, current_handover(ctx_.storage(), id));
    if (handover_refusal(summary, out_now.has_value()).empty())
      out.push_back(laptop_entry(summary));
  }
  return out;
}

}  // namespace revive::server
