#pragma once
// Root only for as long as it takes to open the privileged sockets (docs/SECURITY.md,
// "Privileges"). Started as root, revive-server binds UDP 67, 69 and 4011 and opens the raw
// ICMP socket of the DHCP conflict check, then gives its state to an unprivileged account
// (`--user`, default "revive") and becomes it, keeping no capability: every socket that needed
// one is open by then and stays open, TFTP transfers use unprivileged ports, and nothing is
// bound, executed or read later that needs more than the account's own rights. Started as an
// account holding capabilities (systemd's AmbientCapabilities=), it clears them the same way.

#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "revive/error.hpp"

namespace revive::server {

/// The account the daemon runs as once its sockets are open.
struct Account {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
};

/// What the daemon does about its privileges after binding.
struct PrivilegePlan {
  std::optional<Account> become;  ///< started as root: the account to become
  bool stay_root = false;         ///< started as root with `--user root`: kept, said loudly
};

/// The plan for `user` (the --user setting) in a process whose effective uid is `euid`: not
/// root, nothing to become; root and "root", stay root; root and another name, become that
/// account. not_found when it does not exist (the message says how to create it or what to
/// pass instead); invalid_input when it has uid 0 under another name.
Result<PrivilegePlan> plan_privileges(const std::string& user, uid_t euid);

/// Gives `dirs` and everything under them to `account` where the owner or group differs
/// (lchown: a symlink itself, never its target); a missing dir is skipped. Refuses, before
/// changing it, a regular file with more than one hard link that the account does not own (a
/// link the account made to a file of root's would otherwise become the account's). The
/// number of entries changed; the error names the path.
Result<std::size_t> give_to(const Account& account, const std::vector<std::filesystem::path>& dirs);

/// Ends privilege after binding: no_new_privs, an empty bounding set, then (plan.become) no
/// supplementary groups and the account's gid and uid, then no capability in any set; checks
/// the result in /proc/self/status and that root cannot be regained. Nothing for stay_root.
/// Must run while the process has one thread (capabilities belong to a thread): internal
/// otherwise. After an error the process must not go on serving.
Result<void> drop_privileges(const PrivilegePlan& plan);

/// The value of `field` (e.g. "Uid", "CapEff", "Threads") in /proc/self/status, tabs kept;
/// not_found when the kernel does not report it.
Result<std::string> own_status_field(const std::string& field);

}  // namespace revive::server
