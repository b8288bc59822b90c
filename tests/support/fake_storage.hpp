#pragma once
// In-memory repositories behind the storage interfaces (server/src/storage/storage.hpp), for
// unit tests of the domain services without SQLite. A unit of work snapshots the tables and
// puts them back unless committed, so tests see the same all-or-nothing as with SQLite.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "storage/storage.hpp"

namespace revive::server::test {

struct FakeTables {
  std::map<std::string, std::string> settings;
  std::vector<WorkflowRow> workflows;
  std::vector<BatchRow> batches;
  std::vector<DeviceRow> devices;
  std::map<std::int64_t, Json> inventories;
  std::vector<RunRow> runs;
  std::vector<StepRow> steps;
  std::vector<StepResultRow> results;
  std::vector<CertificateRow> certificates;
  std::vector<EventRow> events;
  std::vector<OperatorRow> operators;
  std::vector<OperatorTokenRow> operator_tokens;
  std::map<std::string, std::int64_t> agent_tokens;
  std::vector<BootTokenRow> boot_tokens;
  std::vector<IntakeRow> intakes;
  // partner organisations, hand-overs and loans (issue 16)
  std::vector<OrganisationRow> organisations;
  std::vector<HandoverRow> handovers;
  std::vector<LoanRow> loans;
  std::vector<RecipientProfileRow> recipient_profiles;
  std::int64_t next_id = 1;
};

class FakeStorage final : public Storage {
 public:
  FakeStorage();
  ~FakeStorage() override;

  Result<std::unique_ptr<UnitOfWork>> begin() override;
  SettingsRepository& settings() override;
  WorkflowRepository& workflows() override;
  BatchRepository& batches() override;
  DeviceRepository& devices() override;
  RunRepository& runs() override;
  CertificateRepository& certificates() override;
  EventRepository& events() override;
  OperatorRepository& operators() override;
  AgentTokenRepository& agent_tokens() override;
  BootTokenRepository& boot_tokens() override;
  IntakeRepository& intakes() override;
  OrganisationRepository& organisations() override;
  HandoverRepository& handovers() override;
  RecipientProfileRepository& recipient_profiles() override;

  FakeTables data;
  int commits = 0;
  /// When set, reading a device's inventory fails with this error.
  std::optional<Error> inventory_error;

  /// Events of one kind, oldest first.
  std::vector<EventRow> events_of(const std::string& kind) const;

 private:
  struct Repos;
  std::unique_ptr<Repos> repos_;
  int depth_ = 0;
};

}  // namespace revive::server::test
