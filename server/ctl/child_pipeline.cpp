#include "child_pipeline.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <thread>

extern char** environ;

namespace revive::ctl {

namespace {

Result<UniqueFd> unlinked_temp_file() {
  const char* tmp = std::getenv("TMPDIR");
  const std::string dir = tmp && *tmp ? tmp : "/tmp";
  const int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) return errno_error(errno, "temp file in " + dir);
  return UniqueFd(fd);
}

// The last lines a failing tool wrote: enough to see why, short enough for one message.
std::string stderr_tail(int fd) {
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0 || st.st_size == 0) return {};
  const off_t want = std::min<off_t>(st.st_size, 600);
  std::string text(static_cast<std::size_t>(want), '\0');
  const ssize_t n = ::pread(fd, text.data(), text.size(), st.st_size - want);
  if (n <= 0) return {};
  text.resize(static_cast<std::size_t>(n));
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

struct SpawnActions {
  posix_spawn_file_actions_t actions{};
  SpawnActions() { posix_spawn_file_actions_init(&actions); }
  ~SpawnActions() { posix_spawn_file_actions_destroy(&actions); }
  SpawnActions(const SpawnActions&) = delete;
  SpawnActions& operator=(const SpawnActions&) = delete;
};

Result<pid_t> spawn(const ChildPipeline::Command& command, int in, int out, int err) {
  SpawnActions sa;
  // dup2 clears close-on-exec on the target, so only these three reach the child.
  posix_spawn_file_actions_adddup2(&sa.actions, in, STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&sa.actions, out, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&sa.actions, err, STDERR_FILENO);
  std::vector<char*> argv;
  argv.reserve(command.size() + 1);
  for (const auto& a : command) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, argv[0], &sa.actions, nullptr, argv.data(), environ);
  if (rc != 0) return errno_error(rc, "starting " + command_text(command));
  return pid;
}

// SIGTERM, then SIGKILL if the child is still there after `grace`; reaped either way.
void stop_child(pid_t pid, std::chrono::milliseconds grace) {
  ::kill(pid, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  int status = 0;
  for (;;) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno != EINTR)) return;
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid, SIGKILL);
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace

std::string command_text(const ChildPipeline::Command& command) {
  std::string text;
  for (const auto& a : command) text += (text.empty() ? "" : " ") + a;
  return text;
}

bool program_in_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    const std::size_t end = std::min(dirs.find(':', start), dirs.size());
    const std::filesystem::path candidate =
        std::filesystem::path(dirs.substr(start, end - start)) / program;
    if (::access(candidate.c_str(), X_OK) == 0) return true;
    start = end + 1;
  }
  return false;
}

Result<std::unique_ptr<ChildPipeline>> ChildPipeline::start(const std::vector<Command>& commands,
                                                            const std::string& stdin_file,
                                                            std::chrono::milliseconds stop_grace) {
  REVIVE_CHECK(!commands.empty());
  std::unique_ptr<ChildPipeline> p(new ChildPipeline());
  p->stop_grace_ = stop_grace;
  auto in = open_file(stdin_file, O_RDONLY | O_CLOEXEC);
  if (!in) return in.error();
  UniqueFd next_in = std::move(*in);
  for (const auto& command : commands) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return errno_error(errno, "pipe");
    UniqueFd read_end(fds[0]);
    const UniqueFd write_end(fds[1]);
    auto err = unlinked_temp_file();
    if (!err) return err.error();
    auto pid = spawn(command, next_in.get(), write_end.get(), err->get());
    if (!pid) return pid.error();  // the destructor stops the ones already running
    p->children_.push_back(Child{*pid, command_text(command), std::move(*err)});
    next_in = std::move(read_end);
  }
  p->out_ = std::move(next_in);
  return p;
}

ChildPipeline::~ChildPipeline() { stop_all(); }

void ChildPipeline::stop_all() {
  out_.reset();
  for (auto& c : children_) {
    if (c.pid <= 0) continue;
    stop_child(c.pid, stop_grace_);
    c.pid = -1;
  }
}

Result<std::size_t> ChildPipeline::read(std::span<std::byte> out) {
  for (;;) {
    const ssize_t n = ::read(out_.get(), out.data(), out.size());
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno != EINTR) return errno_error(errno, "reading from " + children_.back().command);
  }
}

Result<void> ChildPipeline::finish() {
  if (!verdict_) verdict_ = wait_all();
  return *verdict_;
}

Result<void> ChildPipeline::wait_all() {
  out_.reset();
  std::vector<int> statuses;
  for (auto& c : children_) {
    int status = 0;
    while (::waitpid(c.pid, &status, 0) < 0) {
      if (errno != EINTR) return errno_error(errno, "waiting for " + c.command);
    }
    c.pid = -1;
    statuses.push_back(status);
  }
  const bool last_ok = WIFEXITED(statuses.back()) && WEXITSTATUS(statuses.back()) == 0;
  for (std::size_t i = 0; i < children_.size(); ++i) {
    const int s = statuses[i];
    if (WIFEXITED(s) && WEXITSTATUS(s) == 0) continue;
    if (last_ok && i + 1 < children_.size() && WIFSIGNALED(s) && WTERMSIG(s) == SIGPIPE) continue;
    const std::string how = WIFEXITED(s) ? "exited with status " + std::to_string(WEXITSTATUS(s))
                                         : "was killed by signal " + std::to_string(WTERMSIG(s));
    const std::string tail = stderr_tail(children_[i].stderr_file.get());
    return make_error(Errc::io,
                      "`" + children_[i].command + "` " + how + (tail.empty() ? "" : ": " + tail));
  }
  return {};
}

}  // namespace revive::ctl
