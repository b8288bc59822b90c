// Partner organisations, hand-overs and loans in SQLite (issue 16).
#include "storage/sqlite/columns.hpp"
#include "storage/sqlite/repositories.hpp"

namespace revive::server::sqlite {

namespace {

OrganisationRow organisation_row(const Statement& q) {
  return OrganisationRow{q.int64(0), q.text(1), q.text(2), q.text(3), q.int64(4)};
}

constexpr const char* kOrganisationColumns =
    "SELECT id, name, contact, kind, created_at FROM organisations ";

HandoverRow handover_row(const Statement& q) {
  return HandoverRow{q.int64(0), q.int64(1), q.text(2), q.int64(3), {}};
}

constexpr const char* kHandoverColumns = "SELECT id, organisation_id, operator, at FROM handovers ";

LoanRow loan_row(const Statement& q) {
  return LoanRow{q.int64(0), q.int64(1),     q.int64(2),    q.text(3),      q.int64(4),
                 q.text(5),  q.opt_int64(6), q.opt_text(7), q.int64(8) != 0};
}

}  // namespace

Result<std::int64_t> SqliteOrganisations::create(const OrganisationRow& o) {
  REVIVE_SQL_ASSIGN(q, db_.prepare("INSERT INTO organisations(name, contact, kind, created_at) "
                                   "VALUES (?,?,?,?)"));
  if (auto r = q.bind(o.name, o.contact, o.kind, o.created_at).run(); !r)
    return unique_violation_as_conflict(r.error(),
                                        "organisation \"" + o.name + "\" already exists");
  return db_.last_insert_id();
}

Result<void> SqliteOrganisations::update(const OrganisationRow& o) {
  REVIVE_SQL_ASSIGN(
      q, db_.prepare("UPDATE organisations SET name = ?, contact = ?, kind = ? WHERE id = ?"));
  if (auto r = q.bind(o.name, o.contact, o.kind, o.id).run(); !r)
    return unique_violation_as_conflict(r.error(),
                                        "organisation \"" + o.name + "\" already exists");
  if (db_.changes() == 0)
    return make_error(Errc::not_found, "no organisation " + std::to_string(o.id));
  return {};
}

Result<std::vector<OrganisationRow>> SqliteOrganisations::list() {
  REVIVE_SQL_ASSIGN(q, db_.prepare(std::string(kOrganisationColumns) + "ORDER BY name, id"));
  return all_rows(q, organisation_row);
}

Result<std::optional<OrganisationRow>> SqliteOrganisations::find(std::int64_t id) {
  REVIVE_SQL_ASSIGN(q, db_.prepare(std::string(kOrganisationColumns) + "WHERE id = ?"));
  return one_row(q.bind(id), organisation_row);
}

Result<std::int64_t> SqliteHandovers::create(const HandoverRow& h) {
  REVIVE_SQL_ASSIGN(
      q, db_.prepare("INSERT INTO handovers(organisation_id, operator, at) VALUES (?,?,?)"));
  REVIVE_TRY(q.bind(h.organisation_id, h.operator_name, h.at).run());
  const std::int64_t id = db_.last_insert_id();
  for (const std::int64_t device : h.devices) {
    REVIVE_SQL_ASSIGN(
        add, db_.prepare("INSERT INTO handover_laptops(handover_id, device_id) VALUES (?,?)"));
    REVIVE_TRY(add.bind(id, device).run());
  }
  return id;
}

Result<void> SqliteHandovers::fill_devices(HandoverRow& h) {
  REVIVE_SQL_ASSIGN(q, db_.prepare("SELECT device_id FROM handover_laptops WHERE handover_id = ? "
                                   "ORDER BY device_id"));
  REVIVE_SQL_ASSIGN(ids, all_rows(q.bind(h.id), [](const Statement& s) { return s.int64(0); }));
  h.devices = std::move(ids);
  return {};
}

Result<std::optional<HandoverRow>> SqliteHandovers::find(std::int64_t id) {
  REVIVE_SQL_ASSIGN(q, db_.prepare(std::string(kHandoverColumns) + "WHERE id = ?"));
  REVIVE_SQL_ASSIGN(h, one_row(q.bind(id), handover_row));
  if (h) REVIVE_TRY(fill_devices(*h));
  return std::move(h);
}

Result<std::vector<HandoverRow>> SqliteHandovers::list() {
  REVIVE_SQL_ASSIGN(q, db_.prepare(std::string(kHandoverColumns) + "ORDER BY id DESC"));
  REVIVE_SQL_ASSIGN(all, all_rows(q, handover_row));
  for (auto& h : all) REVIVE_TRY(fill_devices(h));
  return std::move(all);
}

Result<std::optional<HandoverRow>> SqliteHandovers::latest_for(std::int64_t device_id) {
  REVIVE_SQL_ASSIGN(q, db_.prepare("SELECT MAX(handover_id) FROM handover_laptops "
                                   "WHERE device_id = ?"));
  REVIVE_SQL_ASSIGN(id,
                    one_row(q.bind(device_id), [](const Statement& s) { return s.opt_int64(0); }));
  if (!id || !*id) return std::optional<HandoverRow>();
  return find(**id);
}

Result<std::int64_t> SqliteHandovers::add_loan(const LoanRow& l) {
  REVIVE_SQL_ASSIGN(q, db_.prepare("INSERT INTO loans(device_id, handover_id, reference, lent_at, "
                                   "lent_by) VALUES (?,?,?,?,?)"));
  if (auto r = q.bind(l.device_id, l.handover_id, l.reference, l.lent_at, l.lent_by).run(); !r)
    return unique_violation_as_conflict(r.error(), "the laptop is lent already");
  return db_.last_insert_id();
}

Result<std::vector<LoanRow>> SqliteHandovers::loans_of(std::int64_t device_id) {
  REVIVE_SQL_ASSIGN(q, db_.prepare("SELECT id, device_id, handover_id, reference, lent_at, "
                                   "lent_by, returned_at, returned_by, reference_erased FROM loans "
                                   "WHERE device_id = ? ORDER BY id"));
  return all_rows(q.bind(device_id), loan_row);
}

Result<void> SqliteHandovers::mark_returned(std::int64_t loan_id, Seconds at,
                                            const std::string& by) {
  REVIVE_SQL_ASSIGN(q, db_.prepare("UPDATE loans SET returned_at = ?, returned_by = ? "
                                   "WHERE id = ? AND returned_at IS NULL"));
  REVIVE_TRY(q.bind(at, by, loan_id).run());
  if (db_.changes() == 0)
    return make_error(Errc::not_found, "no loan " + std::to_string(loan_id) + " is out");
  return {};
}

Result<std::int64_t> SqliteHandovers::erase_references(Seconds before, std::int64_t batch) {
  REVIVE_SQL_ASSIGN(q, db_.prepare("UPDATE loans SET reference = '', reference_erased = 1 "
                                   "WHERE id IN (SELECT id FROM loans WHERE returned_at < ? AND "
                                   "reference_erased = 0 ORDER BY returned_at LIMIT ?)"));
  REVIVE_TRY(q.bind(before, batch).run());
  return std::int64_t{db_.changes()};
}

}  // namespace revive::server::sqlite
