#pragma once
// Group commit for the SQLite backend (issue 19). With synchronous=NORMAL a WAL commit is
// written but not synced; one thread syncs the WAL file for every commit made meanwhile, and
// tells the waiters. A thousand laptops' results then cost a few syncs, not a thousand.

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "revive/error.hpp"
#include "storage/storage.hpp"

namespace revive::server::sqlite {

class WalSync final : public GroupCommit {
 public:
  /// `commits` counts the commits written so far (read after each write lands in the WAL);
  /// `sync` makes everything written to the WAL durable; `after` runs on the syncing thread
  /// once a sync's waiters were answered (the WAL's checkpoint: those answers do not wait for
  /// it; waiters that come meanwhile do, as for a sync). The syncing thread starts with the
  /// first wait. `deferred` runs there too, once the thread is idle again after
  /// defer_while_busy() said true.
  WalSync(std::function<std::uint64_t()> commits, std::function<Result<void>()> sync,
          std::function<void()> after = {}, std::function<void()> deferred = {});
  /// Syncs what is pending, answers the last waiters, and stops the thread.
  ~WalSync() override;
  WalSync(const WalSync&) = delete;
  WalSync& operator=(const WalSync&) = delete;

  std::uint64_t commits() const override { return commits_(); }
  bool durable(std::uint64_t mark, std::function<void(bool ok)> done) override;

  /// Commits were lost before they reached the WAL (a batch failed to commit): no waiter, now
  /// or later, is told durable, as after a failed sync.
  void lose();

  /// Syncs done so far (for tests and the benchmark's figures).
  std::uint64_t syncs() const;

  /// True while the thread syncs (or runs `after`); `deferred` then runs once it is idle again.
  /// A commit made now could only be covered by the next sync anyway: its batch may take more
  /// units until then.
  bool defer_while_busy();

  /// The commits counted grew: a waiter whose mark was not yet committed may be synced now
  /// (the thread syncs only for waiters whose commit was made).
  void poke();

 private:
  struct Waiter {
    std::uint64_t mark;
    std::function<void(bool)> done;
  };
  void run();
  /// The waiters answered by a sync that covered `synced`, removed from the list.
  std::vector<Waiter> take_covered(std::uint64_t synced);

  std::function<std::uint64_t()> commits_;
  std::function<Result<void>()> sync_;
  std::function<void()> after_;
  std::function<void()> deferred_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::vector<Waiter> waiting_;
  std::uint64_t synced_ = 0;
  std::uint64_t syncs_ = 0;
  bool failed_ = false;
  bool stopping_ = false;
  bool busy_ = false;        ///< syncing, answering or running `after`
  bool end_wanted_ = false;  ///< defer_while_busy() said true since the thread became busy
  std::thread thread_;
};

/// Syncs the WAL file at `wal` (fdatasync on a descriptor of its own, which flushes the file
/// whoever wrote it); reopens it when the file was replaced. io naming the file on failure.
class WalFile {
 public:
  static Result<WalFile> open(const std::filesystem::path& wal);
  ~WalFile();
  WalFile(WalFile&& o) noexcept : path_(std::move(o.path_)), fd_(o.fd_) { o.fd_ = -1; }
  WalFile(const WalFile&) = delete;
  Result<void> sync();

 private:
  WalFile(std::filesystem::path path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::filesystem::path path_;
  int fd_;
};

}  // namespace revive::server::sqlite
