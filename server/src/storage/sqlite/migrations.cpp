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
    // 5: trust on the workshop network (issue 15). Two laptops with the same placeholder UUID
    // and serial are two devices: the firmware triple is no longer unique (the table is rebuilt
    // without that constraint; the domain decides who is who, disk serials included). A flag
    // an operator must see; the operator whose intake a laptop came in through. Intakes an
    // operator opens replace the intake_batch setting. A certificate names the one it
    // supersedes, and each is superseded at most once.
    R"sql(
CREATE TABLE devices_v5(
  id INTEGER PRIMARY KEY, system_uuid TEXT NOT NULL, serial TEXT NOT NULL, model TEXT NOT NULL,
  vendor TEXT NOT NULL DEFAULT '', macs TEXT NOT NULL DEFAULT '[]', inventory TEXT,
  batch_id INTEGER REFERENCES batches(id), workflow_id INTEGER REFERENCES workflows(id),
  first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
  disk_serials TEXT NOT NULL DEFAULT '[]', flag TEXT, intake_operator TEXT);
INSERT INTO devices_v5(id, system_uuid, serial, model, vendor, macs, inventory, batch_id,
                       workflow_id, first_seen, last_seen)
  SELECT id, system_uuid, serial, model, vendor, macs, inventory, batch_id, workflow_id,
         first_seen, last_seen FROM devices;
DROP TABLE devices;
ALTER TABLE devices_v5 RENAME TO devices;
CREATE INDEX devices_by_model ON devices(model, system_uuid, serial);
CREATE TABLE intakes(
  id INTEGER PRIMARY KEY, batch_id INTEGER NOT NULL REFERENCES batches(id),
  opened_at INTEGER NOT NULL, until INTEGER NOT NULL, macs TEXT NOT NULL DEFAULT '[]',
  vendors TEXT NOT NULL DEFAULT '[]', opened_by TEXT NOT NULL, closed_at INTEGER, closed_by TEXT);
DELETE FROM settings WHERE key = 'intake_batch';
ALTER TABLE certificates ADD COLUMN supersedes TEXT;
CREATE UNIQUE INDEX certificates_supersedes ON certificates(supersedes) WHERE supersedes IS NOT NULL;
CREATE INDEX operator_tokens_by_operator ON operator_tokens(operator_id);
)sql",
    // 6: the event log has a retention (oldest first, by age and count): rows may be deleted,
    // never changed.
    R"sql(
DROP TRIGGER events_no_delete;
)sql",
    // 7: partner organisations, the laptops handed over to them, and the organisations' loans
    // (issue 16). A loan's reference is erased after the retention; the row stays.
    R"sql(
CREATE TABLE organisations(
  id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, contact TEXT NOT NULL DEFAULT '',
  kind TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE handovers(
  id INTEGER PRIMARY KEY, organisation_id INTEGER NOT NULL REFERENCES organisations(id),
  operator TEXT NOT NULL, at INTEGER NOT NULL);
CREATE TABLE handover_laptops(
  handover_id INTEGER NOT NULL REFERENCES handovers(id),
  device_id INTEGER NOT NULL REFERENCES devices(id), PRIMARY KEY(handover_id, device_id));
CREATE INDEX handover_laptops_by_device ON handover_laptops(device_id, handover_id);
CREATE TABLE loans(
  id INTEGER PRIMARY KEY, device_id INTEGER NOT NULL REFERENCES devices(id),
  handover_id INTEGER NOT NULL REFERENCES handovers(id), reference TEXT NOT NULL DEFAULT '',
  lent_at INTEGER NOT NULL, lent_by TEXT NOT NULL, returned_at INTEGER, returned_by TEXT,
  reference_erased INTEGER NOT NULL DEFAULT 0);
CREATE INDEX loans_by_device ON loans(device_id, id);
CREATE UNIQUE INDEX loans_one_open ON loans(device_id) WHERE returned_at IS NULL;
)sql",
    // 8: a batch's recipient profile (issue 16, the batches page): what its laptops' provision
    // step applies, as JSON.
    R"sql(
ALTER TABLE batches ADD COLUMN profile TEXT;
)sql",
    // 9: named recipient profiles (issue 16, the settings page); a batch may use one instead
    // of its own profile, and a profile in use cannot go (the key refuses it too).
    R"sql(
CREATE TABLE recipient_profiles(
  id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, fields TEXT NOT NULL,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
ALTER TABLE batches ADD COLUMN profile_id INTEGER REFERENCES recipient_profiles(id);
CREATE INDEX batches_by_profile ON batches(profile_id) WHERE profile_id IS NOT NULL;
)sql",
    // 10: finding a laptop by its identity looks up indexes instead of reading every laptop of
    // that model (issue 19: a thousand identical laptops made each enrolment read them all).
    // Disk serials get a table of their own, kept by triggers; a migration that rebuilds
    // `devices` drops these triggers and must make them again.
    R"sql(
CREATE INDEX devices_by_model_serial ON devices(model, serial);
CREATE TABLE device_disk_serials(
  serial NOT NULL, device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  PRIMARY KEY(serial, device_id)) WITHOUT ROWID;
CREATE INDEX device_disk_serials_by_device ON device_disk_serials(device_id);
INSERT OR IGNORE INTO device_disk_serials(serial, device_id)
  SELECT j.value, d.id FROM devices d, json_each(d.disk_serials) j WHERE j.value IS NOT NULL;
CREATE TRIGGER device_disk_serials_on_insert AFTER INSERT ON devices BEGIN
  INSERT OR IGNORE INTO device_disk_serials(serial, device_id)
    SELECT j.value, NEW.id FROM json_each(NEW.disk_serials) j WHERE j.value IS NOT NULL;
END;
CREATE TRIGGER device_disk_serials_on_update AFTER UPDATE OF disk_serials ON devices BEGIN
  DELETE FROM device_disk_serials WHERE device_id = OLD.id;
  INSERT OR IGNORE INTO device_disk_serials(serial, device_id)
    SELECT j.value, NEW.id FROM json_each(NEW.disk_serials) j WHERE j.value IS NOT NULL;
END;
)sql",
    // 11: the lookups of one laptop's rows find them by index instead of reading every
    // laptop's (issue 19): its agent tokens (revoked at each enrolment), its events (the boot
    // planner's last boot script, the certificate's and the laptop page's timeline), its
    // certificates, and a batch's laptops. And the minutely retention of returned loans'
    // references finds the loans due without reading every loan.
    R"sql(
CREATE INDEX agent_tokens_by_device ON agent_tokens(device_id);
CREATE INDEX events_by_device ON events(device_id, id) WHERE device_id IS NOT NULL;
CREATE INDEX certificates_by_device ON certificates(device_id, id);
CREATE INDEX devices_by_batch ON devices(batch_id) WHERE batch_id IS NOT NULL;
CREATE INDEX loans_returned ON loans(returned_at) WHERE reference_erased = 0;
)sql",
    // 12: a laptop by one of its MACs, which every proxyDHCP answer and boot script asks for,
    // from an index instead of reading every laptop's MAC list (issue 19: ~5 ms a lookup at
    // 10,000 laptops, several per boot). Kept by triggers from devices.macs, lower case; like
    // migration 10's, a migration that rebuilds `devices` must make them again.
    R"sql(
CREATE TABLE device_macs(
  mac TEXT NOT NULL, device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  PRIMARY KEY(mac, device_id)) WITHOUT ROWID;
CREATE INDEX device_macs_by_device ON device_macs(device_id);
INSERT OR IGNORE INTO device_macs(mac, device_id)
  SELECT lower(j.value), d.id FROM devices d, json_each(d.macs) j WHERE j.type = 'text';
CREATE TRIGGER device_macs_on_insert AFTER INSERT ON devices BEGIN
  INSERT OR IGNORE INTO device_macs(mac, device_id)
    SELECT lower(j.value), NEW.id FROM json_each(NEW.macs) j WHERE j.type = 'text';
END;
CREATE TRIGGER device_macs_on_update AFTER UPDATE OF macs ON devices
  WHEN OLD.macs IS NOT NEW.macs BEGIN
  DELETE FROM device_macs WHERE device_id = OLD.id;
  INSERT OR IGNORE INTO device_macs(mac, device_id)
    SELECT lower(j.value), NEW.id FROM json_each(NEW.macs) j WHERE j.type = 'text';
END;
)sql",
};

}  // namespace

namespace {

Result<void> migrate_one(Database& db, std::int64_t from) {
  auto tx = Transaction::begin(db);
  if (!tx) return tx.error();
  REVIVE_TRY(db.exec(kMigrations[from]));
  {
    auto check = db.prepare("PRAGMA foreign_key_check");
    if (!check) return check.error();
    auto bad = check->step();
    if (!bad) return bad.error();
    if (*bad) {
      return make_error(Errc::corrupt,
                        "a foreign key does not hold afterwards (table " + check->text(0) + ")");
    }
  }
  auto ins = db.prepare("INSERT INTO schema_version(version) VALUES (?)");
  if (!ins) return ins.error();
  REVIVE_TRY(ins->bind(from + 1).run());
  return tx->commit();
}

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
  if (current == latest) return {};
  // A migration that rebuilds a table (SQLite's way to change a constraint) drops the old one
  // while others still refer to it: foreign keys are off meanwhile (the pragma is a no-op
  // inside a transaction), and checked before each commit instead.
  REVIVE_TRY(db.exec("PRAGMA foreign_keys=OFF"));
  for (std::int64_t v = current; v < latest; ++v) {
    auto done = migrate_one(db, v);
    if (!done) {
      (void)db.exec("PRAGMA foreign_keys=ON");
      return done.error().with_context("schema migration to version " + std::to_string(v + 1));
    }
  }
  return db.exec("PRAGMA foreign_keys=ON");
}

}  // namespace revive::server::sqlite
