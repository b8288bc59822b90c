#pragma once
// A thin RAII layer over SQLite: a connection, prepared statements with typed binds, and
// transactions that roll back unless committed. Errors are Result values naming the SQL.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "revive/error.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace revive::server::sqlite {

using SqlValue = std::variant<std::nullptr_t, std::int64_t, double, std::string>;

class Statement {
 public:
  /// `in_use` non-null: a cached statement, reset and handed back (flag cleared) on destruction.
  Statement(sqlite3* db, sqlite3_stmt* stmt, bool* in_use = nullptr)
      : db_(db), stmt_(stmt), in_use_(in_use) {}
  ~Statement();
  Statement(Statement&& o) noexcept : db_(o.db_), stmt_(o.stmt_), in_use_(o.in_use_) {
    o.stmt_ = nullptr;
    o.in_use_ = nullptr;
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  /// Binds parameters 1..n in order (int64, double, string, nullptr or optional).
  template <class... A>
  Statement& bind(const A&... args) {
    return bind_at(1, args...);
  }
  /// Binds parameters first..first+n-1 in order: one row's of a statement inserting several.
  template <class... A>
  Statement& bind_at(int first, const A&... args) {
    int i = first;
    (bind_one(i++, args), ...);
    return *this;
  }

  /// Advances: true when a row is available, false when done; error on failure.
  Result<bool> step();
  /// Runs to completion, ignoring rows.
  Result<void> run();

  std::int64_t int64(int col) const;
  std::string text(int col) const;
  bool is_null(int col) const;
  std::optional<std::string> opt_text(int col) const;
  std::optional<std::int64_t> opt_int64(int col) const;

 private:
  void bind_one(int i, std::int64_t v);
  void bind_one(int i, int v) { bind_one(i, static_cast<std::int64_t>(v)); }
  void bind_one(int i, std::uint64_t v) { bind_one(i, static_cast<std::int64_t>(v)); }
  void bind_one(int i, double v);
  void bind_one(int i, std::string_view v);
  void bind_one(int i, const std::string& v) { bind_one(i, std::string_view(v)); }
  void bind_one(int i, const char* v) { bind_one(i, std::string_view(v)); }
  void bind_one(int i, std::nullptr_t);
  template <class T>
  void bind_one(int i, const std::optional<T>& v) {
    if (v) {
      bind_one(i, *v);
    } else {
      bind_one(i, nullptr);
    }
  }

  sqlite3* db_;
  sqlite3_stmt* stmt_;  ///< its SQL, for errors: sqlite3_sql()
  bool* in_use_;
};

/// When a commit is on disk: as COMMIT returns (synchronous=FULL), or later, synced for many
/// commits at once by whoever counts them (synchronous=NORMAL; see WalSync).
enum class CommitSync { each, grouped };

class Database {
 public:
  /// Opens (creating) the database file: WAL, foreign keys on, synchronous=FULL (or NORMAL,
  /// grouped) for commits that survive power loss, busy timeout for the odd concurrent reader.
  static Result<Database> open(const std::filesystem::path& path,
                               CommitSync sync = CommitSync::each);
  ~Database();
  Database(Database&& o) noexcept
      : db_(o.db_), cache_(std::move(o.cache_)), wal_(std::move(o.wal_)) {
    o.db_ = nullptr;
  }
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  /// Prepares a statement (cached by its text: the same SQL is compiled once); error names
  /// the SQL. A statement already in use (nested call) gets a fresh uncached copy.
  Result<Statement> prepare(std::string_view sql);
  /// Runs one or more statements without parameters.
  Result<void> exec(std::string_view sql);
  /// Runs one statement without parameters, prepared once and kept: the transaction
  /// statements every unit of work runs (SAVEPOINT, RELEASE), which exec() parses anew each
  /// time.
  Result<void> run_kept(std::string_view sql);
  std::int64_t last_insert_id() const;
  int changes() const;
  /// False in autocommit mode: no BEGIN open (or SQLite rolled it back after an error).
  bool in_transaction() const;
  /// Commits written to the WAL so far; counted only with CommitSync::grouped (else 0). Safe
  /// to read from any thread.
  std::uint64_t commits() const { return wal_ ? wal_->commits.load() : 0; }
  /// CommitSync::grouped: true once the WAL has grown to SQLite's automatic checkpoint size.
  /// Such a connection never checkpoints by itself (the sync would stall its thread): whoever
  /// syncs its WAL calls checkpoint() on a connection of its own. Safe from any thread.
  bool checkpoint_due() const;
  /// Copies the WAL's committed pages into the database file as far as readers allow, syncing
  /// both (SQLite's PASSIVE checkpoint; a failure is left for the next one to retry).
  void checkpoint();
  /// The rows each cached statement has stepped through in full-table scans since it was
  /// compiled (SQLite's FULLSCAN_STEP counter), by its SQL; statements that made none are left
  /// out. A per-laptop lookup that reads every laptop's rows shows here.
  std::map<std::string, int, std::less<>> full_scan_rows() const;

 private:
  explicit Database(sqlite3* db) : db_(db) {}
  void count_commits();
  static int on_wal_commit(void* counts, sqlite3* db, const char* schema, int wal_pages);
  struct Cached {
    sqlite3_stmt* stmt = nullptr;
    bool in_use = false;
  };
  sqlite3* db_;
  std::map<std::string, std::unique_ptr<Cached>, std::less<>> cache_;
  struct WalCounts {  ///< written by the WAL hook after each commit
    std::atomic<std::uint64_t> commits{0};
    std::atomic<int> pages{0};  ///< the WAL's size in pages after the last commit
  };
  std::unique_ptr<WalCounts> wal_;  ///< the WAL hook's, so never moves
};

/// BEGIN IMMEDIATE on construction; ROLLBACK at destruction unless commit() succeeded. Or a
/// savepoint inside the transaction open on the connection: its commit() keeps its changes for
/// that transaction's COMMIT, its destruction undoes only them.
class Transaction {
 public:
  static Result<Transaction> begin(Database& db);
  static Result<Transaction> savepoint(Database& db);
  ~Transaction();
  Transaction(Transaction&& o) noexcept : db_(o.db_), savepoint_(o.savepoint_) { o.db_ = nullptr; }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  Transaction& operator=(Transaction&&) = delete;
  Result<void> commit();

 private:
  Transaction(Database* db, bool savepoint) : db_(db), savepoint_(savepoint) {}
  Database* db_;
  bool savepoint_;
};

/// Units of work that share one transaction (group commit, issue 19): a thousand laptops
/// enrolling at once write their rows with one COMMIT per batch instead of one each, and the
/// WAL gets each changed page once per batch. Each unit is a savepoint, so a unit that fails
/// undoes only its own changes; a COMMIT that fails undoes the whole batch. Whoever batches must
/// not say a unit is saved before end() has succeeded (and the WAL was synced).
class TransactionBatch {
 public:
  explicit TransactionBatch(Database& db) : db_(db) {}
  bool is_open() const { return open_.has_value(); }
  /// A unit of work in the open batch; begins a batch when none is open. io when SQLite rolled
  /// the open batch back (end() it first).
  Result<Transaction> unit();
  /// Commits the open batch, if any; io when that failed, and then every unit in it is undone.
  /// So it is when SQLite rolled the batch back on its own, as it does after some errors (a
  /// full disk, an I/O error): the units after that ran outside it.
  Result<void> end();
  /// True when SQLite rolled the open batch back on its own.
  bool rolled_back() const { return open_ && !db_.in_transaction(); }

 private:
  Database& db_;
  std::optional<Transaction> open_;
};

}  // namespace revive::server::sqlite
