#include "storage/sqlite/database.hpp"

#include <sqlite3.h>

namespace revive::server::sqlite {

namespace {
Error sql_error(sqlite3* db, std::string_view sql) {
  std::string s(sql.substr(0, 80));  // enough to find the statement
  return make_error(Errc::io, std::string("sqlite: ") + sqlite3_errmsg(db) + " (in: " + s + ")");
}
// SQLite's allocation statistics take a process-wide mutex on every malloc and free inside
// it, and nothing here reads them (sqlite3_memory_used, heap limits). Set before the first
// connection opens; should SQLite be initialised already, it refuses and nothing changes.
void count_no_allocations() {
  static const int refused = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  (void)refused;
}
}  // namespace

Statement::~Statement() {
  if (!stmt_) return;
  if (in_use_) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    *in_use_ = false;
  } else {
    sqlite3_finalize(stmt_);
  }
}

Result<bool> Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  const char* sql = sqlite3_sql(stmt_);
  return sql_error(db_, sql ? sql : "?");
}

Result<void> Statement::run() {
  for (;;) {
    auto r = step();
    if (!r) return r.error();
    if (!*r) return {};
  }
}

std::int64_t Statement::int64(int col) const { return sqlite3_column_int64(stmt_, col); }
std::string Statement::text(int col) const {
  const auto* p = sqlite3_column_text(stmt_, col);
  return p ? std::string(reinterpret_cast<const char*>(p),
                         static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
           : std::string();
}
bool Statement::is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
std::optional<std::string> Statement::opt_text(int col) const {
  if (is_null(col)) return std::nullopt;
  return text(col);
}
std::optional<std::int64_t> Statement::opt_int64(int col) const {
  if (is_null(col)) return std::nullopt;
  return int64(col);
}

void Statement::bind_one(int i, std::int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
void Statement::bind_one(int i, double v) { sqlite3_bind_double(stmt_, i, v); }
void Statement::bind_one(int i, std::string_view v) {
  sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}
void Statement::bind_one(int i, std::nullptr_t) { sqlite3_bind_null(stmt_, i); }

namespace {
constexpr int kCheckpointPages = 1000;  // SQLite's automatic checkpoint size
}  // namespace

// Called by SQLite after each commit has reached the WAL. Setting a WAL hook replaces the
// automatic checkpoint: the owner of the connection checkpoints (checkpoint_due()).
int Database::on_wal_commit(void* counts, sqlite3* /*db*/, const char* /*schema*/, int wal_pages) {
  auto* c = static_cast<WalCounts*>(counts);
  c->pages.store(wal_pages);
  c->commits.fetch_add(1);
  return SQLITE_OK;
}

void Database::count_commits() {
  wal_ = std::make_unique<WalCounts>();
  sqlite3_wal_hook(db_, on_wal_commit, wal_.get());
}

bool Database::checkpoint_due() const { return wal_ && wal_->pages.load() >= kCheckpointPages; }

void Database::checkpoint() {
  (void)sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
}

Result<Database> Database::open(const std::filesystem::path& path, CommitSync sync) {
  count_no_allocations();
  sqlite3* db = nullptr;
  // No mutex of SQLite's own per connection (which every bind, step and column call takes): a
  // connection is used by one thread only, a serving process's by its io thread, the
  // checkpointer by the syncing thread (sqlite_storage.cpp), a tool's by its main thread.
  const int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return make_error(Errc::io, "open database " + path.string() + ": " + msg);
  }
  Database d(db);
  sqlite3_busy_timeout(db, 5000);
  REVIVE_TRY(d.exec("PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;"));
  // Every unit of a batch is a savepoint, and SQLite keeps the pages a savepoint changes in a
  // statement journal that past 64 KiB becomes a temporary file, created and deleted again per
  // unit. In memory it costs a unit's changed pages while the unit runs; a 1,000-laptop start
  // (bench/agent_swarm.sh) spares ~170 files and ~3,000 writes on the io thread.
  // Sorts that spill stay in memory too; the largest this schema sorts is a row per laptop.
  REVIVE_TRY(d.exec("PRAGMA temp_store=MEMORY"));
  if (sync == CommitSync::grouped) {
    REVIVE_TRY(d.exec("PRAGMA synchronous=NORMAL"));
    d.count_commits();
  } else {
    REVIVE_TRY(d.exec("PRAGMA synchronous=FULL"));
  }
  return d;
}

Database::~Database() {
  for (auto& [sql, c] : cache_) sqlite3_finalize(c->stmt);
  if (db_) sqlite3_close_v2(db_);
}

Result<Statement> Database::prepare(std::string_view sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end() && !it->second->in_use) {
    it->second->in_use = true;
    return Statement(db_, it->second->stmt, &it->second->in_use);
  }
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) !=
      SQLITE_OK) {
    return sql_error(db_, sql);
  }
  if (it != cache_.end()) return Statement(db_, stmt);  // nested use: a private copy
  auto c = std::make_unique<Cached>();
  c->stmt = stmt;
  c->in_use = true;
  auto [pos, inserted] = cache_.emplace(std::string(sql), std::move(c));
  return Statement(db_, stmt, &pos->second->in_use);
}

std::map<std::string, int, std::less<>> Database::full_scan_rows() const {
  std::map<std::string, int, std::less<>> rows;
  for (const auto& [sql, c] : cache_) {
    const int n = sqlite3_stmt_status(c->stmt, SQLITE_STMTSTATUS_FULLSCAN_STEP, 0);
    if (n > 0) rows.emplace(sql, n);
  }
  return rows;
}

Result<void> Database::exec(std::string_view sql) {
  char* err = nullptr;
  const std::string s(sql);
  if (sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return make_error(Errc::io, "sqlite: " + msg + " (in: " + s.substr(0, 80) + ")");
  }
  return {};
}

Result<void> Database::run_kept(std::string_view sql) {
  auto st = prepare(sql);
  if (!st) return st.error();
  return st->run();
}

std::int64_t Database::last_insert_id() const { return sqlite3_last_insert_rowid(db_); }
int Database::changes() const { return sqlite3_changes(db_); }
bool Database::in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }

Result<Transaction> Transaction::begin(Database& db) {
  REVIVE_TRY(db.run_kept("BEGIN IMMEDIATE"));
  return Transaction(&db, false);
}

Result<Transaction> Transaction::savepoint(Database& db) {
  REVIVE_TRY(db.run_kept("SAVEPOINT unit"));
  return Transaction(&db, true);
}

Transaction::~Transaction() {
  if (db_) (void)db_->exec(savepoint_ ? "ROLLBACK TO unit; RELEASE unit" : "ROLLBACK");
}

Result<void> Transaction::commit() {
  REVIVE_TRY(db_->run_kept(savepoint_ ? "RELEASE unit" : "COMMIT"));
  db_ = nullptr;
  return {};
}

namespace {
Error rolled_back_error() {
  return Error{Errc::io, "sqlite: the batch's transaction was rolled back after an error"};
}
}  // namespace

Result<Transaction> TransactionBatch::unit() {
  if (rolled_back()) return rolled_back_error();  // end() it first
  if (!open_) {
    auto tx = Transaction::begin(db_);
    if (!tx) return tx.error();
    open_.emplace(std::move(*tx));
  }
  return Transaction::savepoint(db_);
}

Result<void> TransactionBatch::end() {
  if (!open_) return {};
  const bool dropped = rolled_back();
  Transaction tx = std::move(*open_);
  open_.reset();
  if (dropped) return rolled_back_error();
  return tx.commit();  // a failed COMMIT leaves the transaction open: tx's end rolls it back
}

}  // namespace revive::server::sqlite
