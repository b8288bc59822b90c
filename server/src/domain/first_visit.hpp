#pragma once
// What the countdown before a laptop's first destructive step reads from the state (the
// decision itself is step_params' needs_confirmation).

#include <cstdint>

#include "domain/step_params.hpp"
#include "storage/storage.hpp"

namespace revive::server {

/// Whether a wipe or deploy ever recorded a result on the device, the workshop's name and the
/// device's batch; io on a storage failure.
Result<ConfirmFacts> confirm_facts(Storage& storage, std::int64_t device_id);

}  // namespace revive::server
