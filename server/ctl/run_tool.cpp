#include "run_tool.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

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

}  // namespace

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
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, tool.c_str(), &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    return make_error(Errc::io, tool + ": cannot run it: " + std::strerror(rc) +
                                    " (scripts/setup installs the Debian packages it needs)");
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return make_error(Errc::io, tool + ": waitpid: " + std::strerror(errno));
  }
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
