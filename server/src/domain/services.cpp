#include "domain/services.hpp"

#include <sodium.h>

#include <chrono>

#include "certificate.hpp"
#include "revive/encoding.hpp"

namespace revive::server {

namespace {
bool draw(double share) {
  return randombytes_uniform(1000000) < static_cast<std::uint32_t>(share * 1000000);
}

// An image's id and shape from its signed manifest in the store.
ImageLookup store_images(ImageStore& store) {
  return [&store](const std::string& name) -> Result<ImageFacts> {
    auto m = store.load(name);
    if (!m) return m.error();
    return ImageFacts{m->image_id,
                      sched::ImageShape{m->data_chunk_count(), m->stored_bytes, m->data_bytes}};
  };
}

ImageExists store_has_image(ImageStore& store) {
  return [&store](const std::string& name) -> Result<bool> {
    auto m = store.load(name);
    if (m) return true;
    if (m.error().code == Errc::not_found) return false;
    return m.error();
  };
}

MonotonicClock steady_seconds() {
  return [] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  };
}

// An agent counts as alive for the general stall window: until the server itself would call
// it gone, nobody else may enrol as its laptop. (It is shorter than a boot token's life by
// default, so a laptop that rebooted quickly gets in with the same token once it passed.)
EnrolmentOptions enrolment_options(const ServiceOptions& opts) {
  EnrolmentOptions eo;
  eo.demo = opts.demo;
  eo.boot_token_ttl_s = opts.boot_token_ttl_s;
  eo.live_window = [window = opts.stall.fallback](std::int64_t) { return window; };
  return eo;
}
}  // namespace

Result<void> init_crypto() {
  if (sodium_init() < 0) return make_error(Errc::internal, "libsodium failed to initialise");
  return {};
}

Services::Services(Storage& storage, Clock clock, ImageStore& store, const KeyPair& certificate_key,
                   RunBlocking run_blocking, RunBlocking run_push, ServiceOptions opts)
    : ctx(storage, std::move(clock)),
      certifier([&certificate_key](const Json& body) { return cert::sign(body, certificate_key); },
                draw, now_rfc3339, opts.demo),
      lifecycle(ctx, live, certifier, opts.stall),  // copied: enrolment reads it too
      runs(ctx, live),
      intake(ctx, opts.demo),
      enrolment(ctx, intake, enrolment_options(opts)),
      operators(ctx, opts.session_ttl_s),
      catalog(ctx, store_has_image(store)),
      certificates(ctx, certifier, {certificate_key.public_key(), store.key().public_key()}),
      boot(ctx, enrolment, intake, std::move(opts.boot)),
      images(ctx, store, run_blocking, std::move(run_push)),
      uploads(ctx, images, store.tmp_dir()),
      deployments(ctx, live, store_images(store),
                  opts.monotonic ? std::move(opts.monotonic) : steady_seconds(), opts.deploy),
      views(ctx, live, &deployments),
      wall(ctx, views),
      laptops(ctx, views),
      partners(ctx, views),
      loans(ctx),
      catalog_pages(catalog, views),
      recipient_profiles(ctx),
      grading_preview(ctx, std::move(run_blocking)) {}

Result<void> Services::start() {
  REVIVE_TRY(init_crypto());
  REVIVE_TRY(catalog.ensure_defaults());
  REVIVE_TRY(lifecycle.load_running_steps());
  // Uploads the previous server was receiving go on where they were.
  REVIVE_TRY(uploads.recover());
  // A restart is not the moment another host may take a working laptop's place.
  REVIVE_ASSIGN(running, ctx.storage().runs().running_steps());
  std::vector<std::int64_t> devices;
  devices.reserve(running.size());
  for (const auto& s : running) devices.push_back(s.device_id);
  enrolment.presume_alive(devices);
  return {};
}

}  // namespace revive::server
