#pragma once
// Runs one of the Debian tools the image builder uses, its output appended to a log file.

#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "revive/error.hpp"

namespace revive::ctl {

struct ToolRun {
  std::vector<std::string> argv;  ///< argv[0] is looked up in PATH
  std::vector<std::string> env;   ///< "NAME=value" added to this process's
  std::filesystem::path log;      ///< stdout and stderr appended here
  /// Set (by a signal handler, another thread): the tool and everything it started are asked
  /// to stop (SIGTERM to its process group; SIGKILL if still there after `grace`).
  const std::atomic<bool>* cancel = nullptr;
  std::chrono::seconds grace{10};  ///< from SIGTERM to SIGKILL when cancelled
};

/// Runs `run` to completion. Fails (naming the tool, its exit status and the log's last lines)
/// when it cannot start or exits other than 0; `cancelled` when `cancel` stopped it. The tool
/// runs in a process group of its own (so that stopping it reaches what it starts).
Result<void> run_tool(const ToolRun& run);

/// SIGKILLs the process group of the tool running now, if any. Async-signal-safe: for a signal
/// handler that must not leave the tool behind when revivectl itself is about to die.
void kill_running_tool();

}  // namespace revive::ctl
