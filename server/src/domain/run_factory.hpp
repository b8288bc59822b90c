#pragma once
// A device's workflow run: which workflow applies (the device's own, else its batch's, else
// the workshop default named by the `default_workflow` setting) and the run made from it, its
// steps pending, the batch's image recorded with it.

#include <cstdint>

#include "domain/context.hpp"

namespace revive::server {

/// Creates a new run for the device (inside the caller's unit of work); the run's id.
/// not_found when the device does not exist; internal when no workflow applies (the default
/// workflow is missing); io on a storage failure.
Result<std::int64_t> create_run(DomainContext& ctx, std::int64_t device_id);

}  // namespace revive::server
