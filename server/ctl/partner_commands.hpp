#pragma once
// `revivectl partner add|list|edit`, `revivectl handover create|list|get` and `revivectl loan
// lend|return` (issue 16): partner organisations, the finished laptops handed over to them
// (with the list they sign, PDF or CSV) and the laptops they lend out.

#include <CLI/CLI.hpp>

#include <functional>

#include "remote_commands.hpp"

namespace revive::ctl {

/// Adds the partner, handover and loan commands to `app`; `server_opt` adds --server/--token
/// to a subcommand and `rc` receives the exit code of the command that ran.
void add_partner_commands(CLI::App& app, RemoteArgs& ra, int& rc,
                          const std::function<void(CLI::App*)>& server_opt);

}  // namespace revive::ctl
