#include "domain/event_retention.hpp"

namespace revive::server {

Result<std::int64_t> prune_events(DomainContext& ctx, const EventRetention& r) {
  REVIVE_ASSIGN(uow, ctx.storage().begin());
  REVIVE_ASSIGN(gone, ctx.storage().events().prune(ctx.now() - r.keep_s, r.keep_rows, r.batch));
  if (gone == 0) return std::int64_t{0};  // nothing changed: no commit (no fsync) needed
  REVIVE_TRY(uow->commit());
  return gone;
}

}  // namespace revive::server
