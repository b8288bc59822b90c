#pragma once
// `revivectl intake open|close|status` and `revivectl devices accept-enrolment` (issue 15):
// new laptops join only through an intake an operator opens.

#include <CLI/CLI.hpp>

#include <functional>

#include "remote_commands.hpp"

namespace revive::ctl {

/// Adds the intake commands to `app`; `server_opt` adds --server/--token to a subcommand and
/// `rc` receives the exit code of the command that ran.
void add_intake_commands(CLI::App& app, RemoteArgs& ra, int& rc,
                         const std::function<void(CLI::App*)>& server_opt);

}  // namespace revive::ctl
