// The images, batches and donors pages (issue 16): the views they show and a batch's image and
// recipient profile. Uploads and removal of images are image_routes'; creating a batch and the
// donor's certificate are the existing operator and certificate routes.
#include "api/handler.hpp"

namespace revive::server {

namespace {

Response update_batch(ApiContext& api, Call& c) {
  auto j = body_json(c.req);
  if (!j) return from_error(j.error());
  BatchUpdate u;
  if (auto it = j->find("image"); it != j->end()) {
    if (it->is_string() && !it->get<std::string>().empty()) {
      u.image = std::optional<std::string>(it->get<std::string>());
    } else if (it->is_null() || (it->is_string() && it->get<std::string>().empty())) {
      u.image = std::optional<std::string>();
    } else {
      return error_response(400, "invalid_input", "\"image\" must be an image's name or null");
    }
  }
  if (auto it = j->find("profile"); it != j->end()) u.profile = *it;
  if (auto it = j->find("profile_name"); it != j->end()) {
    if (it->is_string() && !it->get<std::string>().empty()) {
      u.profile_name = std::optional<std::string>(it->get<std::string>());
    } else if (it->is_null() || (it->is_string() && it->get<std::string>().empty())) {
      u.profile_name = std::optional<std::string>();
    } else {
      return error_response(400, "invalid_input",
                            "\"profile_name\" must be a recipient profile's name or null");
    }
  }
  return ok_or_error(api.services.catalog.update_batch(c.param("name"), u));
}

}  // namespace

void add_catalog_routes(HandlerTable& t, ApiContext& api) {
  t.add(RouteId::catalog_images, [&api](Call&) { return reply(api.services.images.list()); });
  t.add(RouteId::catalog_batches,
        [&api](Call&) { return reply(api.services.catalog_pages.batches()); });
  t.add(RouteId::update_batch, [&api](Call& c) { return update_batch(api, c); });
}

}  // namespace revive::server
