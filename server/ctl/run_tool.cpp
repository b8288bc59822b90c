#include "run_tool.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

extern char** environ;

namespace revive::ctl {

namespace {

std::string log_tail(const std::filesystem::path& log, std::size_t lines) {
  std::ifstream in(log);
  std::vector<std::string> all;
  for (std::string l; std::getline(in, l);) all.push_back(l);
  std::string out;
  for (std::size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i)
    out += "\n  " + all[i];
  return out;
}

using Clock = std::chrono::steady_clock;

std::atomic<pid_t> g_running_group{0};

// Stops a tool's whole process group (mmdebstrap's apt and dpkg with it): SIGTERM now, SIGKILL
// to whatever is left after the grace period.
class GroupStop {
 public:
  GroupStop(pid_t group, std::chrono::seconds grace)
      : group_(group), grace_(grace), since_(Clock::now()) {
    ::kill(-group_, SIGTERM);
  }
  // Escalates when due; true once nothing of the group is left (or, past the grace period and
  // a moment after SIGKILL, what is left can only be a zombie nobody reaps: not running).
  bool over() {
    if (::kill(-group_, 0) != 0 && errno == ESRCH) return true;
    const auto waited = Clock::now() - since_;
    if (!killed_ && waited > grace_) {
      ::kill(-group_, SIGKILL);
      killed_ = true;
    }
    return killed_ && waited > grace_ + std::chrono::seconds(2);
  }

 private:
  pid_t group_;
  std::chrono::seconds grace_;
  Clock::time_point since_;
  bool killed_ = false;
};

struct Waited {
  int status = 0;
  bool cancelled = false;
};

// Waits for the tool; cancelled, it stops the tool's group and waits for all of it, so a build
// stops mid-step, not only between steps, and leaves nothing running.
Result<Waited> wait_or_stop(pid_t pid, const ToolRun& run) {
  Waited w;
  std::optional<GroupStop> stop;
  bool reaped = false;
  while (true) {
    if (!reaped) {
      const pid_t r = ::waitpid(pid, &w.status, run.cancel != nullptr ? WNOHANG : 0);
      if (r < 0 && errno != EINTR) {
        return make_error(Errc::io, run.argv[0] + ": waitpid: " + std::strerror(errno));
      }
      reaped = r == pid;
    }
    if (reaped && !stop) return w;
    if (run.cancel == nullptr) continue;  // a blocking wait, interrupted by a signal
    if (!stop && run.cancel->load()) {
      w.cancelled = true;
      stop.emplace(pid, run.grace);
    }
    if (stop && stop->over() && reaped) return w;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace

void kill_running_tool() {
  if (const pid_t group = g_running_group.load(); group > 0) ::kill(-group, SIGKILL);
}

Result<void> run_tool(const ToolRun& run) {
  if (run.argv.empty()) return make_error(Errc::internal, "run_tool: empty command");
  const std::string& tool = run.argv[0];
  {
    std::ofstream header(run.log, std::ios::app);
    header << "\n$";
    for (const auto& a : run.argv) header << ' ' << a;
    header << '\n';
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, run.log.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  std::vector<std::string> env_store;
  for (char** e = environ; *e; ++e) env_store.emplace_back(*e);
  for (const auto& e : run.env) env_store.push_back(e);
  std::vector<char*> envp, argv;
  for (auto& e : env_store) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = run.argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  // Its own process group, so that cancelling reaches whatever it starts in turn.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, tool.c_str(), &fa, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return make_error(Errc::io, tool + ": cannot run it: " + std::strerror(rc) +
                                    " (scripts/setup installs the Debian packages it needs)");
  }
  g_running_group = pid;
  const auto waited = wait_or_stop(pid, run);
  g_running_group = 0;
  if (!waited) return waited.error();
  const int status = waited->status;
  if (waited->cancelled) return make_error(Errc::cancelled, tool + ": cancelled (it was stopped)");
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  std::ostringstream why;
  if (WIFEXITED(status)) {
    why << "exited with status " << WEXITSTATUS(status);
  } else {
    why << "killed by signal " << WTERMSIG(status);
  }
  return make_error(Errc::io, tool + " " + why.str() + "; the end of " + run.log.string() + ":" +
                                  log_tail(run.log, 15));
}

}  // namespace revive::ctl
