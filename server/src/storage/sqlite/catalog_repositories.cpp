// Settings, workflows, batches and intakes in SQLite.
#include "storage/sqlite/columns.hpp"
#include "storage/sqlite/repositories.hpp"

namespace revive::server::sqlite {

namespace {

Json steps_to_json(const std::vector<WorkflowStep>& steps) {
  Json out = Json::array();
  for (const auto& s : steps) {
    out.push_back({{"kind", std::string(protocol::to_string(s.kind))}, {"params", s.params}});
  }
  return out;
}

std::vector<WorkflowStep> steps_from_json(const Json& j) {
  std::vector<WorkflowStep> out;
  if (!j.is_array()) return out;
  for (const auto& s : j) {
    if (!s.is_object() || !s.contains("kind") || !s["kind"].is_string()) continue;
    WorkflowStep w;
    w.kind = step_kind_column(s["kind"].get<std::string>());
    w.params = s.value("params", Json::object());
    out.push_back(std::move(w));
  }
  return out;
}

constexpr const char* kBatchColumns =
    "SELECT id, name, donor, workflow_id, image, profile, profile_id FROM batches ";

BatchRow batch_row(const Statement& q) {
  return BatchRow{q.int64(0),     q.text(1),     q.text(2),
                  q.opt_int64(3), q.opt_text(4), opt_json_column(q.opt_text(5)),
                  q.opt_int64(6)};
}

std::optional<std::string> opt_json_text(const std::optional<Json>& j) {
  return j ? std::optional<std::string>(j->dump()) : std::nullopt;
}

}  // namespace

Result<std::optional<std::string>> SqliteSettings::get(const std::string& key) {
  REVIVE_SQL_ASSIGN(q, db_.prepare("SELECT value FROM settings WHERE key = ?"));
  return one_row(q.bind(key), [](const Statement& s) { return s.text(0); });
}

Result<void> SqliteSettings::set(const std::string& key, const std::string& value) {
  REVIVE_SQL_ASSIGN(q, db_.prepare("INSERT INTO settings(key, value) VALUES (?, ?) ON "
                                   "CONFLICT(key) DO UPDATE SET value = excluded.value"));
  return q.bind(key, value).run();
}

Result<void> SqliteWorkflows::put(const std::string& name, const std::vector<WorkflowStep>& steps,
                                  Seconds now) {
  REVIVE_SQL_ASSIGN(q, db_.prepare("INSERT INTO workflows(name, steps, created_at) VALUES (?,?,?) "
                                   "ON CONFLICT(name) DO UPDATE SET steps = excluded.steps"));
  return q.bind(name, steps_to_json(steps).dump(), now).run();
}

WorkflowRow SqliteWorkflows::row(const Statement& q) {
  const std::string text = q.text(2);
  auto it = parsed_.find(text);
  if (it == parsed_.end()) {
    constexpr std::size_t kMostKept = 64;  // far more than a workshop's workflows and edits
    if (parsed_.size() >= kMostKept) parsed_.clear();
    it = parsed_.emplace(text, steps_from_json(json_column(text))).first;
  }
  return WorkflowRow{q.int64(0), q.text(1), it->second};
}

Result<std::vector<WorkflowRow>> SqliteWorkflows::list() {
  REVIVE_SQL_ASSIGN(q, db_.prepare("SELECT id, name, steps FROM workflows ORDER BY name"));
  return all_rows(q, [this](const Statement& r) { return row(r); });
}

Result<std::optional<WorkflowRow>> SqliteWorkflows::find(const std::string& name) {
  REVIVE_SQL_ASSIGN(q, db_.prepare("SELECT id, name, steps FROM workflows WHERE name = ?"));
  return one_row(q.bind(name), [this](const Statement& r) { return row(r); });
}

Result<std::optional<WorkflowRow>> SqliteWorkflows::find(std::int64_t id) {
  REVIVE_SQL_ASSIGN(q, db_.prepare("SELECT id, name, steps FROM workflows WHERE id = ?"));
  return one_row(q.bind(id), [this](const Statement& r) { return row(r); });
}

Result<std::int64_t> SqliteBatches::create(const BatchRow& b, Seconds now) {
  REVIVE_SQL_ASSIGN(q, db_.prepare("INSERT INTO batches(name, donor, workflow_id, image, "
                                   "profile, profile_id, created_at) VALUES (?,?,?,?,?,?,?)"));
  if (auto r = q.bind(b.name, b.donor, b.workflow_id, b.image, opt_json_text(b.profile),
                      b.profile_id, now)
                   .run();
      !r) {
    return unique_violation_as_conflict(r.error(), "batch \"" + b.name + "\" already exists");
  }
  return db_.last_insert_id();
}

Result<std::vector<BatchRow>> SqliteBatches::list() {
  REVIVE_SQL_ASSIGN(q, db_.prepare(std::string(kBatchColumns) + "ORDER BY id"));
  return all_rows(q, batch_row);
}

Result<std::optional<BatchRow>> SqliteBatches::find(const std::string& name) {
  REVIVE_SQL_ASSIGN(q, db_.prepare(std::string(kBatchColumns) + "WHERE name = ?"));
  return one_row(q.bind(name), batch_row);
}

Result<std::optional<BatchRow>> SqliteBatches::find(std::int64_t id) {
  REVIVE_SQL_ASSIGN(q, db_.prepare(std::string(kBatchColumns) + "WHERE id = ?"));
  return one_row(q.bind(id), batch_row);
}

Result<std::int64_t> SqliteBatches::device_count(std::int64_t batch_id) {
  REVIVE_SQL_ASSIGN(q, db_.prepare("SELECT COUNT(*) FROM devices WHERE batch_id = ?"));
  REVIVE_SQL_ASSIGN(row, q.bind(batch_id).step());
  return row ? q.int64(0) : 0;
}

Result<void> SqliteBatches::update(const BatchRow& b) {
  REVIVE_SQL_ASSIGN(
      q, db_.prepare("UPDATE batches SET image = ?, profile = ?, profile_id = ? WHERE id = ?"));
  REVIVE_TRY(q.bind(b.image, opt_json_text(b.profile), b.profile_id, b.id).run());
  if (db_.changes() == 0)
    return make_error(Errc::not_found, "batch " + std::to_string(b.id) + " does not exist");
  return {};
}

namespace {

std::vector<std::string> strings_column(const std::string& text) {
  std::vector<std::string> out;
  const Json j = json_column(text);
  if (!j.is_array()) return out;
  for (const auto& v : j) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

IntakeRow intake_row(const Statement& q) {
  return IntakeRow{q.int64(0),
                   q.int64(1),
                   q.int64(2),
                   q.int64(3),
                   strings_column(q.text(4)),
                   strings_column(q.text(5)),
                   q.text(6),
                   q.opt_int64(7),
                   q.opt_text(8)};
}

}  // namespace

Result<std::int64_t> SqliteIntakes::open(const IntakeRow& i) {
  REVIVE_TRY(close(i.opened_at, i.opened_by));
  REVIVE_SQL_ASSIGN(q, db_.prepare("INSERT INTO intakes(batch_id, opened_at, until, macs, "
                                   "vendors, opened_by) VALUES (?,?,?,?,?,?)"));
  REVIVE_TRY(q.bind(i.batch_id, i.opened_at, i.until, Json(i.macs).dump(), Json(i.vendors).dump(),
                    i.opened_by)
                 .run());
  return db_.last_insert_id();
}

Result<std::optional<IntakeRow>> SqliteIntakes::current() {
  REVIVE_SQL_ASSIGN(q, db_.prepare("SELECT id, batch_id, opened_at, until, macs, vendors, "
                                   "opened_by, closed_at, closed_by FROM intakes WHERE closed_at "
                                   "IS NULL ORDER BY id DESC LIMIT 1"));
  return one_row(q, intake_row);
}

Result<void> SqliteIntakes::close(Seconds at, const std::string& by) {
  REVIVE_SQL_ASSIGN(q, db_.prepare("UPDATE intakes SET closed_at = ?, closed_by = ? WHERE "
                                   "closed_at IS NULL"));
  return q.bind(at, by).run();
}

}  // namespace revive::server::sqlite
