#include "storage/sqlite/migrations.hpp"

#include <iterator>
#include <string>

namespace revive::server::sqlite {

namespace {

// Each entry migrates from version i to i+1; never edit one that has shipped, append instead.
const char* const kMigrations[] = {
    R"sql(
CREATE TABLE settings(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE workflows(
  id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, steps TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE batches(
  id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, donor TEXT NOT NULL DEFAULT '',
  workflow_id INTEGER REFERENCES workflows(id), image TEXT, created_at INTEGER NOT NULL);
CREATE TABLE devices(
  id INTEGER PRIMARY KEY, system_uuid TEXT NOT NULL, serial TEXT NOT NULL, model TEXT NOT NULL,
  vendor TEXT NOT NULL DEFAULT '', macs TEXT NOT NULL DEFAULT '[]', inventory TEXT,
  batch_id INTEGER REFERENCES batches(id), workflow_id INTEGER REFERENCES workflows(id),
  first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
  UNIQUE(system_uuid, serial, model));
CREATE TABLE agent_tokens(
  token_hash TEXT PRIMARY KEY, device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL);
CREATE TABLE runs(
  id INTEGER PRIMARY KEY, device_id INTEGER NOT NULL REFERENCES devices(id),
  workflow_id INTEGER NOT NULL REFERENCES workflows(id), state TEXT NOT NULL, image TEXT,
  created_at INTEGER NOT NULL, finished_at INTEGER);
CREATE INDEX runs_by_device ON runs(device_id, id);
CREATE TABLE steps(
  id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id), seq INTEGER NOT NULL,
  kind TEXT NOT NULL, params TEXT NOT NULL DEFAULT '{}', state TEXT NOT NULL,
  attempt INTEGER NOT NULL DEFAULT 0, started_at INTEGER, deadline INTEGER, finished_at INTEGER,
  error TEXT, UNIQUE(run_id, seq));
CREATE INDEX steps_running ON steps(state, deadline);
CREATE TABLE step_results(
  id INTEGER PRIMARY KEY, step_id INTEGER NOT NULL REFERENCES steps(id), attempt INTEGER NOT NULL,
  status TEXT NOT NULL, result TEXT NOT NULL, error TEXT NOT NULL DEFAULT '',
  recorded_at INTEGER NOT NULL, UNIQUE(step_id, attempt));
CREATE TABLE events(
  id INTEGER PRIMARY KEY, at INTEGER NOT NULL, device_id INTEGER REFERENCES devices(id),
  kind TEXT NOT NULL, data TEXT NOT NULL);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
CREATE TABLE images(
  name TEXT PRIMARY KEY, image_id TEXT NOT NULL, logical_size INTEGER NOT NULL,
  stored_bytes INTEGER NOT NULL, added_at INTEGER NOT NULL);
CREATE TABLE certificates(
  id INTEGER PRIMARY KEY, device_id INTEGER NOT NULL REFERENCES devices(id),
  step_id INTEGER REFERENCES steps(id), kind TEXT NOT NULL, body TEXT NOT NULL,
  created_at INTEGER NOT NULL);
CREATE TABLE operators(
  id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, password_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL);
CREATE TABLE operator_tokens(
  token_hash TEXT PRIMARY KEY, operator_id INTEGER NOT NULL REFERENCES operators(id) ON DELETE CASCADE,
  kind TEXT NOT NULL, label TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL, expires_at INTEGER);
)sql",
    // 2: where a long step (deploy) had got to, so a reconnecting agent continues from there.
    R"sql(
ALTER TABLE steps ADD COLUMN checkpoint TEXT;
)sql",
    // 3: erasure certificates are addressed by their own id and never change once stored.
    R"sql(
ALTER TABLE certificates ADD COLUMN cert_id TEXT;
ALTER TABLE certificates ADD COLUMN result TEXT;
CREATE UNIQUE INDEX certificates_cert_id ON certificates(cert_id);
CREATE TRIGGER certificates_no_update BEFORE UPDATE ON certificates BEGIN SELECT RAISE(ABORT, 'certificates are immutable'); END;
CREATE TRIGGER certificates_no_delete BEFORE DELETE ON certificates BEGIN SELECT RAISE(ABORT, 'certificates are immutable'); END;
)sql",
    // 4: tokens handed to network-booting laptops in their boot script.
    R"sql(
CREATE TABLE boot_tokens(
  token_hash TEXT PRIMARY KEY, mac TEXT NOT NULL, issued_at INTEGER NOT NULL, used_at INTEGER);
CREATE INDEX boot_tokens_by_mac ON boot_tokens(mac, issued_at);
)sql",
    // 5: the event log has a retention (oldest first, by age and count): rows may be deleted,
    // never changed.
    R"sql(
DROP TRIGGER events_no_delete;
)sql",
};

}  // namespace

int latest_schema_version() { return static_cast<int>(std::size(kMigrations)); }

Result<void> migrate(Database& db) {
  REVIVE_TRY(db.exec("CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)"));
  std::int64_t current = 0;
  {
    auto q = db.prepare("SELECT COALESCE(MAX(version), 0) FROM schema_version");
    if (!q) return q.error();
    auto has = q->step();
    if (!has) return has.error();
    if (*has) current = q->int64(0);
  }
  const std::int64_t latest = latest_schema_version();
  if (current > latest) {
    return make_error(Errc::unsupported,
                      "the state database is schema version " + std::to_string(current) +
                          ", newer than this server (" + std::to_string(latest) + ")");
  }
  for (std::int64_t v = current; v < latest; ++v) {
    auto tx = Transaction::begin(db);
    if (!tx) return tx.error();
    REVIVE_TRY(db.exec(kMigrations[v]));
    auto ins = db.prepare("INSERT INTO schema_version(version) VALUES (?)");
    if (!ins) return ins.error();
    REVIVE_TRY(ins->bind(v + 1).run());
    REVIVE_TRY(tx->commit());
  }
  return {};
}

}  // namespace revive::server::sqlite
