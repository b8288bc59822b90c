// Intake and refused enrolments (issue 15): an operator opens intake for a batch, until a
// time, optionally for listed MACs or vendors; closes it; sees it and the machines turned
// away; accepts a second enrolment of a laptop whose agent was alive.
#include "api/handler.hpp"

namespace revive::server {

namespace {

constexpr Seconds kDefaultIntakeS = 4L * 3600;

// A list of strings, or invalid_input naming the key.
Result<std::vector<std::string>> strings(const Json& j, const char* key) {
  std::vector<std::string> out;
  if (!j.contains(key)) return out;
  const Json& list = j[key];
  if (!list.is_array())
    return make_error(Errc::invalid_input, std::string(key) + " must be a list of strings");
  for (const auto& v : list) {
    if (!v.is_string())
      return make_error(Errc::invalid_input, std::string(key) + " must be a list of strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

// {batch, until (seconds since the epoch) | for_s (from now; default 4 h), macs?, vendors?}
Result<IntakeRequest> intake_request(const Json& j, Seconds now) {
  IntakeRequest r;
  r.batch = str(j, "batch");
  if (r.batch.empty()) return make_error(Errc::invalid_input, "name the batch the intake is for");
  const Json until = j.value("until", Json());
  const Json for_s = j.value("for_s", Json());
  if (!until.is_null() && !until.is_number_integer())
    return make_error(Errc::invalid_input, "until must be seconds since the epoch");
  if (!for_s.is_null() && !for_s.is_number_integer())
    return make_error(Errc::invalid_input, "for_s must be a number of seconds");
  r.until = until.is_number_integer()   ? until.get<Seconds>()
            : for_s.is_number_integer() ? now + for_s.get<Seconds>()
                                        : now + kDefaultIntakeS;
  REVIVE_ASSIGN(macs, strings(j, "macs"));
  REVIVE_ASSIGN(vendors, strings(j, "vendors"));
  r.macs = std::move(macs);
  r.vendors = std::move(vendors);
  return r;
}

Response open_intake(ApiContext& api, Call& c) {
  auto j = body_json(c.req);
  if (!j) return from_error(j.error());
  auto r = intake_request(*j, api.services.ctx.now());
  if (!r) return from_error(r.error());
  auto row = api.services.intake.open(*r, c.operator_name);
  if (!row) return from_error(row.error());
  api.notify("intake");
  return reply(api.services.intake.status(), 201);
}

Response accept_enrolment(ApiContext& api, Call& c) {
  auto id = parse_id(c.param("id"));
  if (!id) return error_response(400, "invalid_input", "device id must be a positive integer");
  auto r = api.services.enrolment.accept_new_enrolment(*id, c.operator_name);
  if (r) api.notify("device:" + std::to_string(*id));
  return ok_or_error(r);
}

}  // namespace

void add_intake_routes(HandlerTable& t, ApiContext& api) {
  Intake& intake = api.services.intake;
  t.add(RouteId::intake_status, [&intake](Call&) { return reply(intake.status()); });
  t.add(RouteId::intake_open, [&api](Call& c) { return open_intake(api, c); });
  t.add(RouteId::intake_close, [&api](Call& c) {
    auto r = api.services.intake.close(c.operator_name);
    if (r) api.notify("intake");
    return ok_or_error(r);
  });
  t.add(RouteId::device_accept_enrolment, [&api](Call& c) { return accept_enrolment(api, c); });
}

}  // namespace revive::server
