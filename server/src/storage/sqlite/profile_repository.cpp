// Named recipient profiles in SQLite (issue 16, the settings page).
#include "storage/sqlite/columns.hpp"
#include "storage/sqlite/repositories.hpp"

namespace revive::server::sqlite {

namespace {

constexpr const char* kProfileColumns = "SELECT id, name, fields FROM recipient_profiles ";

RecipientProfileRow profile_row(const Statement& q) {
  Json fields = json_column(q.text(2));
  return RecipientProfileRow{q.int64(0), q.text(1),
                             fields.is_object() ? std::move(fields) : Json::object()};
}

}  // namespace

Result<std::int64_t> SqliteRecipientProfiles::put(const std::string& name, const Json& fields,
                                                  Seconds now) {
  REVIVE_SQL_ASSIGN(q,
                    db_.prepare("INSERT INTO recipient_profiles(name, fields, created_at, "
                                "updated_at) VALUES (?,?,?,?) ON CONFLICT(name) DO UPDATE "
                                "SET fields = excluded.fields, updated_at = excluded.updated_at"));
  REVIVE_TRY(q.bind(name, fields.dump(), now, now).run());
  REVIVE_SQL_ASSIGN(stored, find(name));
  if (!stored) return make_error(Errc::io, "recipient profile \"" + name + "\" was not stored");
  return stored->id;
}

Result<std::vector<RecipientProfileRow>> SqliteRecipientProfiles::list() {
  REVIVE_SQL_ASSIGN(q, db_.prepare(std::string(kProfileColumns) + "ORDER BY name"));
  return all_rows(q, profile_row);
}

Result<std::optional<RecipientProfileRow>> SqliteRecipientProfiles::find(const std::string& name) {
  REVIVE_SQL_ASSIGN(q, db_.prepare(std::string(kProfileColumns) + "WHERE name = ?"));
  return one_row(q.bind(name), profile_row);
}

Result<std::optional<RecipientProfileRow>> SqliteRecipientProfiles::find(std::int64_t id) {
  REVIVE_SQL_ASSIGN(q, db_.prepare(std::string(kProfileColumns) + "WHERE id = ?"));
  return one_row(q.bind(id), profile_row);
}

Result<std::vector<std::string>> SqliteRecipientProfiles::batches_using(std::int64_t id) {
  REVIVE_SQL_ASSIGN(q, db_.prepare("SELECT name FROM batches WHERE profile_id = ? ORDER BY name"));
  return all_rows(q.bind(id), [](const Statement& s) { return s.text(0); });
}

Result<void> SqliteRecipientProfiles::remove(std::int64_t id) {
  REVIVE_SQL_ASSIGN(users, batches_using(id));
  if (!users.empty())
    return make_error(Errc::conflict, "recipient profile " + std::to_string(id) +
                                          " is used by batch \"" + users.front() + "\"");
  REVIVE_SQL_ASSIGN(q, db_.prepare("DELETE FROM recipient_profiles WHERE id = ?"));
  REVIVE_TRY(q.bind(id).run());
  if (db_.changes() == 0)
    return make_error(Errc::not_found, "no recipient profile " + std::to_string(id));
  return {};
}

}  // namespace revive::server::sqlite
