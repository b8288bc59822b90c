#include "app/privileges.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>

#include "app/linux_capabilities.hpp"

namespace revive::server {

namespace fs = std::filesystem;

Result<PrivilegePlan> plan_privileges(const std::string& user, uid_t euid) {
  if (euid != 0) return PrivilegePlan{};
  if (user == "root") return PrivilegePlan{std::nullopt, true};
  if (user.empty())
    return make_error(Errc::invalid_input, "--user is empty: name the account to run as");
  std::vector<char> buf(16384);
  passwd pw{};
  passwd* found = nullptr;
  const int rc = ::getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found);
  if (rc != 0) return errno_error(rc, "looking up user \"" + user + "\"");
  if (!found) {
    return make_error(
        Errc::not_found,
        "started as root, revive-server runs as user \"" + user +
            "\" once its ports are bound, and there is no such user: create it (scripts/setup "
            "does: useradd --system --user-group --home-dir /nonexistent --no-create-home "
            "--shell /usr/sbin/nologin revive), name another account with --user, or keep root "
            "with --user root (not recommended: docs/SECURITY.md)");
  }
  if (found->pw_uid == 0) {
    return make_error(Errc::invalid_input, "user \"" + user +
                                               "\" has uid 0 (it is root): name an unprivileged "
                                               "account with --user, or say --user root");
  }
  return PrivilegePlan{Account{user, found->pw_uid, found->pw_gid}, false};
}

namespace {

Result<bool> give_one(const fs::path& p, const Account& a) {
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) return errno_error(errno, "stat " + p.string());
  if (st.st_uid == a.uid && st.st_gid == a.gid) return false;
  if (S_ISREG(st.st_mode) && st.st_nlink > 1 && st.st_uid != a.uid) {
    return make_error(Errc::forbidden,
                      p.string() + " has " + std::to_string(st.st_nlink) +
                          " hard links and belongs to uid " + std::to_string(st.st_uid) +
                          ": not given to " + a.name +
                          " (a link to another file would hand that file over); remove the "
                          "extra links or give it to " +
                          a.name + " yourself");
  }
  if (::lchown(p.c_str(), a.uid, a.gid) != 0) return errno_error(errno, "chown " + p.string());
  return true;
}

// "Uid:\t0\t0\t0\t0" -> true when all four ids are `uid`.
bool all_ids_are(const std::string& ids, uid_t uid) {
  const std::string u = std::to_string(uid);
  return ids == u + "\t" + u + "\t" + u + "\t" + u;
}

bool no_bits(const std::string& hex) { return hex.find_first_not_of('0') == std::string::npos; }

// The credentials the kernel reports after the drop: the account's ids (when becoming one), no
// capability in any set, no_new_privs; and root cannot be had back.
Result<void> verify(const PrivilegePlan& plan) {
  if (plan.become) {
    for (const char* field : {"Uid", "Gid"}) {
      auto ids = own_status_field(field);
      if (!ids) return ids.error();
      const auto want = field[0] == 'U' ? plan.become->uid : plan.become->gid;
      if (!all_ids_are(*ids, want))
        return make_error(Errc::internal, std::string(field) + " is " + *ids + " after the drop");
    }
    auto bounding = own_status_field("CapBnd");
    if (!bounding) return bounding.error();
    if (!no_bits(*bounding))
      return make_error(Errc::internal, "capability bounding set not empty: " + *bounding);
  }
  for (const char* field : {"CapInh", "CapPrm", "CapEff", "CapAmb"}) {
    auto caps = own_status_field(field);
    if (!caps) return caps.error();
    if (!no_bits(*caps))
      return make_error(Errc::internal, std::string(field) + " is " + *caps + " after the drop");
  }
  auto nnp = own_status_field("NoNewPrivs");
  if (!nnp) return nnp.error();
  if (*nnp != "1") return make_error(Errc::internal, "no_new_privs is not set");
  if (plan.become && ::setuid(0) == 0)
    return make_error(Errc::internal, "could become root again after the drop");
  return {};
}

}  // namespace

Result<std::size_t> give_to(const Account& account, const std::vector<fs::path>& dirs) {
  std::size_t changed = 0;
  for (const auto& dir : dirs) {
    std::error_code ec;
    if (!fs::exists(fs::symlink_status(dir, ec))) continue;
    auto top = give_one(dir, account);
    if (!top) return top.error();
    changed += *top ? 1 : 0;
    // Symlinked directories are not followed: what they point to is not the state's.
    for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      auto one = give_one(it->path(), account);
      if (!one) return one.error();
      changed += *one ? 1 : 0;
    }
    if (ec) return make_error(Errc::io, "walk " + dir.string() + ": " + ec.message());
  }
  return changed;
}

Result<std::string> own_status_field(const std::string& field) {
  std::ifstream status("/proc/self/status");
  if (!status) return make_error(Errc::io, "cannot read /proc/self/status");
  const std::string prefix = field + ":\t";
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with(prefix)) return line.substr(prefix.size());
  }
  return make_error(Errc::not_found, "/proc/self/status has no " + field);
}

Result<void> drop_privileges(const PrivilegePlan& plan) {
  if (plan.stay_root) return {};
  auto threads = own_status_field("Threads");
  if (!threads) return threads.error();
  if (*threads != "1") {
    return make_error(Errc::internal,
                      "privileges must be dropped while the process has one "
                      "thread, and it has " +
                          *threads);
  }
  REVIVE_TRY(limit_future_privileges());
  if (plan.become) {
    const Account& a = *plan.become;
    if (::setgroups(0, nullptr) != 0) return errno_error(errno, "setgroups (to none)");
    if (::setgid(a.gid) != 0) return errno_error(errno, "setgid " + std::to_string(a.gid));
    if (::setuid(a.uid) != 0) return errno_error(errno, "setuid " + std::to_string(a.uid));
  }
  REVIVE_TRY(clear_capabilities());
  return verify(plan);
}

}  // namespace revive::server
