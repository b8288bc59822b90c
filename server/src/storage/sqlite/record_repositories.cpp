// Certificates, the event log and operators in SQLite.
#include <algorithm>

#include "storage/sqlite/columns.hpp"
#include "storage/sqlite/repositories.hpp"

namespace revive::server::sqlite {

namespace {

constexpr const char* kCertColumns =
    "SELECT c.cert_id, c.device_id, c.step_id, c.kind, c.result, c.body, c.created_at, "
    "c.supersedes FROM certificates c ";

CertificateRow cert_row(const Statement& q) {
  return CertificateRow{q.opt_text(0).value_or(""), q.int64(1), q.opt_int64(2), q.text(3),
                        q.opt_text(4).value_or(""), q.text(5),  q.int64(6),     q.opt_text(7)};
}

Result<std::vector<CertificateRow>> all_certs(Statement& q) { return all_rows(q, cert_row); }

EventRow event_row(const Statement& q) {
  return EventRow{q.int64(0), q.int64(1), q.opt_int64(2), q.text(3), json_column(q.text(4))};
}

}  // namespace

Result<void> SqliteCertificates::add(const CertificateRow& c) {
  REVIVE_SQL_ASSIGN(q, db_.prepare("INSERT INTO certificates(device_id, step_id, kind, body, "
                                   "created_at, cert_id, result, supersedes) VALUES "
                                   "(?,?,?,?,?,?,?,?)"));
  auto done = q.bind(c.device_id, c.step_id, c.kind, c.body, c.created_at, c.cert_id, c.result,
                     c.supersedes)
                  .run();
  if (!done) {
    return unique_violation_as_conflict(
        done.error(), "certificate " + c.cert_id + " exists, or what it supersedes was superseded");
  }
  return {};
}

Result<std::optional<CertificateRow>> SqliteCertificates::superseded_by(
    const std::string& cert_id) {
  REVIVE_SQL_ASSIGN(q, db_.prepare(std::string(kCertColumns) + "WHERE c.supersedes = ?"));
  return one_row(q.bind(cert_id), cert_row);
}

Result<std::optional<CertificateRow>> SqliteCertificates::find(const std::string& cert_id) {
  REVIVE_SQL_ASSIGN(q, db_.prepare(std::string(kCertColumns) + "WHERE c.cert_id = ?"));
  return one_row(q.bind(cert_id), cert_row);
}

Result<std::vector<CertificateRow>> SqliteCertificates::for_device(std::int64_t device_id) {
  REVIVE_SQL_ASSIGN(
      q, db_.prepare(std::string(kCertColumns) + "WHERE c.device_id = ? ORDER BY c.id DESC"));
  q.bind(device_id);
  return all_certs(q);
}

Result<std::optional<CertificateRow>> SqliteCertificates::newest_for_step(std::int64_t step_id,
                                                                          const std::string& kind) {
  REVIVE_SQL_ASSIGN(q,
                    db_.prepare(std::string(kCertColumns) +
                                "WHERE c.step_id = ? AND c.kind = ? ORDER BY c.id DESC LIMIT 1"));
  return one_row(q.bind(step_id, kind), cert_row);
}

Result<std::vector<CertificateRow>> SqliteCertificates::newest_per_device_in_batch(
    std::int64_t batch_id, const std::string& kind) {
  REVIVE_SQL_ASSIGN(q, db_.prepare(std::string(kCertColumns) +
                                   "JOIN devices d ON c.id = (SELECT MAX(id) FROM certificates "
                                   "WHERE device_id = d.id AND kind = ?) WHERE d.batch_id = ? "
                                   "ORDER BY d.id"));
  q.bind(kind, batch_id);
  return all_certs(q);
}

Result<std::int64_t> SqliteEvents::append(const EventRow& e) {
  REVIVE_SQL_ASSIGN(q,
                    db_.prepare("INSERT INTO events(at, device_id, kind, data) VALUES (?,?,?,?)"));
  REVIVE_TRY(q.bind(e.at, e.device_id, e.kind, e.data.dump()).run());
  return db_.last_insert_id();
}

Result<std::vector<EventRow>> SqliteEvents::since(std::int64_t after_id, int limit) {
  REVIVE_SQL_ASSIGN(q, db_.prepare("SELECT id, at, device_id, kind, data FROM events WHERE id > ? "
                                   "ORDER BY id LIMIT ?"));
  q.bind(after_id, limit);
  return all_rows(q, event_row);
}

Result<std::optional<EventRow>> SqliteEvents::latest(std::int64_t device_id,
                                                     const std::string& kind) {
  REVIVE_SQL_ASSIGN(q, db_.prepare("SELECT id, at, device_id, kind, data FROM events WHERE "
                                   "device_id = ? AND kind = ? ORDER BY id DESC LIMIT 1"));
  return one_row(q.bind(device_id, kind), event_row);
}

// Ids grow with time, so the events to drop are a prefix of the id order: find where it ends
// (looking no further than one batch past the oldest), then delete below it.
Result<std::int64_t> SqliteEvents::prune(Seconds before, std::int64_t keep, std::int64_t batch) {
  // Two subqueries: SQLite reads one end of the table for a lone MIN() or MAX(), but walks
  // all of it (up to a million rows, every minute) for both in one SELECT.
  REVIVE_SQL_ASSIGN(
      range, db_.prepare("SELECT (SELECT MIN(id) FROM events), (SELECT MAX(id) FROM events)"));
  REVIVE_SQL_ASSIGN(has, range.step());
  if (!has || !range.opt_int64(0)) return std::int64_t{0};
  const std::int64_t oldest = range.int64(0);
  const std::int64_t window_end = oldest + batch;  // ids below this may go in this pass
  const std::int64_t by_count = range.int64(1) - keep + 1;
  REVIVE_SQL_ASSIGN(first_kept, db_.prepare("SELECT id FROM events WHERE id < ? AND at >= ? "
                                            "ORDER BY id LIMIT 1"));
  REVIVE_SQL_ASSIGN(found, first_kept.bind(window_end, before).step());
  const std::int64_t by_age = found ? first_kept.int64(0) : window_end;
  const std::int64_t cut = std::min(window_end, std::max(by_age, by_count));
  if (cut <= oldest) return std::int64_t{0};
  REVIVE_SQL_ASSIGN(del, db_.prepare("DELETE FROM events WHERE id < ?"));
  REVIVE_TRY(del.bind(cut).run());
  return static_cast<std::int64_t>(db_.changes());
}

Result<std::vector<EventRow>> SqliteEvents::of_device(std::int64_t device_id,
                                                      const std::vector<std::string>& kinds,
                                                      int limit) {
  REVIVE_SQL_ASSIGN(q, db_.prepare("SELECT id, at, device_id, kind, data FROM events WHERE "
                                   "device_id = ? AND kind IN (SELECT value FROM json_each(?)) "
                                   "ORDER BY id LIMIT ?"));
  q.bind(device_id, Json(kinds).dump(), limit);
  return all_rows(q, event_row);
}

Result<void> SqliteOperators::put(const std::string& name, const std::string& password_hash,
                                  Seconds now) {
  REVIVE_SQL_ASSIGN(q, db_.prepare("INSERT INTO operators(name, password_hash, created_at) VALUES "
                                   "(?,?,?) ON CONFLICT(name) DO UPDATE SET password_hash = "
                                   "excluded.password_hash"));
  return q.bind(name, password_hash, now).run();
}

Result<std::optional<OperatorRow>> SqliteOperators::find(const std::string& name) {
  REVIVE_SQL_ASSIGN(q, db_.prepare("SELECT id, name, password_hash FROM operators WHERE name = ?"));
  return one_row(q.bind(name), [](const Statement& s) {
    return OperatorRow{s.int64(0), s.text(1), s.text(2)};
  });
}

Result<std::int64_t> SqliteOperators::count() {
  REVIVE_SQL_ASSIGN(q, db_.prepare("SELECT COUNT(*) FROM operators"));
  REVIVE_SQL_ASSIGN(row, q.step());
  return row ? q.int64(0) : 0;
}

Result<void> SqliteOperators::add_token(const OperatorTokenRow& t) {
  REVIVE_SQL_ASSIGN(q, db_.prepare("INSERT INTO operator_tokens(token_hash, operator_id, kind, "
                                   "label, created_at, expires_at) VALUES (?,?,?,?,?,?)"));
  return q.bind(t.token_hash, t.operator_id, t.kind, t.label, t.created_at, t.expires_at).run();
}

Result<std::optional<OperatorTokenOwner>> SqliteOperators::token_owner(
    const std::string& token_hash) {
  REVIVE_SQL_ASSIGN(q,
                    db_.prepare("SELECT o.name, t.expires_at, t.kind FROM operator_tokens t JOIN "
                                "operators o ON o.id = t.operator_id WHERE t.token_hash = ?"));
  return one_row(q.bind(token_hash), [](const Statement& s) {
    return OperatorTokenOwner{s.text(0), s.opt_int64(1), s.text(2)};
  });
}

Result<std::vector<OperatorTokenInfo>> SqliteOperators::tokens() {
  REVIVE_SQL_ASSIGN(q, db_.prepare("SELECT t.token_hash, o.name, t.kind, t.label, t.created_at, "
                                   "t.expires_at FROM operator_tokens t JOIN operators o ON o.id "
                                   "= t.operator_id ORDER BY t.created_at, t.token_hash"));
  return all_rows(q, [](const Statement& r) {
    return OperatorTokenInfo{r.text(0), r.text(1),  r.text(2),
                             r.text(3), r.int64(4), r.opt_int64(5)};
  });
}

Result<void> SqliteOperators::remove_token(const std::string& token_hash) {
  REVIVE_SQL_ASSIGN(q, db_.prepare("DELETE FROM operator_tokens WHERE token_hash = ?"));
  REVIVE_TRY(q.bind(token_hash).run());
  if (db_.changes() == 0) return make_error(Errc::not_found, "no such operator token");
  return {};
}

Result<void> SqliteOperators::remove_tokens_of(std::int64_t operator_id) {
  REVIVE_SQL_ASSIGN(q, db_.prepare("DELETE FROM operator_tokens WHERE operator_id = ?"));
  return q.bind(operator_id).run();
}

Result<void> SqliteOperators::remove_expired(Seconds now) {
  REVIVE_SQL_ASSIGN(q, db_.prepare("DELETE FROM operator_tokens WHERE expires_at IS NOT NULL AND "
                                   "expires_at < ?"));
  return q.bind(now).run();
}

}  // namespace revive::server::sqlite
