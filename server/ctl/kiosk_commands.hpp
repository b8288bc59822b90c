#pragma once
// `revivectl kiosk create|list|revoke`: read-only links that open the workshop wall screen
// (issue 16) on a TV without an operator session.

#include <CLI/CLI.hpp>

#include <functional>

#include "remote_commands.hpp"

namespace revive::ctl {

/// Adds the kiosk commands to `app`; `server_opt` adds --server/--token to a subcommand and
/// `rc` receives the exit code of the command that ran.
void add_kiosk_commands(CLI::App& app, RemoteArgs& ra, int& rc,
                        const std::function<void(CLI::App*)>& server_opt);

}  // namespace revive::ctl
