// The settings page (issue 16): what it shows, the named recipient profiles and the preview of
// an edited grading policy. The settings themselves change through POST /api/v1/settings
// (operator_routes), as with `revivectl settings set`.
#include "api/handler.hpp"

namespace revive::server {

namespace {

Response put_profile(ApiContext& api, Call& c) {
  auto j = body_json(c.req);
  if (!j) return from_error(j.error());
  const Json fields = j->value("fields", Json::object());
  return ok_or_error(api.services.recipient_profiles.put(str(*j, "name"), fields));
}

// The grading runs on the blocking pool (it grows with the laptops on file); the answer waits
// for it as an image import's does.
Response preview(ApiContext& api, Call& c) {
  auto j = body_json(c.req);
  if (!j) return from_error(j.error());
  auto policy = j->find("grading_policy");
  if (policy == j->end() || !policy->is_string())
    return error_response(400, "invalid_input", "grading_policy: the policy's text is missing");
  auto job = api.services.grading_preview.start(
      policy->get<std::string>(),
      [notify = api.notify](std::uint64_t id) { notify("preview:" + std::to_string(id)); });
  if (!job) return from_error(job.error());
  GradingPreview& previews = api.services.grading_preview;
  Response r;
  r.long_poll = LongPoll{"preview:" + std::to_string(*job), std::chrono::seconds(60),
                         [&previews, id = *job](bool final) -> std::optional<Response> {
                           auto outcome = previews.take(id, final);
                           if (!outcome) return from_error(outcome.error());
                           if (*outcome) return reply(**outcome);
                           if (!final) return std::nullopt;
                           return error_response(503, "busy", "the preview took too long");
                         }};
  return r;
}

}  // namespace

void add_settings_routes(HandlerTable& t, ApiContext& api) {
  t.add(RouteId::settings_view, [&api](Call&) { return reply(api.services.catalog.settings()); });
  t.add(RouteId::recipient_profiles,
        [&api](Call&) { return reply(api.services.recipient_profiles.list()); });
  t.add(RouteId::put_recipient_profile, [&api](Call& c) { return put_profile(api, c); });
  t.add(RouteId::delete_recipient_profile, [&api](Call& c) {
    return ok_or_error(api.services.recipient_profiles.remove(c.param("name")));
  });
  t.add(RouteId::grading_preview, [&api](Call& c) { return preview(api, c); });
}

}  // namespace revive::server
