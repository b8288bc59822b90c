#pragma once
// Runs one of the Debian tools the image builder uses, its output appended to a log file.

#include <atomic>
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
  int grace_s = 10;
};

/// Runs `run` to completion. Fails (naming the tool, its exit status and the log's last lines)
/// when it cannot start or exits other than 0; `cancelled` when `cancel` stopped it.
Result<void> run_tool(const ToolRun& run);

}  // namespace revive::ctl
