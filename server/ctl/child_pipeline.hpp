#pragma once
// Programs connected stdout to stdin (`cat parts | zstd -dc | partclone.restore ...`), the last
// one's output read by us as a DiskStream. Each child's stderr goes to an unlinked temp file,
// quoted when it fails.

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "revive/file_util.hpp"
#include "revive/image_ops.hpp"

namespace revive::ctl {

class ChildPipeline final : public DiskStream {
 public:
  using Command = std::vector<std::string>;

  /// Starts every command (looked up in PATH), the first one reading `stdin_file`. Fails
  /// naming the command that could not start; children already started are stopped.
  /// `stop_grace`: how long a child being stopped has after SIGTERM before SIGKILL.
  static Result<std::unique_ptr<ChildPipeline>> start(
      const std::vector<Command>& commands, const std::string& stdin_file = "/dev/null",
      std::chrono::milliseconds stop_grace = std::chrono::seconds(5));

  ChildPipeline(const ChildPipeline&) = delete;
  ChildPipeline& operator=(const ChildPipeline&) = delete;
  /// Stops children still running (SIGTERM, SIGKILL after the grace period) and reaps them:
  /// a failed or cancelled import ends even when a child ignores SIGTERM.
  ~ChildPipeline() override;

  /// Reads the last command's stdout; 0 at its end.
  Result<std::size_t> read(std::span<std::byte> out) override;
  /// Waits for every child: fails naming the first command that exited non-zero (with the end
  /// of its stderr). An earlier stage killed by SIGPIPE is fine when the last one succeeded:
  /// partclone stops reading once it has every block. A second call gives the same verdict.
  Result<void> finish() override;

 private:
  struct Child {
    pid_t pid = -1;
    std::string command;  ///< for messages
    UniqueFd stderr_file;
  };
  ChildPipeline() = default;
  void stop_all();

  Result<void> wait_all();

  std::vector<Child> children_;
  std::chrono::milliseconds stop_grace_{};
  UniqueFd out_;
  std::optional<Result<void>> verdict_;
};

/// The command line as a person would type it (for messages).
std::string command_text(const ChildPipeline::Command& command);

/// Whether `program` is found in PATH.
bool program_in_path(const std::string& program);

}  // namespace revive::ctl
