#pragma once
// The calling thread's capabilities, through prctl(2) and capset(2): the one place that
// includes <linux/capability.h>.

#include "revive/error.hpp"

namespace revive::server {

/// Sets no_new_privs (no later exec gains privileges: setuid bits and file capabilities are
/// ignored), empties the capability bounding set when the thread may (CAP_SETPCAP effective)
/// and clears the ambient set. The capabilities the thread holds now stay (setuid needs them).
/// Affects the calling thread and the threads it starts afterwards. The error names the call
/// the kernel refused.
Result<void> limit_future_privileges();

/// Clears the calling thread's inheritable, permitted and effective capability sets (for good:
/// they cannot be raised again). The error is capset's.
Result<void> clear_capabilities();

}  // namespace revive::server
