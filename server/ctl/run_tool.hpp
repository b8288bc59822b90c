#pragma once
// Runs one of the Debian tools the image builder uses, its output appended to a log file.

#include <filesystem>
#include <string>
#include <vector>

#include "revive/error.hpp"

namespace revive::ctl {

struct ToolRun {
  std::vector<std::string> argv;  ///< argv[0] is looked up in PATH
  std::vector<std::string> env;   ///< "NAME=value" added to this process's
  std::filesystem::path log;      ///< stdout and stderr appended here
};

/// Runs `run` to completion. Fails (naming the tool, its exit status and the log's last lines)
/// when it cannot start or exits other than 0.
Result<void> run_tool(const ToolRun& run);

}  // namespace revive::ctl
