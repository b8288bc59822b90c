#pragma once
// The event log's retention: every boot script and enrolment (public requests) and every agent
// report adds events, so without a bound a flood, or just years of workshops, grows the
// database without end. Events older than the retention, and those beyond the newest N, are
// deleted oldest first, a batch at a time so one pass never holds the server's one thread long.

#include <cstdint>

#include "domain/context.hpp"

namespace revive::server {

struct EventRetention {
  Seconds keep_s = 180L * 86400;       ///< events older than this go
  std::int64_t keep_rows = 1'000'000;  ///< and all but the newest this many
  std::int64_t batch = 5000;           ///< at most this many per pass (one unit of work)
};

/// One pass in one unit of work; how many events went. io on a storage failure (nothing went).
Result<std::int64_t> prune_events(DomainContext& ctx, const EventRetention& r);

}  // namespace revive::server
