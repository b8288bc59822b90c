#pragma once
// The server's storage, one repository per aggregate, behind interfaces: the domain layer
// (server/src/domain) sees these and the rows in rows.hpp, never SQL or a backend's types. The
// SQLite implementation is in storage/sqlite; a PostgreSQL one would implement the same classes.
//
// Every state change is one unit of work: begin(), the repository calls, commit(). A unit of
// work that is destroyed uncommitted leaves nothing behind, so a crash (or an error half way)
// leaves the state of before or after the change, never between.
//
// Not thread-safe: owned by the io thread (the domain's), like the domain services that use it.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "revive/error.hpp"
#include "storage/rows.hpp"

namespace revive::server {

class UnitOfWork {
 public:
  virtual ~UnitOfWork() = default;  ///< rolls back unless committed
  /// Makes every change since begin() visible at once, and durable unless the backend groups
  /// commits (GroupCommit); io when it cannot (nothing was stored).
  virtual Result<void> commit() = 0;
};

/// Group commit (issue 19): a backend may return from commit() before the commit is on disk
/// and make many commits durable with one sync, or even several units of work one commit.
/// Whoever must not answer before its writes survive a power cut reads `commits()` after
/// writing and waits for `durable()` of it.
class GroupCommit {
 public:
  virtual ~GroupCommit() = default;
  /// Commits made so far, one still open (a batch of units of work) included; only grows.
  virtual std::uint64_t commits() const = 0;
  /// True when every commit up to `mark` is durable already (an open batch the mark counts is
  /// committed first). Otherwise false, and `done` is called later, from another thread:
  /// done(true) once they are durable, done(false) when the backend failed to commit or sync,
  /// after which no later commit is ever reported durable.
  virtual bool durable(std::uint64_t mark, std::function<void(bool ok)> done) = 0;
};

class SettingsRepository {
 public:
  virtual ~SettingsRepository() = default;
  /// The value, or nullopt when unset; io on a storage failure.
  virtual Result<std::optional<std::string>> get(const std::string& key) = 0;
  /// Sets (or replaces) a value; io on a storage failure.
  virtual Result<void> set(const std::string& key, const std::string& value) = 0;
};

class WorkflowRepository {
 public:
  virtual ~WorkflowRepository() = default;
  /// Creates the workflow or replaces its steps; io on a storage failure.
  virtual Result<void> put(const std::string& name, const std::vector<WorkflowStep>& steps,
                           Seconds now) = 0;
  /// Every workflow by name; io on a storage failure.
  virtual Result<std::vector<WorkflowRow>> list() = 0;
  /// The named workflow, or nullopt; io on a storage failure.
  virtual Result<std::optional<WorkflowRow>> find(const std::string& name) = 0;
  /// The workflow with this id, or nullopt; io on a storage failure.
  virtual Result<std::optional<WorkflowRow>> find(std::int64_t id) = 0;
};

class BatchRepository {
 public:
  virtual ~BatchRepository() = default;
  /// The new batch's id; conflict when the name is taken, io on a storage failure.
  virtual Result<std::int64_t> create(const BatchRow& batch, Seconds now) = 0;
  /// Every batch, oldest first; io on a storage failure.
  virtual Result<std::vector<BatchRow>> list() = 0;
  /// The named batch, or nullopt; io on a storage failure.
  virtual Result<std::optional<BatchRow>> find(const std::string& name) = 0;
  /// The batch with this id, or nullopt; io on a storage failure.
  virtual Result<std::optional<BatchRow>> find(std::int64_t id) = 0;
  /// How many devices belong to the batch; io on a storage failure.
  virtual Result<std::int64_t> device_count(std::int64_t batch_id) = 0;
  /// Sets the batch's image and profile (by its id); not_found when it does not exist.
  virtual Result<void> update(const BatchRow& batch) = 0;
};

class DeviceRepository {
 public:
  virtual ~DeviceRepository() = default;
  /// The new device's id; io on a storage failure.
  virtual Result<std::int64_t> insert(const NewDevice& d) = 0;
  /// Devices of this model that share a known field with the identity: the system UUID, the
  /// serial (each only when not empty) or one of the disk serials. Who is who among them the
  /// domain decides (domain/identity.hpp); io on a storage failure.
  virtual Result<std::vector<DeviceRow>> identity_candidates(const std::string& model,
                                                             const std::string& system_uuid,
                                                             const std::string& serial,
                                                             const Json& disk_serials) = 0;
  /// The device, or nullopt; io on a storage failure.
  virtual Result<std::optional<DeviceRow>> find(std::int64_t id) = 0;
  /// Up to `limit` devices that reported this MAC (any case), most recently seen first; io on
  /// a storage failure.
  virtual Result<std::vector<DeviceRow>> find_by_mac(const std::string& mac, int limit) = 0;
  /// Every device id, ascending; io on a storage failure.
  virtual Result<std::vector<std::int64_t>> ids() = 0;
  /// Records a new sighting: MACs, vendor, last_seen, and the inventory and disk serials
  /// unless nullopt (the previous ones are kept then); not_found when the device does not exist.
  virtual Result<void> record_sighting(std::int64_t id, const Sighting& sighting) = 0;
  /// Sets or clears the device's flag; not_found when the device does not exist.
  virtual Result<void> set_flag(std::int64_t id, const std::optional<std::string>& flag) = 0;
  /// Moves the device to a batch; not_found when the device does not exist.
  virtual Result<void> set_batch(std::int64_t id, std::int64_t batch_id) = 0;
  /// Gives the device its own workflow; not_found when the device does not exist.
  virtual Result<void> set_workflow(std::int64_t id, std::int64_t workflow_id) = 0;
  /// The inventory the laptop sent, or nullopt when none; io on a storage failure.
  virtual Result<std::optional<Json>> inventory(std::int64_t id) = 0;
  /// How many devices there are by the state of each one's newest run (nullopt: no run yet);
  /// io on a storage failure.
  virtual Result<std::vector<std::pair<std::optional<RunState>, std::int64_t>>>
  count_by_run_state() = 0;
};

class RunRepository {
 public:
  virtual ~RunRepository() = default;
  /// Creates a run with its steps (pending, in order); the run's id; io on a storage failure.
  virtual Result<std::int64_t> create(const RunRow& run,
                                      const std::vector<WorkflowStep>& steps) = 0;
  /// The device's newest run, or nullopt; io on a storage failure.
  virtual Result<std::optional<RunRow>> latest(std::int64_t device_id) = 0;
  /// The run, or nullopt; io on a storage failure.
  virtual Result<std::optional<RunRow>> find(std::int64_t run_id) = 0;
  /// Writes the run's state and finished_at; not_found when the run does not exist.
  virtual Result<void> update(const RunRow& run) = 0;
  /// The run's steps in workflow order; io on a storage failure.
  virtual Result<std::vector<StepRow>> steps(std::int64_t run_id) = 0;
  /// The step (with its run's device), or nullopt; io on a storage failure.
  virtual Result<std::optional<StepRow>> step(std::int64_t step_id) = 0;
  /// Every step in state running; io on a storage failure.
  virtual Result<std::vector<StepRow>> running_steps() = 0;
  /// Writes the step's mutable fields (state, attempt, times, error, checkpoint); not_found
  /// when the step does not exist.
  virtual Result<void> update(const StepRow& step) = 0;
  /// The result recorded for this attempt of the step, or nullopt; io on a storage failure.
  virtual Result<std::optional<StepResultRow>> result(std::int64_t step_id,
                                                      std::int64_t attempt) = 0;
  /// Records a result; conflict when the attempt has one already, io on a storage failure.
  virtual Result<void> add_result(const StepResultRow& r) = 0;
  /// Every result of every run of the device, in the order recorded; io on a storage failure.
  virtual Result<std::vector<StepResultRow>> results(std::int64_t device_id) = 0;
  /// The device's newest result of this kind and status, or nullopt; io on a storage failure.
  virtual Result<std::optional<StepResultRow>> latest_result(std::int64_t device_id, StepKind kind,
                                                             StepStatus status) = 0;
};

class CertificateRepository {
 public:
  virtual ~CertificateRepository() = default;
  /// Stores a certificate (they never change afterwards); conflict when the id exists or when
  /// the certificate it supersedes was superseded already, io on a storage failure.
  virtual Result<void> add(const CertificateRow& c) = 0;
  /// The certificate, or nullopt; io on a storage failure.
  virtual Result<std::optional<CertificateRow>> find(const std::string& cert_id) = 0;
  /// The certificate that supersedes this one, or nullopt; io on a storage failure.
  virtual Result<std::optional<CertificateRow>> superseded_by(const std::string& cert_id) = 0;
  /// The device's certificates, newest first; io on a storage failure.
  virtual Result<std::vector<CertificateRow>> for_device(std::int64_t device_id) = 0;
  /// The newest certificate of this kind a step produced, or nullopt; io on a storage failure.
  virtual Result<std::optional<CertificateRow>> newest_for_step(std::int64_t step_id,
                                                                const std::string& kind) = 0;
  /// For each device of the batch (ascending id) that has one, its newest certificate of this
  /// kind; io on a storage failure.
  virtual Result<std::vector<CertificateRow>> newest_per_device_in_batch(
      std::int64_t batch_id, const std::string& kind) = 0;
};

class EventRepository {
 public:
  virtual ~EventRepository() = default;
  /// Appends to the log (never changed afterwards); the event's id; io on a storage failure.
  virtual Result<std::int64_t> append(const EventRow& e) = 0;
  /// Up to `limit` events with an id above `after_id`, oldest first; io on a storage failure.
  virtual Result<std::vector<EventRow>> since(std::int64_t after_id, int limit) = 0;
  /// The device's newest event of this kind, or nullopt; io on a storage failure.
  virtual Result<std::optional<EventRow>> latest(std::int64_t device_id,
                                                 const std::string& kind) = 0;
  /// Retention: deletes the oldest events, those logged before `before` and those beyond the
  /// newest `keep`, at most `batch` of them; how many went. io on a storage failure.
  virtual Result<std::int64_t> prune(Seconds before, std::int64_t keep, std::int64_t batch) = 0;
  /// The device's events of these kinds, oldest first (at most `limit`); io on a storage
  /// failure.
  virtual Result<std::vector<EventRow>> of_device(std::int64_t device_id,
                                                  const std::vector<std::string>& kinds,
                                                  int limit) = 0;
};

class OperatorRepository {
 public:
  virtual ~OperatorRepository() = default;
  /// Creates the operator or replaces the password hash; io on a storage failure.
  virtual Result<void> put(const std::string& name, const std::string& password_hash,
                           Seconds now) = 0;
  /// The operator, or nullopt; io on a storage failure.
  virtual Result<std::optional<OperatorRow>> find(const std::string& name) = 0;
  /// How many operators exist; io on a storage failure.
  virtual Result<std::int64_t> count() = 0;
  /// Stores a token (by its hash); io on a storage failure.
  virtual Result<void> add_token(const OperatorTokenRow& t) = 0;
  /// Whose token this is, or nullopt for an unknown hash; io on a storage failure.
  virtual Result<std::optional<OperatorTokenOwner>> token_owner(const std::string& token_hash) = 0;
  /// Every operator token (sessions and API tokens), oldest first; io on a storage failure.
  virtual Result<std::vector<OperatorTokenInfo>> tokens() = 0;
  /// Deletes one token; not_found when there is no such token.
  virtual Result<void> remove_token(const std::string& token_hash) = 0;
  /// Deletes every token of the operator; io on a storage failure.
  virtual Result<void> remove_tokens_of(std::int64_t operator_id) = 0;
  /// Deletes the tokens that expired before `now`; io on a storage failure.
  virtual Result<void> remove_expired(Seconds now) = 0;
};

class AgentTokenRepository {
 public:
  virtual ~AgentTokenRepository() = default;
  /// Removes every token of the device; io on a storage failure.
  virtual Result<void> revoke_device(std::int64_t device_id) = 0;
  /// Stores a token (by its hash) for the device; io on a storage failure.
  virtual Result<void> add(const std::string& token_hash, std::int64_t device_id, Seconds now) = 0;
  /// The device a token belongs to, or nullopt; io on a storage failure.
  virtual Result<std::optional<std::int64_t>> device(const std::string& token_hash) = 0;
};

class BootTokenRepository {
 public:
  virtual ~BootTokenRepository() = default;
  /// Stores a token (by its hash); io on a storage failure.
  virtual Result<void> add(const BootTokenRow& t) = 0;
  /// The token, or nullopt; io on a storage failure.
  virtual Result<std::optional<BootTokenRow>> find(const std::string& token_hash) = 0;
  /// Records that an agent presented the token; io on a storage failure.
  virtual Result<void> mark_used(const std::string& token_hash, Seconds at) = 0;
  /// Deletes tokens issued before `issued_before`, all but the newest `keep_per_mac` of `mac`,
  /// and all but the newest `keep_total` overall; io on a storage failure.
  virtual Result<void> prune(Seconds issued_before, const std::string& mac, int keep_per_mac,
                             int keep_total) = 0;
};

class IntakeRepository {
 public:
  virtual ~IntakeRepository() = default;
  /// Records a newly opened intake (closing any open one at the same time); its id; io on a
  /// storage failure.
  virtual Result<std::int64_t> open(const IntakeRow& intake) = 0;
  /// The newest intake that nobody closed (it may have run out: check `until`), or nullopt;
  /// io on a storage failure.
  virtual Result<std::optional<IntakeRow>> current() = 0;
  /// Closes the open intake, if any; io on a storage failure.
  virtual Result<void> close(Seconds at, const std::string& by) = 0;
};

// ---- partner organisations, hand-overs and loans (issue 16)

class OrganisationRepository {
 public:
  virtual ~OrganisationRepository() = default;
  /// The new organisation's id; conflict when the name is taken, io on a storage failure.
  virtual Result<std::int64_t> create(const OrganisationRow& o) = 0;
  /// Writes name, contact and kind; not_found for an unknown id, conflict when the name is
  /// another's.
  virtual Result<void> update(const OrganisationRow& o) = 0;
  /// Every organisation by name; io on a storage failure.
  virtual Result<std::vector<OrganisationRow>> list() = 0;
  /// The organisation, or nullopt; io on a storage failure.
  virtual Result<std::optional<OrganisationRow>> find(std::int64_t id) = 0;
};

class HandoverRepository {
 public:
  virtual ~HandoverRepository() = default;
  /// Records a hand-over with its laptops; its id; io on a storage failure.
  virtual Result<std::int64_t> create(const HandoverRow& h) = 0;
  /// The hand-over with its laptops, or nullopt; io on a storage failure.
  virtual Result<std::optional<HandoverRow>> find(std::int64_t id) = 0;
  /// Every hand-over, newest first, with its laptops; io on a storage failure.
  virtual Result<std::vector<HandoverRow>> list() = 0;
  /// The newest hand-over that included the device, or nullopt; io on a storage failure.
  virtual Result<std::optional<HandoverRow>> latest_for(std::int64_t device_id) = 0;
  /// Records a loan; its id; io on a storage failure.
  virtual Result<std::int64_t> add_loan(const LoanRow& loan) = 0;
  /// The device's loans, oldest first; io on a storage failure.
  virtual Result<std::vector<LoanRow>> loans_of(std::int64_t device_id) = 0;
  /// Marks a loan returned; not_found when there is no such loan out.
  virtual Result<void> mark_returned(std::int64_t loan_id, Seconds at, const std::string& by) = 0;
  /// Retention: empties the reference of at most `batch` loans returned before `before`
  /// (those not erased yet); how many. io on a storage failure.
  virtual Result<std::int64_t> erase_references(Seconds before, std::int64_t batch) = 0;
};

/// Named recipient profiles (issue 16, the settings page), which batches refer to by id.
class RecipientProfileRepository {
 public:
  virtual ~RecipientProfileRepository() = default;
  /// Creates the profile, or replaces the fields of the one of that name; its id. io on a
  /// storage failure.
  virtual Result<std::int64_t> put(const std::string& name, const Json& fields, Seconds now) = 0;
  /// Every profile by name; io on a storage failure.
  virtual Result<std::vector<RecipientProfileRow>> list() = 0;
  /// The profile of that name, or nullopt; io on a storage failure.
  virtual Result<std::optional<RecipientProfileRow>> find(const std::string& name) = 0;
  /// The profile of that id, or nullopt; io on a storage failure.
  virtual Result<std::optional<RecipientProfileRow>> find(std::int64_t id) = 0;
  /// The names of the batches that use the profile, by name; io on a storage failure.
  virtual Result<std::vector<std::string>> batches_using(std::int64_t id) = 0;
  /// Removes the profile; conflict while a batch uses it, not_found when there is none.
  virtual Result<void> remove(std::int64_t id) = 0;
};

/// One backend: its repositories and its units of work.
class Storage {
 public:
  virtual ~Storage() = default;
  /// Starts a unit of work; io when the backend cannot. Only one is open at a time.
  virtual Result<std::unique_ptr<UnitOfWork>> begin() = 0;
  virtual SettingsRepository& settings() = 0;
  virtual WorkflowRepository& workflows() = 0;
  virtual BatchRepository& batches() = 0;
  virtual DeviceRepository& devices() = 0;
  virtual RunRepository& runs() = 0;
  virtual CertificateRepository& certificates() = 0;
  virtual EventRepository& events() = 0;
  virtual OperatorRepository& operators() = 0;
  virtual AgentTokenRepository& agent_tokens() = 0;
  virtual BootTokenRepository& boot_tokens() = 0;
  virtual IntakeRepository& intakes() = 0;
  // partner organisations, hand-overs and loans (issue 16)
  virtual OrganisationRepository& organisations() = 0;
  virtual HandoverRepository& handovers() = 0;
  virtual RecipientProfileRepository& recipient_profiles() = 0;
  /// The group commit, or nullptr when every commit is durable when commit() returns.
  virtual GroupCommit* group_commit() { return nullptr; }
};

}  // namespace revive::server
