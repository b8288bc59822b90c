#include "revive/agent/system.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>

#include "revive/file_util.hpp"

extern char** environ;

namespace revive::agent {

namespace fs = std::filesystem;

Result<std::string> MachineRoot::read(const std::string& rel) const {
  // sysfs files report size 4096 whatever they hold: read until EOF instead of trusting stat.
  std::ifstream in(root_ / rel, std::ios::binary);
  if (!in) return make_error(Errc::not_found, (root_ / rel).string() + " is not readable");
  std::string data;
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    data.append(buf, static_cast<std::size_t>(in.gcount()));
    if (data.size() > (16u << 20))
      return make_error(Errc::invalid_input, (root_ / rel).string() + " is larger than 16 MiB");
  }
  return data;
}

std::string MachineRoot::line(const std::string& rel) const {
  auto r = read(rel);
  if (!r) return {};
  std::string s = r->substr(0, r->find('\n'));
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.erase(s.begin());
  return s;
}

long long MachineRoot::number(const std::string& rel, long long fallback) const {
  const std::string s = line(rel);
  if (s.empty()) return fallback;
  try {
    std::size_t used = 0;
    long long v = std::stoll(s, &used, 0);
    return used == s.size() ? v : fallback;
  } catch (const std::exception&) {
    return fallback;
  }
}

std::vector<std::string> MachineRoot::list(const std::string& rel) const {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(root_ / rel, ec), end; !ec && it != end; it.increment(ec)) {
    out.push_back(it->path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool MachineRoot::exists(const std::string& rel) const {
  std::error_code ec;
  return fs::exists(fs::symlink_status(root_ / rel, ec));  // a dangling sysfs link still counts
}

std::string MachineRoot::link_target(const std::string& rel) const {
  std::error_code ec;
  auto t = fs::read_symlink(root_ / rel, ec);
  return ec ? std::string() : t.filename().string();
}

Result<ExecResult> RealExec::run(const std::vector<std::string>& argv, int timeout_s) {
  if (argv.empty()) return make_error(Errc::invalid_input, "empty command");
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return errno_error(errno, "pipe");
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return errno_error(errno, "pipe");
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = ::posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  UniqueFd out_fd(out_pipe[0]), err_fd(err_pipe[0]);
  if (rc != 0) return errno_error(rc, "run " + argv[0]);
  ExecResult r;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  pollfd fds[2] = {{out_fd.get(), POLLIN, 0}, {err_fd.get(), POLLIN, 0}};
  int open_fds = 2;
  bool timed_out = false;
  while (open_fds > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    if (::poll(fds, 2, static_cast<int>(left)) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[65536];
      const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        fds[i].fd = -1;
        --open_fds;
      } else {
        std::string& dst = i == 0 ? r.out : r.err;
        if (dst.size() < (64u << 20)) dst.append(buf, static_cast<std::size_t>(n));
      }
    }
  }
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out)
    return make_error(
        Errc::io, argv[0] + " did not finish within " + std::to_string(timeout_s) + " s; killed");
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

fs::path RecordedExec::recording(const std::vector<std::string>& argv) const {
  std::string key;
  for (const auto& a : argv) key += (key.empty() ? "" : " ") + a;
  std::replace(key.begin(), key.end(), '/', '_');
  return root_ / "exec" / key;
}

Result<ExecResult> RecordedExec::run(const std::vector<std::string>& argv, int /*timeout_s*/) {
  const auto file = recording(argv);
  auto text = read_small_file(file, 16u << 20);
  if (!text) {
    std::string cmd;
    for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
    return make_error(Errc::not_found,
                      "no recorded answer for `" + cmd + "` (" + file.string() + ")");
  }
  ExecResult r;
  const auto nl = text->find('\n');
  const std::string first = text->substr(0, nl);
  if (first.rfind("exit ", 0) != 0)
    return make_error(Errc::corrupt, file.string() + ": first line must be \"exit N\"");
  r.exit_code = std::atoi(first.c_str() + 5);
  r.out = nl == std::string::npos ? std::string() : text->substr(nl + 1);
  return r;
}

}  // namespace revive::agent
