#pragma once
// revivectl as a library: the binary's main() only calls run_revivectl, so tests can drive
// every command in-process.

namespace revive::ctl {

/// Parses argv and runs the command. Returns the process exit code: 0 success, 1 the
/// operation failed (message on stderr), 2 usage error.
int run_revivectl(int argc, char** argv);

}  // namespace revive::ctl
