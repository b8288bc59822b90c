#pragma once
// The agent's seams to the operating system. Everything the agent reads comes through a
// MachineRoot ("/" on a laptop, tests/data/laptops/<model>/ in tests and simulation) and every
// tool it runs goes through Exec (the test fake fails any command it was not told about).

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "revive/error.hpp"

namespace revive::agent {

/// Read-only access to files under a root directory (sysfs, procfs, firmware tables).
class MachineRoot {
 public:
  explicit MachineRoot(std::filesystem::path root) : root_(std::move(root)) {}

  /// Contents of root/rel (at most 16 MiB); not_found when absent.
  Result<std::string> read(const std::string& rel) const;
  /// First line of root/rel without surrounding whitespace, or "" when absent/unreadable.
  std::string line(const std::string& rel) const;
  /// Integer in root/rel, or `fallback` when absent or not a number.
  long long number(const std::string& rel, long long fallback = -1) const;
  /// Names in directory root/rel (sorted); empty when absent.
  std::vector<std::string> list(const std::string& rel) const;
  bool exists(const std::string& rel) const;
  /// Target of a symlink under the root (e.g. sysfs "driver" links), "" when none.
  std::string link_target(const std::string& rel) const;
  const std::filesystem::path& path() const { return root_; }

 private:
  std::filesystem::path root_;
};

struct ExecResult {
  int exit_code = 0;
  std::string out;
  std::string err;
};

class Exec {
 public:
  virtual ~Exec() = default;
  /// Runs argv (no shell) with a time limit; error when it cannot be started or times out.
  /// A non-zero exit is a result, not an error: callers decide what it means.
  virtual Result<ExecResult> run(const std::vector<std::string>& argv, int timeout_s = 60) = 0;
};

/// Runs real programs (posix_spawn, pipes, SIGKILL at the time limit).
class RealExec : public Exec {
 public:
  Result<ExecResult> run(const std::vector<std::string>& argv, int timeout_s = 60) override;
};

/// Answers from recordings under a machine root, for simulation and tests: the command line
/// with '/' turned into '_' names a file in root/exec/ whose first line is "exit N" and whose
/// rest is the program's stdout. A command without a recording fails loudly.
class RecordedExec : public Exec {
 public:
  explicit RecordedExec(std::filesystem::path root) : root_(std::move(root)) {}
  Result<ExecResult> run(const std::vector<std::string>& argv, int timeout_s = 60) override;
  /// The file a command line is looked up in.
  std::filesystem::path recording(const std::vector<std::string>& argv) const;

 private:
  std::filesystem::path root_;
};

}  // namespace revive::agent
