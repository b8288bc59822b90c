#include "storage/sqlite/sqlite_storage.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <utility>

#include "storage/sqlite/migrations.hpp"
#include "storage/sqlite/repositories.hpp"
#include "storage/sqlite/wal_sync.hpp"

namespace revive::server::sqlite {

namespace {

// A unit of work begun inside another joins it: only the outermost one commits, so services
// may call each other without knowing whether a transaction is open.
class SqliteUnitOfWork final : public UnitOfWork {
 public:
  SqliteUnitOfWork(std::optional<Transaction> tx, int& depth) : tx_(std::move(tx)), depth_(depth) {
    ++depth_;
  }
  ~SqliteUnitOfWork() override { --depth_; }
  Result<void> commit() override { return tx_ ? tx_->commit() : Result<void>{}; }

 private:
  std::optional<Transaction> tx_;
  int& depth_;
};

// Group commit for a serving process. Commits return before they are synced; WalSync syncs
// them in groups. With `later` set, units of work begun one after another also share one
// transaction (TransactionBatch), ended by `later` (the io_context runs it after the requests
// that are ready now) or by the first durable() that needs it ended. While the syncing thread
// is busy (a sync, its answers, the checkpoint after it), the batch stays open until it is
// idle again: nothing committed meanwhile could be synced sooner, and one commit writes each
// page the batch touched once (issue 19's 1,000-laptop start made 754 commits for 290 syncs,
// a page written to the WAL again by each commit that touched it). Called on the
// io_context's thread; WalSync's thread reads ended() and checkpoint_due() only, checkpoints
// through a connection of its own, and asks for a deferred end through `later`.
class GroupedCommits final : public GroupCommit {
 public:
  /// `checkpointer`: a second connection to the database, used by the syncing thread only.
  GroupedCommits(Database& db, std::shared_ptr<WalFile> wal, Database checkpointer, Later later)
      : db_(db),
        later_(std::move(later)),
        batch_(db),
        checkpointer_(std::move(checkpointer)),
        sync_(std::make_unique<WalSync>(
            [this] { return ended(); }, [wal = std::move(wal)] { return wal->sync(); },
            [this] { checkpoint_if_due(); }, [this] { later_(end_deferred()); })) {}
  ~GroupedCommits() override { end_batch(); }  // its units were committed: keep them
  GroupedCommits(const GroupedCommits&) = delete;
  GroupedCommits& operator=(const GroupedCommits&) = delete;

  /// A unit of work: a savepoint in the open batch, or without `later` a transaction of its own.
  Result<Transaction> unit() {
    if (!later_) return Transaction::begin(db_);
    if (batch_.rolled_back()) end_batch();  // lost: the units from now on start a new one
    auto unit = batch_.unit();
    if (batch_.is_open() && !end_planned_) {
      end_planned_ = true;
      later_([this, alive = std::weak_ptr<void>(alive_)] {
        if (alive.expired()) return;
        end_planned_ = false;
        if (batch_.is_open() && !sync_->defer_while_busy()) end_batch();
      });
    }
    return unit;
  }
  std::uint64_t commits() const override { return ended() + (batch_.is_open() ? 1 : 0); }
  bool durable(std::uint64_t mark, std::function<void(bool ok)> done) override {
    // A batch SQLite rolled back is lost before anyone waits: commits made after it (outside
    // any batch) may reach its mark.
    if (batch_.rolled_back() || (batch_.is_open() && ended() < mark && !sync_->defer_while_busy()))
      end_batch();
    return sync_->durable(mark, std::move(done));
  }

 private:
  // Commits that reached the WAL (SQLite's count), and the batches that did not: those that
  // wrote nothing (so their marks are reached) and those whose commit failed.
  std::uint64_t ended() const { return db_.commits() + unwritten_.load(); }
  void end_batch() {
    if (!batch_.is_open()) return;
    const std::uint64_t before = db_.commits();
    const auto committed = batch_.end();
    if (!committed) sync_->lose();  // first: nothing written from now on is said to be saved
    if (!committed || db_.commits() == before) ++unwritten_;
    sync_->poke();
  }
  // The end of a batch deferred while the syncing thread was busy, to run on the io_context's
  // thread. Made on the syncing thread: `alive_` is only copied there, and outlives it.
  std::function<void()> end_deferred() {
    return [this, alive = std::weak_ptr<void>(alive_)] {
      if (!alive.expired()) end_batch();
    };
  }

  // The WAL's pages copied into the database file now and then, as SQLite would do in the
  // commit that grew the WAL; here the syncing thread does it after its answers, on its own
  // connection, so the serving thread never waits for the checkpoint's two syncs (answers
  // waiting for the next sync do, as they would wait for a sync). A thread of its own for it
  // was tried: on two cores it took CPU from the serving thread (bench/README.md).
  void checkpoint_if_due() {
    if (db_.checkpoint_due()) checkpointer_.checkpoint();
  }

  Database& db_;
  Later later_;
  TransactionBatch batch_;
  std::atomic<std::uint64_t> unwritten_{0};
  Database checkpointer_;
  bool end_planned_ = false;
  std::shared_ptr<void> alive_ = std::make_shared<int>(0);  ///< for the ends `later` runs
  std::unique_ptr<WalSync> sync_;  ///< after what its thread uses: that thread stops first
};

class SqliteStorage final : public Storage {
 public:
  explicit SqliteStorage(Database db)
      : db_(std::move(db)),
        settings_(db_),
        workflows_(db_),
        batches_(db_),
        devices_(db_),
        runs_(db_),
        certificates_(db_),
        events_(db_),
        operators_(db_),
        agent_tokens_(db_),
        boot_tokens_(db_),
        intakes_(db_),
        organisations_(db_),
        handovers_(db_),
        recipient_profiles_(db_) {}

  Result<std::unique_ptr<UnitOfWork>> begin() override {
    if (depth_ > 0) return std::make_unique<SqliteUnitOfWork>(std::nullopt, depth_);
    auto tx = grouped_ ? grouped_->unit() : Transaction::begin(db_);
    if (!tx) return tx.error();
    return std::make_unique<SqliteUnitOfWork>(std::move(*tx), depth_);
  }
  SettingsRepository& settings() override { return settings_; }
  WorkflowRepository& workflows() override { return workflows_; }
  BatchRepository& batches() override { return batches_; }
  DeviceRepository& devices() override { return devices_; }
  RunRepository& runs() override { return runs_; }
  CertificateRepository& certificates() override { return certificates_; }
  EventRepository& events() override { return events_; }
  OperatorRepository& operators() override { return operators_; }
  AgentTokenRepository& agent_tokens() override { return agent_tokens_; }
  BootTokenRepository& boot_tokens() override { return boot_tokens_; }
  IntakeRepository& intakes() override { return intakes_; }
  OrganisationRepository& organisations() override { return organisations_; }
  HandoverRepository& handovers() override { return handovers_; }
  RecipientProfileRepository& recipient_profiles() override { return recipient_profiles_; }
  GroupCommit* group_commit() override { return grouped_.get(); }

  /// Syncs the WAL in groups from now on (the database was opened CommitSync::grouped), and
  /// batches units of work when `later` is set.
  Result<void> group_commits(const std::filesystem::path& path, Later later) {
    auto wal = WalFile::open(path.string() + "-wal");
    if (!wal) return wal.error();
    auto checkpointer = Database::open(path);
    if (!checkpointer) return checkpointer.error();
    grouped_ = std::make_unique<GroupedCommits>(db_, std::make_shared<WalFile>(std::move(*wal)),
                                                std::move(*checkpointer), std::move(later));
    return {};
  }

 private:
  Database db_;
  int depth_ = 0;
  SqliteSettings settings_;
  SqliteWorkflows workflows_;
  SqliteBatches batches_;
  SqliteDevices devices_;
  SqliteRuns runs_;
  SqliteCertificates certificates_;
  SqliteEvents events_;
  SqliteOperators operators_;
  SqliteAgentTokens agent_tokens_;
  SqliteBootTokens boot_tokens_;
  SqliteIntakes intakes_;
  SqliteOrganisations organisations_;
  SqliteHandovers handovers_;
  SqliteRecipientProfiles recipient_profiles_;
  std::unique_ptr<GroupedCommits> grouped_;  ///< last: ends and syncs before the connection closes
};

}  // namespace

Result<std::unique_ptr<Storage>> open_storage(const std::filesystem::path& path,
                                              StorageOptions options) {
  auto db = Database::open(path, options.group_commit ? CommitSync::grouped : CommitSync::each);
  if (!db) return db.error();
  REVIVE_TRY(migrate(*db));
  auto storage = std::make_unique<SqliteStorage>(std::move(*db));
  // After the migrations, the WAL file exists.
  if (options.group_commit) REVIVE_TRY(storage->group_commits(path, std::move(options.later)));
  return std::unique_ptr<Storage>(std::move(storage));
}

}  // namespace revive::server::sqlite
