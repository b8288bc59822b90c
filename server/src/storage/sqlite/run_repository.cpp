// Runs, their steps and the steps' results in SQLite.

#include <algorithm>
#include <string>

#include "storage/sqlite/columns.hpp"
#include "storage/sqlite/repositories.hpp"

namespace revive::server::sqlite {

namespace {

constexpr const char* kRunColumns =
    "SELECT id, device_id, workflow_id, state, image, created_at, finished_at FROM runs ";

RunRow run_row(const Statement& q) {
  return RunRow{q.int64(0),    q.int64(1), q.int64(2),    run_state_column(q.text(3)),
                q.opt_text(4), q.int64(5), q.opt_int64(6)};
}

constexpr const char* kStepColumns =
    "SELECT s.id, s.run_id, r.device_id, s.seq, s.kind, s.params, s.state, s.attempt, "
    "s.started_at, s.deadline, s.finished_at, s.error, s.checkpoint FROM steps s JOIN runs r ON "
    "r.id = s.run_id ";

StepRow step_row(const Statement& q) {
  StepRow s;
  s.id = q.int64(0);
  s.run_id = q.int64(1);
  s.device_id = q.int64(2);
  s.seq = static_cast<int>(q.int64(3));
  s.kind = step_kind_column(q.text(4));
  s.params = json_column(q.text(5));
  if (!s.params.is_object()) s.params = Json::object();
  s.state = step_state_column(q.text(6));
  s.attempt = q.int64(7);
  s.started_at = q.opt_int64(8);
  s.deadline = q.opt_int64(9);
  s.finished_at = q.opt_int64(10);
  s.error = q.opt_text(11);
  s.checkpoint = opt_json_column(q.opt_text(12));
  return s;
}

Result<std::vector<StepRow>> all_steps(Statement& q) { return all_rows(q, step_row); }

constexpr const char* kResultColumns =
    "SELECT sr.id, sr.step_id, s.kind, sr.attempt, sr.status, sr.result, sr.error, "
    "sr.recorded_at FROM step_results sr JOIN steps s ON s.id = sr.step_id ";

StepResultRow result_row(const Statement& q) {
  StepResultRow r;
  r.id = q.int64(0);
  r.step_id = q.int64(1);
  r.kind = step_kind_column(q.text(2));
  r.attempt = q.int64(3);
  r.status = protocol::step_status_from(q.text(4)).value_or(StepStatus::failed);
  r.result = json_column(q.text(5));
  r.error = q.text(6);
  r.recorded_at = q.int64(7);
  return r;
}

std::string text_of(StepState s) { return std::string(protocol::to_string(s)); }

}  // namespace

Result<std::int64_t> SqliteRuns::create(const RunRow& run, const std::vector<WorkflowStep>& steps) {
  REVIVE_SQL_ASSIGN(ins, db_.prepare("INSERT INTO runs(device_id, workflow_id, state, image, "
                                     "created_at) VALUES (?,?,?,?,?)"));
  REVIVE_TRY(ins.bind(run.device_id, run.workflow_id, std::string(protocol::to_string(run.state)),
                      run.image, run.created_at)
                 .run());
  const std::int64_t id = db_.last_insert_id();
  // A workflow's steps in one statement, not one each: a thousand laptops enrolling at once
  // each make a run (bench/start_cost.sh). A longer list than a workflow's 32 steps goes in
  // parts, far below SQLite's limit on parameters.
  constexpr std::size_t kStepsPerInsert = 50;
  for (std::size_t first = 0; first < steps.size(); first += kStepsPerInsert) {
    const std::size_t n = std::min(kStepsPerInsert, steps.size() - first);
    std::string sql = "INSERT INTO steps(run_id, seq, kind, params, state) VALUES (?,?,?,?,?)";
    for (std::size_t i = 1; i < n; ++i) sql += ",(?,?,?,?,?)";
    REVIVE_SQL_ASSIGN(si, db_.prepare(sql));
    for (std::size_t i = 0; i < n; ++i) {
      const WorkflowStep& s = steps[first + i];
      si.bind_at(static_cast<int>(5 * i + 1), id, static_cast<std::int64_t>(first + i),
                 std::string(protocol::to_string(s.kind)), s.params.dump(),
                 text_of(StepState::pending));
    }
    REVIVE_TRY(si.run());
  }
  return id;
}

Result<std::optional<RunRow>> SqliteRuns::latest(std::int64_t device_id) {
  REVIVE_SQL_ASSIGN(q, db_.prepare(std::string(kRunColumns) +
                                   "WHERE id = (SELECT MAX(id) FROM runs WHERE device_id = ?)"));
  return one_row(q.bind(device_id), run_row);
}

Result<std::optional<RunRow>> SqliteRuns::find(std::int64_t run_id) {
  REVIVE_SQL_ASSIGN(q, db_.prepare(std::string(kRunColumns) + "WHERE id = ?"));
  return one_row(q.bind(run_id), run_row);
}

Result<void> SqliteRuns::update(const RunRow& run) {
  REVIVE_SQL_ASSIGN(q, db_.prepare("UPDATE runs SET state = ?, finished_at = ? WHERE id = ?"));
  REVIVE_TRY(q.bind(std::string(protocol::to_string(run.state)), run.finished_at, run.id).run());
  if (db_.changes() == 0)
    return make_error(Errc::not_found, "run " + std::to_string(run.id) + " does not exist");
  return {};
}

Result<std::vector<StepRow>> SqliteRuns::steps(std::int64_t run_id) {
  REVIVE_SQL_ASSIGN(q,
                    db_.prepare(std::string(kStepColumns) + "WHERE s.run_id = ? ORDER BY s.seq"));
  q.bind(run_id);
  return all_steps(q);
}

Result<std::optional<StepRow>> SqliteRuns::step(std::int64_t step_id) {
  REVIVE_SQL_ASSIGN(q, db_.prepare(std::string(kStepColumns) + "WHERE s.id = ?"));
  return one_row(q.bind(step_id), step_row);
}

Result<std::vector<StepRow>> SqliteRuns::running_steps() {
  REVIVE_SQL_ASSIGN(q, db_.prepare(std::string(kStepColumns) + "WHERE s.state = 'running'"));
  return all_steps(q);
}

Result<void> SqliteRuns::update(const StepRow& s) {
  REVIVE_SQL_ASSIGN(q, db_.prepare("UPDATE steps SET state = ?, attempt = ?, started_at = ?, "
                                   "deadline = ?, finished_at = ?, error = ?, checkpoint = ? "
                                   "WHERE id = ?"));
  std::optional<std::string> checkpoint;
  if (s.checkpoint) checkpoint = s.checkpoint->dump();
  REVIVE_TRY(q.bind(text_of(s.state), s.attempt, s.started_at, s.deadline, s.finished_at, s.error,
                    checkpoint, s.id)
                 .run());
  if (db_.changes() == 0)
    return make_error(Errc::not_found, "step " + std::to_string(s.id) + " does not exist");
  return {};
}

Result<std::optional<StepResultRow>> SqliteRuns::result(std::int64_t step_id,
                                                        std::int64_t attempt) {
  REVIVE_SQL_ASSIGN(
      q, db_.prepare(std::string(kResultColumns) + "WHERE sr.step_id = ? AND sr.attempt = ?"));
  return one_row(q.bind(step_id, attempt), result_row);
}

Result<void> SqliteRuns::add_result(const StepResultRow& r) {
  REVIVE_SQL_ASSIGN(q, db_.prepare("INSERT INTO step_results(step_id, attempt, status, result, "
                                   "error, recorded_at) VALUES (?,?,?,?,?,?)"));
  auto done = q.bind(r.step_id, r.attempt, std::string(protocol::to_string(r.status)),
                     r.result.dump(), r.error, r.recorded_at)
                  .run();
  if (!done) {
    return unique_violation_as_conflict(done.error(), "step " + std::to_string(r.step_id) +
                                                          " attempt " + std::to_string(r.attempt) +
                                                          " has a result already");
  }
  return {};
}

Result<std::vector<StepResultRow>> SqliteRuns::results(std::int64_t device_id) {
  REVIVE_SQL_ASSIGN(q, db_.prepare(std::string(kResultColumns) +
                                   "JOIN runs r ON r.id = s.run_id WHERE r.device_id = ? "
                                   "ORDER BY sr.id"));
  q.bind(device_id);
  return all_rows(q, result_row);
}

Result<std::optional<StepResultRow>> SqliteRuns::latest_result(std::int64_t device_id,
                                                               StepKind kind, StepStatus status) {
  REVIVE_SQL_ASSIGN(q, db_.prepare(std::string(kResultColumns) +
                                   "JOIN runs r ON r.id = s.run_id WHERE r.device_id = ? AND "
                                   "s.kind = ? AND sr.status = ? ORDER BY sr.id DESC LIMIT 1"));
  return one_row(q.bind(device_id, std::string(protocol::to_string(kind)),
                        std::string(protocol::to_string(status))),
                 result_row);
}

}  // namespace revive::server::sqlite
