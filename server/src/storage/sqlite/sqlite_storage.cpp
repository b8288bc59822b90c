#include "storage/sqlite/sqlite_storage.hpp"

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
    auto tx = Transaction::begin(db_);
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
  GroupCommit* group_commit() override { return wal_sync_.get(); }

  /// Syncs the WAL in groups from now on (the database was opened CommitSync::grouped).
  Result<void> group_commits(const std::filesystem::path& path) {
    auto wal = WalFile::open(path.string() + "-wal");
    if (!wal) return wal.error();
    auto file = std::make_shared<WalFile>(std::move(*wal));
    wal_sync_ = std::make_unique<WalSync>([this] { return db_.commits(); },
                                          [file] { return file->sync(); });
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
  std::unique_ptr<WalSync> wal_sync_;  ///< last: stops before the connection closes
};

}  // namespace

Result<std::unique_ptr<Storage>> open_storage(const std::filesystem::path& path,
                                              StorageOptions options) {
  auto db = Database::open(path, options.group_commit ? CommitSync::grouped : CommitSync::each);
  if (!db) return db.error();
  REVIVE_TRY(migrate(*db));
  auto storage = std::make_unique<SqliteStorage>(std::move(*db));
  // After the migrations, the WAL file exists.
  if (options.group_commit) REVIVE_TRY(storage->group_commits(path));
  return std::unique_ptr<Storage>(std::move(storage));
}

}  // namespace revive::server::sqlite
