#include "domain/services.hpp"

#include <sodium.h>

#include "certificate.hpp"
#include "revive/encoding.hpp"

namespace revive::server {

namespace {
bool draw(double share) {
  return randombytes_uniform(1000000) < static_cast<std::uint32_t>(share * 1000000);
}
}  // namespace

Result<void> init_crypto() {
  if (sodium_init() < 0) return make_error(Errc::internal, "libsodium failed to initialise");
  return {};
}

Services::Services(Storage& storage, Clock clock, ImageStore& store, RunBlocking run_blocking,
                   ServiceOptions opts)
    : ctx(storage, std::move(clock)),
      certifier([&store](const Json& body) { return cert::sign(body, store.key()); }, draw,
                now_rfc3339),
      lifecycle(ctx, live, certifier, std::move(opts.stall)),
      runs(ctx, live),
      enrolment(ctx),
      operators(ctx, opts.session_ttl_s),
      catalog(ctx),
      certificates(ctx, certifier, store.key().public_key()),
      boot(ctx, enrolment, std::move(opts.boot)),
      images(ctx, store, std::move(run_blocking)),
      views(ctx, live) {}

Result<void> Services::start() {
  REVIVE_TRY(init_crypto());
  REVIVE_TRY(catalog.ensure_defaults());
  return lifecycle.load_running_steps();
}

}  // namespace revive::server
