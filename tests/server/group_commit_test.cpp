// Issue 19, group commit: commits are synced in groups by one thread (WalSync), the SQLite
// backend counts them and batches units of work into shared transactions, and the HTTP server
// holds every answer until the writes before it are durable, answering 503 once the disk
// failed to commit or sync.
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "http/http_server.hpp"
#include "served_http.hpp"
#include "storage/sqlite/database.hpp"
#include "storage/sqlite/sqlite_storage.hpp"
#include "storage/sqlite/wal_sync.hpp"
#include "temp_dir.hpp"

namespace revive::server {
namespace {

using namespace std::chrono_literals;
using sqlite::WalSync;

// A sync that waits until the test lets it finish, counting how often it ran.
struct GatedSync {
  std::mutex mu;
  std::condition_variable cv;
  int allowed = 0;
  int started = 0;
  bool fail = false;

  Result<void> sync() {
    std::unique_lock l(mu);
    ++started;
    cv.notify_all();
    cv.wait(l, [&] { return allowed > 0; });
    --allowed;
    if (fail) return make_error(Errc::io, "sync: disk gone");
    return {};
  }
  void allow(int n) {
    std::lock_guard l(mu);
    allowed += n;
    cv.notify_all();
  }
  void wait_started(int n) {
    std::unique_lock l(mu);
    ASSERT_TRUE(cv.wait_for(l, 5s, [&] { return started >= n; })) << "sync " << n << " never began";
  }
};

// durable(mark), waited for: the answer, or nullopt when none came within 10 s.
std::optional<bool> await_durable(GroupCommit& group, std::uint64_t mark) {
  auto answer = std::make_shared<std::promise<bool>>();
  if (group.durable(mark, [answer](bool ok) { answer->set_value(ok); })) return true;
  auto f = answer->get_future();
  if (f.wait_for(10s) != std::future_status::ready) return std::nullopt;
  return f.get();
}

TEST(WalSync, OneSyncAnswersEveryCommitCountedBeforeIt) {
  std::atomic<std::uint64_t> commits{5};
  GatedSync gate;
  WalSync wal([&] { return commits.load(); }, [&] { return gate.sync(); });
  std::promise<bool> answered;
  EXPECT_FALSE(wal.durable(5, [&](bool ok) { answered.set_value(ok); }));
  gate.wait_started(1);
  gate.allow(1);
  auto f = answered.get_future();
  ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
  EXPECT_TRUE(f.get());
  EXPECT_TRUE(wal.durable(5, [](bool) { ADD_FAILURE() << "answered twice"; }));
  EXPECT_TRUE(wal.durable(2, [](bool) { ADD_FAILURE() << "answered twice"; }));
  EXPECT_EQ(wal.syncs(), 1u);
}

TEST(WalSync, WaitersArrivingDuringASyncShareTheNextOne) {
  std::atomic<std::uint64_t> commits{1};
  GatedSync gate;
  WalSync wal([&] { return commits.load(); }, [&] { return gate.sync(); });
  std::atomic<int> ok{0};
  EXPECT_FALSE(wal.durable(1, [&](bool r) { ok += r; }));
  gate.wait_started(1);
  // While the first sync runs, a hundred more commits each wait for their own mark.
  for (int i = 2; i <= 101; ++i) {
    commits = static_cast<std::uint64_t>(i);
    EXPECT_FALSE(wal.durable(commits, [&](bool r) { ok += r; }));
  }
  gate.allow(2);
  for (int i = 0; i < 500 && ok < 101; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(ok, 101);
  EXPECT_EQ(wal.syncs(), 2u) << "the hundred waiting behind the first sync share one";
}

TEST(WalSync, AFailedSyncFailsItsWaitersAndEveryLaterOne) {
  std::atomic<std::uint64_t> commits{3};
  GatedSync gate;
  gate.fail = true;
  WalSync wal([&] { return commits.load(); }, [&] { return gate.sync(); });
  std::promise<bool> first;
  EXPECT_FALSE(wal.durable(3, [&](bool r) { first.set_value(r); }));
  gate.allow(1);
  auto f = first.get_future();
  ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
  EXPECT_FALSE(f.get());
  // The kernel may not report a lost page twice: a later sync that succeeds proves nothing.
  gate.fail = false;
  gate.allow(10);
  std::promise<bool> later;
  EXPECT_FALSE(wal.durable(1, [&](bool r) { later.set_value(r); })) << "not even an old mark";
  auto g = later.get_future();
  ASSERT_EQ(g.wait_for(5s), std::future_status::ready);
  EXPECT_FALSE(g.get());
}

TEST(WalSync, LostCommitsFailEveryLaterWaiter) {
  std::atomic<std::uint64_t> commits{2};
  WalSync wal([&] { return commits.load(); }, [] { return Result<void>{}; });
  EXPECT_EQ(await_durable(wal, 2), true);
  wal.lose();  // a batch failed to commit
  ++commits;   // the next one commits: its mark is the lost one's
  std::promise<bool> after;
  EXPECT_FALSE(wal.durable(3, [&](bool r) { after.set_value(r); }));
  auto a = after.get_future();
  ASSERT_EQ(a.wait_for(5s), std::future_status::ready);
  EXPECT_FALSE(a.get());
}

// Every waiter gets its answer, the last ones from the destructor's final sync. A wait that
// comes after the thread already synced its mark is answered by durable() returning true
// (the callback is not called then): counted too, or the test raced the syncing thread.
TEST(WalSync, StoppingAnswersWhoeverStillWaits) {
  std::atomic<std::uint64_t> commits{1};
  std::atomic<int> answers{0};
  {
    WalSync wal([&] { return commits.load(); }, [] { return Result<void>{}; });
    for (int i = 0; i < 20; ++i) {
      if (wal.durable(1, [&](bool r) { answers += r; })) ++answers;
    }
  }
  EXPECT_EQ(answers, 20);
}

// A waiter whose commit is not made yet (its batch stays open while a sync runs) is not synced
// for: a sync then would cover nobody. poke() after the commit lets the thread sync.
TEST(WalSync, SyncsOnlyForWaitersWhoseCommitWasMade) {
  std::atomic<std::uint64_t> commits{1};
  GatedSync gate;
  gate.allow(10);
  WalSync wal([&] { return commits.load(); }, [&] { return gate.sync(); });
  std::promise<bool> answered;
  EXPECT_FALSE(wal.durable(2, [&](bool ok) { answered.set_value(ok); }));
  auto f = answered.get_future();
  EXPECT_EQ(f.wait_for(200ms), std::future_status::timeout);
  EXPECT_EQ(wal.syncs(), 0u) << "synced before the waiter's commit was made";
  commits = 2;
  wal.poke();
  ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
  EXPECT_TRUE(f.get());
  EXPECT_EQ(wal.syncs(), 1u);
}

// While a sync runs, a batch's end can wait for it: defer_while_busy() says so, and the
// `deferred` callback runs once that sync has ended. With no sync running it says false.
TEST(WalSync, AnEndDeferredWhileASyncRunsIsAskedForWhenItEnds) {
  std::atomic<std::uint64_t> commits{1};
  GatedSync gate;
  std::atomic<int> deferred{0};
  WalSync wal([&] { return commits.load(); }, [&] { return gate.sync(); }, {}, [&] { ++deferred; });
  EXPECT_FALSE(wal.defer_while_busy()) << "no sync runs yet";
  std::promise<bool> answered;
  EXPECT_FALSE(wal.durable(1, [&](bool ok) { answered.set_value(ok); }));
  gate.wait_started(1);
  EXPECT_TRUE(wal.defer_while_busy());
  EXPECT_TRUE(wal.defer_while_busy()) << "asked twice, run once";
  EXPECT_EQ(deferred, 0) << "ran before the sync ended";
  gate.allow(1);
  auto f = answered.get_future();
  ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
  EXPECT_TRUE(f.get());
  for (int i = 0; i < 500 && deferred == 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(deferred, 1);
  EXPECT_FALSE(wal.defer_while_busy()) << "the sync has ended";
}

// A waiter whose commit was never made when the thread stops is told not durable, and the
// thread stops: no sync would ever cover it.
TEST(WalSync, StoppingTellsAWaiterWhoseCommitNeverCameNotDurable) {
  std::atomic<std::uint64_t> commits{1};
  std::promise<bool> answered;
  {
    WalSync wal([&] { return commits.load(); }, [] { return Result<void>{}; });
    EXPECT_FALSE(wal.durable(2, [&](bool ok) { answered.set_value(ok); }));
  }
  auto f = answered.get_future();
  ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
  EXPECT_FALSE(f.get());
}

// Entries of a /proc/self directory: this process's threads (task) or open files (fd).
std::size_t entries_of(const char* proc_dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(proc_dir)) ++n;
  return n;
}

TEST(GroupCommitStorage, OpeningStartsNoThreadSoTheServerCanStillDropItsPrivileges) {
  test::TempDir dir;
  const std::size_t before = entries_of("/proc/self/task");
  auto storage =
      sqlite::open_storage(dir.path() / "grouped.db", {.group_commit = true, .later = {}});
  ASSERT_TRUE(storage) << storage.error().message;
  EXPECT_EQ(entries_of("/proc/self/task"), before);
}

TEST(GroupCommitStorage, TheSqliteBackendCountsCommitsAndSyncsThem) {
  test::TempDir dir;
  auto plain = sqlite::open_storage(dir.path() / "each.db");
  ASSERT_TRUE(plain) << plain.error().message;
  EXPECT_EQ((*plain)->group_commit(), nullptr) << "synchronous=FULL: nothing to wait for";

  auto storage =
      sqlite::open_storage(dir.path() / "grouped.db", {.group_commit = true, .later = {}});
  ASSERT_TRUE(storage) << storage.error().message;
  GroupCommit* group = (*storage)->group_commit();
  ASSERT_NE(group, nullptr);
  const std::uint64_t before = group->commits();
  {
    auto uow = (*storage)->begin();
    ASSERT_TRUE(uow);
    ASSERT_TRUE((*storage)->settings().set("workshop_name", "Repair Café"));
    ASSERT_TRUE((*uow)->commit());
  }
  ASSERT_TRUE((*storage)->settings().set("intake", "open"));  // a commit of its own
  const std::uint64_t mark = group->commits();
  EXPECT_EQ(mark, before + 2) << "a unit of work and a lone statement: two commits";
  EXPECT_EQ(await_durable(*group, mark), true);
  storage->reset();
  auto again = sqlite::open_storage(dir.path() / "grouped.db");
  ASSERT_TRUE(again);
  auto name = (*again)->settings().get("workshop_name");
  ASSERT_TRUE(name && *name);
  EXPECT_EQ(**name, "Repair Café");
}

// ---- units of work batched into shared transactions

std::int64_t count_rows(sqlite::Database& db, const char* table) {
  auto st = db.prepare(std::string("SELECT count(*) FROM ") + table);
  EXPECT_TRUE(st);
  auto row = st->step();
  EXPECT_TRUE(row && *row);
  return st->int64(0);
}

TEST(TransactionBatch, UnitsShareOneCommitAndAFailedUnitUndoesOnlyItself) {
  test::TempDir dir;
  auto db = sqlite::Database::open(dir.path() / "b.db", sqlite::CommitSync::grouped);
  ASSERT_TRUE(db) << db.error().message;
  ASSERT_TRUE(db->exec("CREATE TABLE t(x INTEGER)"));
  const std::uint64_t before = db->commits();
  sqlite::TransactionBatch batch(*db);
  {
    auto unit = batch.unit();
    ASSERT_TRUE(unit) << unit.error().message;
    ASSERT_TRUE(db->exec("INSERT INTO t VALUES (1)"));
    ASSERT_TRUE(unit->commit());
  }
  {
    auto unit = batch.unit();  // fails half way: never committed
    ASSERT_TRUE(unit);
    ASSERT_TRUE(db->exec("INSERT INTO t VALUES (2)"));
  }
  {
    auto unit = batch.unit();
    ASSERT_TRUE(unit);
    ASSERT_TRUE(db->exec("INSERT INTO t VALUES (3)"));
    ASSERT_TRUE(unit->commit());
  }
  EXPECT_TRUE(batch.is_open());
  EXPECT_EQ(db->commits(), before) << "nothing committed before the batch ends";
  auto other = sqlite::Database::open(dir.path() / "b.db", sqlite::CommitSync::each);
  ASSERT_TRUE(other);
  EXPECT_EQ(count_rows(*other, "t"), 0) << "another connection sees nothing yet";
  ASSERT_TRUE(batch.end());
  EXPECT_FALSE(batch.is_open());
  EXPECT_EQ(db->commits(), before + 1) << "three units, one commit";
  EXPECT_EQ(count_rows(*other, "t"), 2) << "the failed unit left nothing";
}

TEST(TransactionBatch, AFailedCommitUndoesTheWholeBatch) {
  test::TempDir dir;
  auto db = sqlite::Database::open(dir.path() / "b.db", sqlite::CommitSync::grouped);
  ASSERT_TRUE(db);
  // A deferred foreign key is checked by COMMIT: the way to make a commit fail on demand.
  ASSERT_TRUE(
      db->exec("CREATE TABLE p(id INTEGER PRIMARY KEY);"
               "CREATE TABLE c(p INTEGER REFERENCES p(id) DEFERRABLE INITIALLY DEFERRED)"));
  sqlite::TransactionBatch batch(*db);
  for (const char* sql : {"INSERT INTO p VALUES (1)", "INSERT INTO c VALUES (2)"}) {
    auto unit = batch.unit();
    ASSERT_TRUE(unit);
    ASSERT_TRUE(db->exec(sql));
    ASSERT_TRUE(unit->commit());
  }
  auto ended = batch.end();
  ASSERT_FALSE(ended);
  EXPECT_NE(ended.error().message.find("FOREIGN KEY"), std::string::npos) << ended.error().message;
  EXPECT_FALSE(batch.is_open());
  EXPECT_EQ(count_rows(*db, "p"), 0) << "the good unit went with the batch";
  ASSERT_TRUE(db->exec("INSERT INTO p VALUES (5)")) << "the connection works on";
}

// A unit that changes many pages that were there before it began journals them for its own
// rollback; that journal stays in memory instead of becoming a temporary file per unit.
TEST(TransactionBatch, AUnitsJournalStaysInMemory) {
  test::TempDir dir;
  auto db = sqlite::Database::open(dir.path() / "b.db", sqlite::CommitSync::grouped);
  ASSERT_TRUE(db);
  ASSERT_TRUE(
      db->exec("CREATE TABLE t(x BLOB);"
               "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200)"
               "  INSERT INTO t SELECT zeroblob(3000) FROM n"));
  sqlite::TransactionBatch batch(*db);
  auto unit = batch.unit();
  ASSERT_TRUE(unit);
  const std::size_t before = entries_of("/proc/self/fd");
  // 200 pages of ~3 KB rows changed: 600 KB of journal, far past SQLite's 64 KiB in memory.
  ASSERT_TRUE(db->exec("UPDATE t SET x = zeroblob(3001)"));
  EXPECT_EQ(entries_of("/proc/self/fd"), before) << "the unit's journal went to a temporary file";
  ASSERT_TRUE(unit->commit());
  ASSERT_TRUE(batch.end());
}

// SQLite rolls a transaction back on its own after a full disk or an I/O error: the batch and
// its units are gone, and no unit may run on outside it as if it were still open.
TEST(TransactionBatch, ABatchSqliteRolledBackIsLostAndTheNextBatchStartsClean) {
  test::TempDir dir;
  auto db = sqlite::Database::open(dir.path() / "b.db", sqlite::CommitSync::grouped);
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->exec("CREATE TABLE t(x INTEGER)"));
  sqlite::TransactionBatch batch(*db);
  {
    auto unit = batch.unit();
    ASSERT_TRUE(unit);
    ASSERT_TRUE(db->exec("INSERT INTO t VALUES (1)"));
    ASSERT_TRUE(unit->commit());
  }
  ASSERT_TRUE(db->exec("ROLLBACK"));  // what SQLite does itself after SQLITE_FULL
  EXPECT_TRUE(batch.rolled_back());
  EXPECT_FALSE(batch.unit()) << "no unit outside the batch it belongs to";
  auto ended = batch.end();
  ASSERT_FALSE(ended);
  EXPECT_NE(ended.error().message.find("rolled back"), std::string::npos) << ended.error().message;
  EXPECT_FALSE(batch.is_open());
  EXPECT_EQ(count_rows(*db, "t"), 0);
  {
    auto unit = batch.unit();
    ASSERT_TRUE(unit) << unit.error().message;
    ASSERT_TRUE(db->exec("INSERT INTO t VALUES (2)"));
    ASSERT_TRUE(unit->commit());
  }
  ASSERT_TRUE(batch.end());
  EXPECT_EQ(count_rows(*db, "t"), 1);
}

// A serving process's storage; the test runs the batch ends it posts (`posted`) by hand. The
// syncing thread posts too: the end of a batch it held open while busy.
class BatchedStorage : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = sqlite::open_storage(
        dir.path() / "grouped.db", {.group_commit = true, .later = [this](std::function<void()> f) {
                                      std::lock_guard l(posted_mu);
                                      posted.push_back(std::move(f));
                                    }});
    ASSERT_TRUE(opened) << opened.error().message;
    storage = std::move(*opened);
    group = storage->group_commit();
    ASSERT_NE(group, nullptr);
  }
  /// One unit of work that sets `key`, or reads it only.
  void unit(const char* key, bool write = true) {
    auto uow = storage->begin();
    ASSERT_TRUE(uow) << uow.error().message;
    if (write) {
      ASSERT_TRUE(storage->settings().set(key, "1"));
    } else {
      ASSERT_TRUE(storage->settings().get(key));
    }
    ASSERT_TRUE((*uow)->commit());
  }
  std::size_t posted_count() {
    std::lock_guard l(posted_mu);
    return posted.size();
  }
  std::function<void()> posted_at(std::size_t i) {
    std::lock_guard l(posted_mu);
    return i < posted.size() ? posted[i] : std::function<void()>();
  }
  /// Runs what was posted from `from` on, as the io_context would, and what the syncing thread
  /// posts meanwhile, until `done` holds; false when it did not within 5 s.
  bool run_posted_until(std::size_t from, const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    for (std::size_t i = from; !done(); std::this_thread::sleep_for(1ms)) {
      while (auto f = posted_at(i)) {
        f();
        ++i;
      }
      if (std::chrono::steady_clock::now() > deadline) return done();
    }
    return true;
  }

  test::TempDir dir;
  std::mutex posted_mu;
  std::vector<std::function<void()>> posted;
  std::unique_ptr<Storage> storage;
  GroupCommit* group = nullptr;
};

TEST_F(BatchedStorage, UnitsBegunBeforeTheBatchEndsShareOneCommit) {
  const std::uint64_t before = group->commits();
  for (const char* key : {"a", "b", "c"}) unit(key);
  EXPECT_EQ(posted_count(), 1u) << "one end planned per batch";
  EXPECT_EQ(group->commits(), before + 1) << "the open batch counts: its mark covers all three";
  auto plain = sqlite::open_storage(dir.path() / "grouped.db");
  ASSERT_TRUE(plain);
  EXPECT_FALSE(*(*plain)->settings().get("a")) << "uncommitted: invisible to another connection";
  // The first answer that needs the batch ends it.
  EXPECT_EQ(await_durable(*group, group->commits()), true);
  EXPECT_TRUE(*(*plain)->settings().get("c"));
  posted_at(0)();  // the planned end finds nothing open
  EXPECT_EQ(group->commits(), before + 1);
  // The next unit opens the next batch, ended this time by the planned end; or, should the
  // syncing thread still be busy after that answer, by the end it posts once idle.
  unit("d");
  ASSERT_EQ(posted_count(), 2u);
  EXPECT_TRUE(
      run_posted_until(1, [&] { return static_cast<bool>(*(*plain)->settings().get("d")); }));
  EXPECT_EQ(group->commits(), before + 2);
}

// A batch of units that only read commits nothing to the WAL: its mark is reached all the same.
TEST_F(BatchedStorage, ABatchThatWroteNothingIsDurableToo) {
  unit("a", false);
  const std::uint64_t mark = group->commits();
  EXPECT_EQ(await_durable(*group, mark), true) << "no answer: waits for a commit never made";
  EXPECT_EQ(group->commits(), mark);
}

// The WAL's checkpoint syncs the WAL and the database file: SQLite would run it in the commit
// that grew the WAL past 1,000 pages, on the serving thread. Here the syncing thread runs it,
// after its answers.
TEST_F(BatchedStorage, TheWalIsCheckpointedByTheSyncingThreadNotInTheCommit) {
  const auto db_file = dir.path() / "grouped.db";
  const auto size_before = std::filesystem::file_size(db_file);
  const std::string value(3000, 'x');  // a page each: 1,500 pages in the WAL
  for (int i = 0; i < 1500; ++i) {
    auto uow = storage->begin();
    ASSERT_TRUE(uow);
    ASSERT_TRUE(storage->settings().set("k" + std::to_string(i), value));
    ASSERT_TRUE((*uow)->commit());
  }
  ASSERT_EQ(posted_count(), 1u);
  posted_at(0)();  // the batch ends, as the serving thread ends it (no sync has begun)
  EXPECT_EQ(std::filesystem::file_size(db_file), size_before) << "checkpointed in the commit";
  EXPECT_EQ(await_durable(*group, group->commits()), true);
  // The checkpoint writes page after page: wait until the pages are all there, not only some.
  const auto checkpointed = size_before + std::uintmax_t{1000} * 3000;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::filesystem::file_size(db_file) <= checkpointed &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_GT(std::filesystem::file_size(db_file), checkpointed)
      << "the syncing thread did not checkpoint";
}

// ---- the HTTP server holds answers until the writes before them are durable

// A raw HTTP/1.1 GET to 127.0.0.1:port; the status line, or "" when nothing came within `wait`.
std::string get_status(std::uint16_t port, std::chrono::milliseconds wait) {
  const int fd = test::connect_loopback(port);
  if (fd < 0) return "";
  std::string got =
      test::status_line(fd, "GET /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", wait);
  ::close(fd);
  return got;
}

class DurableAnswers : public ::testing::Test {
 protected:
  void SetUp() override {
    HttpOptions o;
    o.durable.mark = [this] { return writes.load(); };
    o.durable.wait = [this](std::uint64_t mark, std::function<void(bool)> done) {
      std::lock_guard l(mu);
      if (mark <= synced) return true;
      pending.push_back(std::move(done));
      return false;
    };
    ASSERT_TRUE(served.start(o, [this](Request& req, std::string& route) {
      ++writes;  // every request writes something
      return test::empty_ok(req, route);
    }));
  }
  /// Answers every waiter so far with `ok`.
  void sync_done(bool ok) {
    std::lock_guard l(mu);
    if (ok) synced = writes;
    for (auto& d : pending) d(ok);
    pending.clear();
  }
  std::size_t waiting() {
    std::lock_guard l(mu);
    return pending.size();
  }

  std::atomic<std::uint64_t> writes{0};
  std::mutex mu;
  std::uint64_t synced = 0;
  std::vector<std::function<void(bool)>> pending;
  test::ServedHttp served;  // last: its thread stops before what the handler uses goes
};

TEST_F(DurableAnswers, NoAnswerLeavesBeforeItsWritesAreDurable) {
  auto answer = std::async(std::launch::async, [&] { return get_status(served.port(), 5000ms); });
  for (int i = 0; i < 200 && waiting() == 0; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(waiting(), 1u);
  EXPECT_EQ(answer.wait_for(300ms), std::future_status::timeout) << "answered before the sync";
  sync_done(true);
  EXPECT_EQ(answer.get(), "HTTP/1.1 200 OK");
}

TEST_F(DurableAnswers, AFailedSyncIsAnsweredAsAStorageFailure) {
  auto answer = std::async(std::launch::async, [&] { return get_status(served.port(), 5000ms); });
  for (int i = 0; i < 200 && waiting() == 0; ++i) std::this_thread::sleep_for(10ms);
  sync_done(false);
  EXPECT_EQ(answer.get(), "HTTP/1.1 503 Service Unavailable");
}

}  // namespace
}  // namespace revive::server
