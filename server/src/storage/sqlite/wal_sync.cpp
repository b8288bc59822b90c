#include "storage/sqlite/wal_sync.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace revive::server::sqlite {

WalSync::WalSync(std::function<std::uint64_t()> commits, std::function<Result<void>()> sync,
                 std::function<void()> after, std::function<void()> deferred)
    : commits_(std::move(commits)),
      sync_(std::move(sync)),
      after_(std::move(after)),
      deferred_(std::move(deferred)) {}

WalSync::~WalSync() {
  {
    std::lock_guard l(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

bool WalSync::durable(std::uint64_t mark, std::function<void(bool ok)> done) {
  {
    std::lock_guard l(mu_);
    if (!failed_ && mark <= synced_) return true;
    waiting_.push_back({mark, std::move(done)});
    // Started by the first waiter, not when the database opens: the server drops its
    // privileges after opening it, and only a process with one thread can.
    if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
  }
  wake_.notify_one();
  return false;
}

void WalSync::lose() {
  {
    std::lock_guard l(mu_);
    failed_ = true;
  }
  wake_.notify_one();
}

std::uint64_t WalSync::syncs() const {
  std::lock_guard l(mu_);
  return syncs_;
}

bool WalSync::defer_while_busy() {
  std::lock_guard l(mu_);
  if (busy_) end_wanted_ = true;
  return busy_;
}

void WalSync::poke() {
  { std::lock_guard l(mu_); }
  wake_.notify_one();
}

std::vector<WalSync::Waiter> WalSync::take_covered(std::uint64_t synced) {
  std::vector<Waiter> covered;
  std::erase_if(waiting_, [&](Waiter& w) {
    if (w.mark > synced) return false;
    covered.push_back(std::move(w));
    return true;
  });
  return covered;
}

// One sync covers every commit counted before it started, so waiters that arrive while a sync
// runs share the next one: the group grows with the load, and an idle server syncs at once.
// A waiter whose commit is not made yet (its batch was deferred) waits for poke(): syncing
// before it would cover nobody.
void WalSync::run() {
  std::unique_lock l(mu_);
  const auto committed = [&] {
    const std::uint64_t now = commits_();
    return std::any_of(waiting_.begin(), waiting_.end(),
                       [&](const Waiter& w) { return w.mark <= now; });
  };
  for (;;) {
    wake_.wait(l, [&] { return stopping_ || (!waiting_.empty() && (failed_ || committed())); });
    if (waiting_.empty()) return;  // stopping, nobody left to answer
    if (stopping_ && !failed_ && !committed()) {
      // Their commits will never be made now: not durable (and no sync would cover them).
      auto left = std::exchange(waiting_, {});
      l.unlock();
      for (auto& w : left) w.done(false);
      return;
    }
    busy_ = true;
    std::vector<Waiter> answer;
    bool ok = false;
    if (failed_) {
      // A failed sync may have lost pages the kernel will not report again: never say
      // durable after it.
      answer = std::exchange(waiting_, {});
    } else {
      l.unlock();
      const std::uint64_t target = commits_();
      const auto synced = sync_();
      l.lock();
      ++syncs_;
      if (synced) {
        synced_ = std::max(synced_, target);
        answer = take_covered(synced_);
        ok = true;
      } else {
        failed_ = true;  // the next round answers every waiter
      }
    }
    l.unlock();
    for (auto& w : answer) w.done(ok);
    if (ok && after_) after_();
    l.lock();
    busy_ = false;
    if (std::exchange(end_wanted_, false) && deferred_) {
      l.unlock();
      deferred_();
      l.lock();
    }
  }
}

Result<WalFile> WalFile::open(const std::filesystem::path& wal) {
  const int fd = ::open(wal.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error(Errc::io, "open " + wal.string() + ": " + std::strerror(errno));
  return WalFile(wal, fd);
}

WalFile::~WalFile() {
  if (fd_ >= 0) ::close(fd_);
}

Result<void> WalFile::sync() {
  // SQLite keeps the WAL file while a connection is open; should it ever have been replaced,
  // syncing the old one would say durable about nothing.
  struct stat have {
  }, now{};
  if (::fstat(fd_, &have) != 0 || ::stat(path_.c_str(), &now) != 0 || have.st_ino != now.st_ino ||
      have.st_dev != now.st_dev) {
    auto again = open(path_);
    if (!again) return again.error();
    std::swap(fd_, again->fd_);
  }
  if (::fdatasync(fd_) != 0)
    return make_error(Errc::io, "sync " + path_.string() + ": " + std::strerror(errno));
  return {};
}

}  // namespace revive::server::sqlite
