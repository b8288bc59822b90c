#pragma once
// The SQLite repositories (internal to storage/sqlite; the domain sees storage/storage.hpp).
// Each holds the connection and prepares its statements there (the connection caches them).

#include <map>
#include <string>
#include <vector>

#include "storage/sqlite/database.hpp"
#include "storage/storage.hpp"

namespace revive::server::sqlite {

class SqliteSettings final : public SettingsRepository {
 public:
  explicit SqliteSettings(Database& db) : db_(db) {}
  Result<std::optional<std::string>> get(const std::string& key) override;
  Result<void> set(const std::string& key, const std::string& value) override;

 private:
  Database& db_;
};

class SqliteWorkflows final : public WorkflowRepository {
 public:
  explicit SqliteWorkflows(Database& db) : db_(db) {}
  Result<void> put(const std::string& name, const std::vector<WorkflowStep>& steps,
                   Seconds now) override;
  Result<std::vector<WorkflowRow>> list() override;
  Result<std::optional<WorkflowRow>> find(const std::string& name) override;
  Result<std::optional<WorkflowRow>> find(std::int64_t id) override;

 private:
  WorkflowRow row(const Statement& q);

  Database& db_;
  // Workflows' steps as parsed, by their stored text: each enrolment reads its workflow to
  // make a run (a thousand laptops at once, bench/start_cost.sh). Keyed by the text itself,
  // an edited workflow is a new entry, never a stale one.
  std::map<std::string, std::vector<WorkflowStep>, std::less<>> parsed_;
};

class SqliteBatches final : public BatchRepository {
 public:
  explicit SqliteBatches(Database& db) : db_(db) {}
  Result<std::int64_t> create(const BatchRow& batch, Seconds now) override;
  Result<std::vector<BatchRow>> list() override;
  Result<std::optional<BatchRow>> find(const std::string& name) override;
  Result<std::optional<BatchRow>> find(std::int64_t id) override;
  Result<std::int64_t> device_count(std::int64_t batch_id) override;
  Result<void> update(const BatchRow& batch) override;

 private:
  Database& db_;
};

class SqliteDevices final : public DeviceRepository {
 public:
  explicit SqliteDevices(Database& db) : db_(db) {}
  /// The query identity_candidates() runs (?1 model, ?2 system UUID, ?3 serial, ?4 disk serials
  /// as a JSON array), for a test of its plan: it runs at every enrolment.
  static std::string identity_candidates_sql();
  Result<std::int64_t> insert(const NewDevice& d) override;
  Result<std::vector<DeviceRow>> identity_candidates(const std::string& model,
                                                     const std::string& system_uuid,
                                                     const std::string& serial,
                                                     const Json& disk_serials) override;
  Result<std::optional<DeviceRow>> find(std::int64_t id) override;
  Result<std::vector<DeviceRow>> find_by_mac(const std::string& mac, int limit) override;
  Result<std::vector<std::int64_t>> ids() override;
  Result<void> record_sighting(std::int64_t id, const Sighting& sighting) override;
  Result<void> set_flag(std::int64_t id, const std::optional<std::string>& flag) override;
  Result<void> set_batch(std::int64_t id, std::int64_t batch_id) override;
  Result<void> set_workflow(std::int64_t id, std::int64_t workflow_id) override;
  Result<std::optional<Json>> inventory(std::int64_t id) override;
  Result<std::vector<std::pair<std::optional<RunState>, std::int64_t>>> count_by_run_state()
      override;

 private:
  Database& db_;
};

class SqliteRuns final : public RunRepository {
 public:
  explicit SqliteRuns(Database& db) : db_(db) {}
  Result<std::int64_t> create(const RunRow& run, const std::vector<WorkflowStep>& steps) override;
  Result<std::optional<RunRow>> latest(std::int64_t device_id) override;
  Result<std::optional<RunRow>> find(std::int64_t run_id) override;
  Result<void> update(const RunRow& run) override;
  Result<std::vector<StepRow>> steps(std::int64_t run_id) override;
  Result<std::optional<StepRow>> step(std::int64_t step_id) override;
  Result<std::vector<StepRow>> running_steps() override;
  Result<void> update(const StepRow& step) override;
  Result<std::optional<StepResultRow>> result(std::int64_t step_id, std::int64_t attempt) override;
  Result<void> add_result(const StepResultRow& r) override;
  Result<std::vector<StepResultRow>> results(std::int64_t device_id) override;
  Result<std::optional<StepResultRow>> latest_result(std::int64_t device_id, StepKind kind,
                                                     StepStatus status) override;

 private:
  Database& db_;
};

class SqliteCertificates final : public CertificateRepository {
 public:
  explicit SqliteCertificates(Database& db) : db_(db) {}
  Result<void> add(const CertificateRow& c) override;
  Result<std::optional<CertificateRow>> find(const std::string& cert_id) override;
  Result<std::optional<CertificateRow>> superseded_by(const std::string& cert_id) override;
  Result<std::vector<CertificateRow>> for_device(std::int64_t device_id) override;
  Result<std::optional<CertificateRow>> newest_for_step(std::int64_t step_id,
                                                        const std::string& kind) override;
  Result<std::vector<CertificateRow>> newest_per_device_in_batch(std::int64_t batch_id,
                                                                 const std::string& kind) override;

 private:
  Database& db_;
};

class SqliteEvents final : public EventRepository {
 public:
  explicit SqliteEvents(Database& db) : db_(db) {}
  Result<std::int64_t> append(const EventRow& e) override;
  Result<std::vector<EventRow>> since(std::int64_t after_id, int limit) override;
  Result<std::optional<EventRow>> latest(std::int64_t device_id, const std::string& kind) override;
  Result<std::int64_t> prune(Seconds before, std::int64_t keep, std::int64_t batch) override;
  Result<std::vector<EventRow>> of_device(std::int64_t device_id,
                                          const std::vector<std::string>& kinds,
                                          int limit) override;

 private:
  Database& db_;
};

class SqliteOperators final : public OperatorRepository {
 public:
  explicit SqliteOperators(Database& db) : db_(db) {}
  Result<void> put(const std::string& name, const std::string& password_hash, Seconds now) override;
  Result<std::optional<OperatorRow>> find(const std::string& name) override;
  Result<std::int64_t> count() override;
  Result<void> add_token(const OperatorTokenRow& t) override;
  Result<std::optional<OperatorTokenOwner>> token_owner(const std::string& token_hash) override;
  Result<std::vector<OperatorTokenInfo>> tokens() override;
  Result<void> remove_token(const std::string& token_hash) override;
  Result<void> remove_tokens_of(std::int64_t operator_id) override;
  Result<void> remove_expired(Seconds now) override;

 private:
  Database& db_;
};

class SqliteAgentTokens final : public AgentTokenRepository {
 public:
  explicit SqliteAgentTokens(Database& db) : db_(db) {}
  Result<void> revoke_device(std::int64_t device_id) override;
  Result<void> add(const std::string& token_hash, std::int64_t device_id, Seconds now) override;
  Result<std::optional<std::int64_t>> device(const std::string& token_hash) override;

 private:
  Database& db_;
};

class SqliteBootTokens final : public BootTokenRepository {
 public:
  explicit SqliteBootTokens(Database& db) : db_(db) {}
  Result<void> add(const BootTokenRow& t) override;
  Result<std::optional<BootTokenRow>> find(const std::string& token_hash) override;
  Result<void> mark_used(const std::string& token_hash, Seconds at) override;
  Result<void> prune(Seconds issued_before, const std::string& mac, int keep_per_mac,
                     int keep_total) override;

 private:
  Database& db_;
};

class SqliteIntakes final : public IntakeRepository {
 public:
  explicit SqliteIntakes(Database& db) : db_(db) {}
  Result<std::int64_t> open(const IntakeRow& intake) override;
  Result<std::optional<IntakeRow>> current() override;
  Result<void> close(Seconds at, const std::string& by) override;

 private:
  Database& db_;
};

// ---- named recipient profiles (issue 16, the settings page): profile_repository.cpp

class SqliteRecipientProfiles final : public RecipientProfileRepository {
 public:
  explicit SqliteRecipientProfiles(Database& db) : db_(db) {}
  Result<std::int64_t> put(const std::string& name, const Json& fields, Seconds now) override;
  Result<std::vector<RecipientProfileRow>> list() override;
  Result<std::optional<RecipientProfileRow>> find(const std::string& name) override;
  Result<std::optional<RecipientProfileRow>> find(std::int64_t id) override;
  Result<std::vector<std::string>> batches_using(std::int64_t id) override;
  Result<void> remove(std::int64_t id) override;

 private:
  Database& db_;
};

// ---- partner organisations, hand-overs and loans (issue 16): partner_repositories.cpp

class SqliteOrganisations final : public OrganisationRepository {
 public:
  explicit SqliteOrganisations(Database& db) : db_(db) {}
  Result<std::int64_t> create(const OrganisationRow& o) override;
  Result<void> update(const OrganisationRow& o) override;
  Result<std::vector<OrganisationRow>> list() override;
  Result<std::optional<OrganisationRow>> find(std::int64_t id) override;

 private:
  Database& db_;
};

class SqliteHandovers final : public HandoverRepository {
 public:
  explicit SqliteHandovers(Database& db) : db_(db) {}
  Result<std::int64_t> create(const HandoverRow& h) override;
  Result<std::optional<HandoverRow>> find(std::int64_t id) override;
  Result<std::vector<HandoverRow>> list() override;
  Result<std::optional<HandoverRow>> latest_for(std::int64_t device_id) override;
  Result<std::int64_t> add_loan(const LoanRow& loan) override;
  Result<std::vector<LoanRow>> loans_of(std::int64_t device_id) override;
  Result<void> mark_returned(std::int64_t loan_id, Seconds at, const std::string& by) override;
  Result<std::int64_t> erase_references(Seconds before, std::int64_t batch) override;

 private:
  /// Reads the hand-over's laptops into it.
  Result<void> fill_devices(HandoverRow& h);
  Database& db_;
};

}  // namespace revive::server::sqlite
