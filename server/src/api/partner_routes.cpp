// Partner organisations, hand-overs and loans (issue 16), for revivectl and the operator pages
// alike (operator routes: a bearer token, or the session cookie with its CSRF token for a
// change). The rules are domain/partners.hpp and domain/loans.hpp; the list the organisation
// signs is domain/handover_list.hpp, in the workshop's language.
#include "api/handler.hpp"
#include "domain/handover_list.hpp"

namespace revive::server {

namespace {

OrganisationInput organisation_input(const Json& j) {
  return {opt_str(j, "name"), opt_str(j, "contact"), opt_str(j, "kind")};
}

Response create_organisation(ApiContext& api, const Call& c) {
  auto j = body_json(c.req);
  if (!j) return from_error(j.error());
  return reply(api.services.partners.create_organisation(organisation_input(*j)), 201);
}

Response update_organisation(ApiContext& api, const Call& c) {
  auto id = parse_id(c.param("id"));
  if (!id)
    return error_response(400, "invalid_input", "organisation id must be a positive integer");
  auto j = body_json(c.req);
  if (!j) return from_error(j.error());
  return reply(api.services.partners.update_organisation(*id, organisation_input(*j)));
}

// {"organisation": id, "laptops": [id, ...]}
Response create_handover(ApiContext& api, const Call& c) {
  auto j = body_json(c.req);
  if (!j) return from_error(j.error());
  const auto org = j->find("organisation");
  const auto laptops = j->find("laptops");
  if (org == j->end() || !org->is_number_integer() || laptops == j->end() || !laptops->is_array())
    return error_response(400, "invalid_input",
                          "give \"organisation\" (an id) and \"laptops\" (a list of laptop ids)");
  std::vector<std::int64_t> ids;
  for (const auto& l : *laptops) {
    if (!l.is_number_integer())
      return error_response(400, "invalid_input", "\"laptops\" holds laptop ids (integers)");
    ids.push_back(l.get<std::int64_t>());
  }
  return reply(api.services.partners.hand_over(org->get<std::int64_t>(), ids, c.operator_name),
               201);
}

Response handover(ApiContext& api, const Call& c) {
  auto id = parse_id(c.param("id"));
  if (!id) return error_response(400, "invalid_input", "hand-over id must be a positive integer");
  return reply(api.services.partners.handover(*id));
}

// The handover.* strings of server/web/i18n/<lang>.json; the defaults (English) for any missing.
HandoverWords handover_words(const std::string& language) {
  HandoverWords w;
  const Json j = web_strings(language);
  const std::pair<const char*, std::string*> keys[] = {
      {"handover.title", &w.title},
      {"handover.organisation", &w.organisation},
      {"handover.contact", &w.contact},
      {"handover.date", &w.date},
      {"handover.operator", &w.operator_},
      {"handover.laptops", &w.laptops},
      {"handover.model", &w.model},
      {"handover.serial", &w.serial},
      {"handover.grade", &w.grade},
      {"handover.certificate", &w.certificate},
      {"handover.handed_over_by", &w.handed_over_by},
      {"handover.received_by", &w.received_by},
      {"ui.kind.library", &w.kind_library},
      {"ui.kind.welfare", &w.kind_welfare},
      {"ui.kind.school", &w.kind_school},
      {"ui.kind.other", &w.kind_other}};
  for (const auto& [key, into] : keys) {
    if (auto it = j.find(key); it != j.end() && it->is_string()) *into = it->get<std::string>();
  }
  return w;
}

Response handover_list(ApiContext& api, const Call& c) {
  auto id = parse_id(c.param("id"));
  if (!id) return error_response(400, "invalid_input", "hand-over id must be a positive integer");
  const std::string format = c.query("format", "pdf");
  auto d = handover_document(api.services.ctx, api.services.partners, *id, format,
                             handover_words(workshop_language(api, c)));
  if (!d) return from_error(d.error());
  Response out;
  out.content_type = d->content_type;
  out.headers.emplace_back("Content-Disposition", "inline; filename=\"handover-" +
                                                      std::to_string(*id) + "." + format + "\"");
  out.body = std::move(d->body);
  return out;
}

Response lend(ApiContext& api, const Call& c) {
  auto id = parse_id(c.param("id"));
  if (!id) return error_response(400, "invalid_input", "laptop id must be a positive integer");
  auto j = body_json(c.req);
  if (!j) return from_error(j.error());
  if (j->contains("reference") && !(*j)["reference"].is_string())
    return error_response(400, "invalid_input", "\"reference\" is text (or absent)");
  return reply(api.services.loans.lend(*id, str(*j, "reference"), c.operator_name));
}

Response give_back(ApiContext& api, const Call& c) {
  auto id = parse_id(c.param("id"));
  if (!id) return error_response(400, "invalid_input", "laptop id must be a positive integer");
  return reply(api.services.loans.give_back(*id, c.operator_name));
}

}  // namespace

void add_partner_routes(HandlerTable& t, ApiContext& api) {
  t.add(RouteId::organisations,
        [&api](Call&) { return reply(api.services.partners.organisations()); });
  t.add(RouteId::create_organisation, [&api](Call& c) { return create_organisation(api, c); });
  t.add(RouteId::update_organisation, [&api](Call& c) { return update_organisation(api, c); });
  t.add(RouteId::handovers, [&api](Call&) { return reply(api.services.partners.handovers()); });
  t.add(RouteId::create_handover, [&api](Call& c) { return create_handover(api, c); });
  t.add(RouteId::handover_candidates,
        [&api](Call&) { return reply(api.services.partners.candidates()); });
  t.add(RouteId::handover, [&api](Call& c) { return handover(api, c); });
  t.add(RouteId::handover_list, [&api](Call& c) { return handover_list(api, c); });
  t.add(RouteId::device_lend, [&api](Call& c) { return lend(api, c); });
  t.add(RouteId::device_loan_return, [&api](Call& c) { return give_back(api, c); });
}

}  // namespace revive::server
