#pragma once
// The server's state directory holds the signing key, the database (operator password hashes,
// API and boot tokens, wipe evidence) and the boot files: nothing in it is for other users of
// the machine (issue 15). It is created 0700, and an existing one that others can read or
// enter is tightened to 0700 (said in the log) rather than refused: a directory made by hand
// or by an older version should not stop a workshop's server from starting.

#include <filesystem>

#include "revive/error.hpp"

namespace revive::server {

/// What prepare_state_dir did, for the start-up log.
enum class StateDirChange { none, created, tightened };

/// Creates `dir` (and missing parents) owner-only, or makes an existing one owner-only.
/// Error when it cannot be created, is not a directory, or its mode cannot be changed.
Result<StateDirChange> prepare_state_dir(const std::filesystem::path& dir);

}  // namespace revive::server
