// Operators: login and tokens, devices and their runs, steps, workflows, batches, settings,
// the event log and the device export.
#include <chrono>

#include "api/browser_session.hpp"
#include "api/handler.hpp"
#include "domain/login_throttle.hpp"

namespace revive::server {

namespace {

Response login(ApiContext& api, Call& c) {
  auto out = throttled_login(api, c, /*browser=*/false);
  if (out.refused) return std::move(*out.refused);
  return json_response({{"token", out.token}});
}

// {"label": "...", "expires_in_days": 1..366 (default 90)}; the token is shown this once.
Response create_token(ApiContext& api, Call& c) {
  auto j = body_json(c.req);
  Seconds ttl = Operators::kApiTokenTtl;
  if (j) {
    if (auto it = j->find("expires_in_days"); it != j->end()) {
      if (!it->is_number_integer() || *it < 1 || *it > 366)
        return error_response(400, "invalid_input", "expires_in_days must be 1 to 366");
      ttl = it->get<Seconds>() * 86400;
    }
  }
  auto t = api.services.operators.create_api_token(c.operator_name, j ? str(*j, "label") : "", ttl);
  return t ? json_response({{"token", *t}}) : from_error(t.error());
}

Response list_tokens(ApiContext& api, Call& c) {
  auto tokens = api.services.operators.tokens(c.operator_name);
  if (!tokens) return from_error(tokens.error());
  Json out = Json::array();
  for (const auto& t : *tokens) {
    out.push_back({{"id", t.id},
                   {"kind", t.kind},
                   {"label", t.label},
                   {"created_at", t.created_at},
                   {"expires_at", t.expires_at ? Json(*t.expires_at) : Json()}});
  }
  return json_response({{"tokens", out}});
}

/// Runs `f` with the path's {id} as a positive integer, else answers 400.
template <class F>
Response with_id(Call& c, const char* what, F&& f) {
  auto id = parse_id(c.param("id"));
  if (!id)
    return error_response(400, "invalid_input",
                          std::string(what) + " id must be a positive integer");
  return f(*id);
}

Response device_action(ApiContext& api, Call& c, RouteId which) {
  return with_id(c, "device", [&](std::int64_t id) {
    Result<void> r;
    if (which == RouteId::device_cancel) {
      r = api.services.runs.cancel_device(id, c.operator_name);
    } else if (which == RouteId::device_restart) {
      r = api.services.runs.restart_device(id, c.operator_name);
    } else {
      auto j = body_json(c.req);
      if (!j) return from_error(j.error());
      r = api.services.catalog.assign_device(id, opt_str(*j, "batch"), opt_str(*j, "workflow"));
    }
    if (r) api.notify("device:" + std::to_string(id));
    return ok_or_error(r);
  });
}

Response step_action(ApiContext& api, Call& c, RouteId which) {
  return with_id(c, "step", [&](std::int64_t id) {
    auto dev = which == RouteId::step_retry ? api.services.runs.retry_step(id, c.operator_name)
                                            : api.services.runs.skip_step(id, c.operator_name);
    if (!dev) return from_error(dev.error());
    api.notify("device:" + std::to_string(*dev));
    return json_response({{"ok", true}, {"device", *dev}});
  });
}

Response workflows(ApiContext& api) {
  auto list = api.services.catalog.workflows();
  if (!list) return from_error(list.error());
  Json out = Json::array();
  for (const auto& w : *list) {
    Json steps = Json::array();
    for (const auto& s : w.workflow.steps)
      steps.push_back({{"kind", std::string(protocol::to_string(s.kind))}, {"params", s.params}});
    out.push_back({{"name", w.workflow.name}, {"steps", steps}, {"default", w.is_default}});
  }
  return json_response(out);
}

Response put_workflow(ApiContext& api, Call& c) {
  auto j = body_json(c.req);
  if (!j) return from_error(j.error());
  return ok_or_error(api.services.catalog.put_workflow(str(*j, "name"), j->value("steps", Json())));
}

Response settings(ApiContext& api, Call& c) {
  auto j = body_json(c.req);
  if (!j) return from_error(j.error());
  // Issue 15: new laptops join through an intake an operator opens, for a time.
  if (j->contains("intake_batch"))
    return error_response(400, "invalid_input",
                          "intake_batch is gone: open an intake instead (POST /api/v1/intake, "
                          "revivectl intake open BATCH)");
  SettingsUpdate u;
  u.default_workflow = opt_str(*j, "default_workflow");
  u.workshop_name = opt_str(*j, "workshop_name");
  u.grading_policy = opt_str(*j, "grading_policy");
  u.certificate_operator = opt_str(*j, "certificate_operator");
  u.reverify_share = opt_str(*j, "reverify_share");
  u.screen_language = opt_str(*j, "screen_language");
  u.public_url = opt_str(*j, "public_url");
  u.loan_reference_keep_days = opt_str(*j, "loan_reference_keep_days");
  return ok_or_error(api.services.catalog.update_settings(u));
}

Response batches(ApiContext& api) {
  auto list = api.services.catalog.batches();
  if (!list) return from_error(list.error());
  Json out = Json::array();
  for (const auto& b : *list) {
    out.push_back({{"id", b.batch.id},
                   {"name", b.batch.name},
                   {"donor", b.batch.donor},
                   {"workflow", b.workflow ? Json(*b.workflow) : Json()},
                   {"image", b.batch.image ? Json(*b.batch.image) : Json()},
                   {"profile_name", b.profile_name ? Json(*b.profile_name) : Json()},
                   {"devices", b.devices}});
  }
  return json_response(out);
}

Response create_batch(ApiContext& api, Call& c) {
  auto j = body_json(c.req);
  if (!j) return from_error(j.error());
  auto id = api.services.catalog.create_batch(str(*j, "name"), str(*j, "donor"),
                                              opt_str(*j, "workflow"), opt_str(*j, "image"));
  return id ? json_response({{"id", *id}}, 201) : from_error(id.error());
}

Response export_devices(ApiContext& api, Call& c) {
  const std::string format = c.query("format", "json");
  auto body = api.services.views.device_export(format);
  if (!body) return from_error(body.error());
  Response r;
  r.content_type = format == "csv" ? "text/csv" : "application/json";
  r.body = std::move(*body);
  return r;
}

Response event_stream(ApiContext& api, const Call& c) {
  Response r;
  r.event_stream = EventStream{};
  r.event_stream->channel = "operators";
  // A revoked or expired session ends its stream too, not only its next request: the token's
  // or, from the operator pages (EventSource sends the cookie, never a bearer), the browser's.
  const std::string token = bearer(c.req);
  if (token.empty()) {
    r.event_stream->still_allowed = [&api, session = cookie_value(c.req, kSessionCookie)] {
      return api.services.operators.authenticate_browser(session).has_value();
    };
  } else {
    r.event_stream->still_allowed = [&api, token] {
      return api.services.operators.authenticate(token).has_value();
    };
  }
  return r;
}

}  // namespace

LoginOutcome throttled_login(ApiContext& api, Call& c, bool browser) {
  LoginOutcome out;
  auto j = body_json(c.req);
  if (!j) {
    out.refused = from_error(j.error());
    return out;
  }
  out.name = str(*j, "name");
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::steady_clock::now().time_since_epoch())
                       .count();
  LoginThrottle& throttle = api.login_throttle;
  if (const auto wait = throttle.retry_after(out.name, c.req.peer, now); wait > 0) {
    c.label = "login_throttled";
    Response r = error_response(
        429, "too_many_attempts",
        "too many failed logins for this operator or from this address: try again in " +
            std::to_string(wait) + " s");
    r.headers.emplace_back("Retry-After", std::to_string(wait));
    out.refused = std::move(r);
    return out;
  }
  const std::string password = str(*j, "password");
  auto t = browser ? api.services.operators.login_browser(out.name, password)
                   : api.services.operators.login(out.name, password);
  if (!t) {
    if (t.error().code == Errc::unauthorized) throttle.failed(out.name, c.req.peer, now);
    out.refused = from_error(t.error());
    return out;
  }
  throttle.succeeded(out.name, c.req.peer);
  out.token = std::move(*t);
  return out;
}

void add_operator_routes(HandlerTable& t, ApiContext& api) {
  Views& views = api.services.views;
  t.add(RouteId::login, [&api](Call& c) { return login(api, c); });
  t.add(RouteId::create_token, [&api](Call& c) { return create_token(api, c); });
  t.add(RouteId::tokens, [&api](Call& c) { return list_tokens(api, c); });
  t.add(RouteId::revoke_token, [&api](Call& c) {
    auto r = api.services.operators.revoke(c.operator_name, c.param("id"));
    if (r && api.recheck_streams) api.recheck_streams();  // a revoked kiosk link's wall ends now
    return ok_or_error(r);
  });
  t.add(RouteId::devices, [&views](Call&) { return reply(views.devices()); });
  t.add(RouteId::device, [&views](Call& c) {
    return with_id(c, "device", [&](std::int64_t id) { return reply(views.device_detail(id)); });
  });
  for (auto id : {RouteId::device_cancel, RouteId::device_restart, RouteId::device_assign})
    t.add(id, [&api, id](Call& c) { return device_action(api, c, id); });
  for (auto id : {RouteId::step_retry, RouteId::step_skip})
    t.add(id, [&api, id](Call& c) { return step_action(api, c, id); });
  t.add(RouteId::workflows, [&api](Call&) { return workflows(api); });
  t.add(RouteId::put_workflow, [&api](Call& c) { return put_workflow(api, c); });
  t.add(RouteId::settings, [&api](Call& c) { return settings(api, c); });
  t.add(RouteId::batches, [&api](Call&) { return batches(api); });
  t.add(RouteId::create_batch, [&api](Call& c) { return create_batch(api, c); });
  t.add(RouteId::events, [&views](Call& c) {
    return reply(views.events_since(parse_id(c.query("after")).value_or(0), 500));
  });
  t.add(RouteId::event_stream, [&api](Call& c) { return event_stream(api, c); });
  t.add(RouteId::export_devices, [&api](Call& c) { return export_devices(api, c); });
}

}  // namespace revive::server
