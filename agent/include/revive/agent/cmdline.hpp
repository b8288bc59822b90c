#pragma once
// The live agent's kernel command line: how it finds the server and proves it was booted as a
// Revive live agent (the interlock every destructive step checks).

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace revive::agent {

struct BootParams {
  bool live_agent = false;                 ///< `revive.agent=1` present
  std::optional<std::string> server;       ///< `revive.server=URL`
  std::optional<std::string> token;        ///< `revive.token=...` (per-boot token from the server)
  std::map<std::string, std::string> all;  ///< every key=value (flags map to "")
};

/// Parses /proc/cmdline text: space-separated words, double quotes group, later keys win.
BootParams parse_cmdline(std::string_view text);

}  // namespace revive::agent
