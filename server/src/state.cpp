#include "state.hpp"

#include <sodium.h>

#include <nlohmann/json.hpp>

#include "revive/encoding.hpp"
#include "revive/sha256.hpp"

namespace revive::server {

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
};

Json parse_json_column(const std::string& s) {
  Json j = Json::parse(s, nullptr, false);
  return j.is_discarded() ? Json() : j;
}

Error not_found(const std::string& what) { return make_error(Errc::not_found, what); }
Error conflict(const std::string& what) { return make_error(Errc::conflict, what); }

#define TRY_ASSIGN(var, expr)           \
  auto var##_r = (expr);                \
  if (!var##_r) return var##_r.error(); \
  auto& var = *var##_r

}  // namespace

std::string new_token() {
  std::uint8_t b[32];
  randombytes_buf(b, sizeof b);
  std::string s = to_base64(b);
  for (char& c : s) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!s.empty() && s.back() == '=') s.pop_back();
  return s;
}

std::string token_hash(std::string_view token) {
  return digest_hex(sha256({reinterpret_cast<const std::byte*>(token.data()), token.size()}));
}

Result<std::unique_ptr<StateStore>> StateStore::open(const std::filesystem::path& db_path,
                                                     Clock clock, StateOptions opts) {
  if (sodium_init() < 0) return make_error(Errc::internal, "libsodium failed to initialise");
  auto db = Database::open(db_path);
  if (!db) return db.error();
  std::unique_ptr<StateStore> s(new StateStore(std::move(*db), std::move(clock), std::move(opts)));
  REVIVE_TRY(s->migrate());
  REVIVE_TRY(s->ensure_defaults());
  return s;
}

Result<void> StateStore::migrate() {
  REVIVE_TRY(db_.exec("CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)"));
  TRY_ASSIGN(q, db_.prepare("SELECT COALESCE(MAX(version), 0) FROM schema_version"));
  TRY_ASSIGN(has, q.step());
  const std::int64_t current = has ? q.int64(0) : 0;
  const auto latest = static_cast<std::int64_t>(std::size(kMigrations));
  if (current > latest) {
    return make_error(Errc::unsupported,
                      "the state database is schema version " + std::to_string(current) +
                          ", newer than this server (" + std::to_string(latest) + ")");
  }
  for (std::int64_t v = current; v < latest; ++v) {
    TRY_ASSIGN(tx, Transaction::begin(db_));
    REVIVE_TRY(db_.exec(kMigrations[v]));
    TRY_ASSIGN(ins, db_.prepare("INSERT INTO schema_version(version) VALUES (?)"));
    REVIVE_TRY(ins.bind(v + 1).run());
    REVIVE_TRY(tx.commit());
  }
  return {};
}

Result<void> StateStore::ensure_defaults() {
  TRY_ASSIGN(q, db_.prepare("SELECT COUNT(*) FROM workflows"));
  TRY_ASSIGN(row, q.step());
  if (row && q.int64(0) == 0) {
    Json steps = Json::array();
    for (auto k : kStepKinds) steps.push_back({{"kind", std::string(k)}});
    REVIVE_TRY(put_workflow("default", steps));
  }
  TRY_ASSIGN(dw, setting("default_workflow"));
  if (!dw) REVIVE_TRY(set_setting("default_workflow", "default"));
  return {};
}

std::int64_t StateStore::stall_timeout(const std::string& kind) const {
  auto it = opts_.stall_timeout_s.find(kind);
  return it != opts_.stall_timeout_s.end() ? it->second : opts_.default_stall_timeout_s;
}

void StateStore::notify(std::int64_t device_id) {
  if (!on_change_) return;
  auto s = device_summary(device_id);
  if (s) on_change_(device_id, *s);
}

Result<std::int64_t> StateStore::log_event(std::optional<std::int64_t> device_id,
                                           const std::string& kind, const Json& data) {
  TRY_ASSIGN(q, db_.prepare("INSERT INTO events(at, device_id, kind, data) VALUES (?,?,?,?)"));
  REVIVE_TRY(q.bind(clock_(), device_id, kind, data.dump()).run());
  return db_.last_insert_id();
}

// ---------------------------------------------------------------- settings, workflows, batches

Result<void> StateStore::set_setting(const std::string& key, const std::string& value) {
  TRY_ASSIGN(q, db_.prepare("INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO "
                            "UPDATE SET value = excluded.value"));
  return q.bind(key, value).run();
}

Result<std::optional<std::string>> StateStore::setting(const std::string& key) {
  TRY_ASSIGN(q, db_.prepare("SELECT value FROM settings WHERE key = ?"));
  TRY_ASSIGN(row, q.bind(key).step());
  if (!row) return std::optional<std::string>{};
  return std::optional<std::string>(q.text(0));
}

Result<void> StateStore::put_workflow(const std::string& name, const Json& steps) {
  if (name.empty() || name.size() > 64)
    return make_error(Errc::invalid_input, "workflow name must be 1-64 characters");
  if (!steps.is_array() || steps.empty() || steps.size() > 32) {
    return make_error(Errc::invalid_input, "a workflow needs 1 to 32 steps");
  }
  Json clean = Json::array();
  for (const auto& s : steps) {
    if (!s.is_object() || !s.contains("kind") || !s["kind"].is_string() ||
        !is_step_kind(s["kind"].get<std::string>())) {
      return make_error(Errc::invalid_input,
                        "each step needs a \"kind\", one of inventory, wipe, test, deploy, "
                        "provision, certify, finish");
    }
    Json params = s.contains("params") ? s["params"] : Json::object();
    if (!params.is_object())
      return make_error(Errc::invalid_input, "step \"params\" must be an object");
    clean.push_back({{"kind", s["kind"]}, {"params", params}});
  }
  TRY_ASSIGN(q, db_.prepare("INSERT INTO workflows(name, steps, created_at) VALUES (?,?,?) "
                            "ON CONFLICT(name) DO UPDATE SET steps = excluded.steps"));
  return q.bind(name, clean.dump(), clock_()).run();
}

Result<Json> StateStore::list_workflows() {
  TRY_ASSIGN(q, db_.prepare("SELECT name, steps FROM workflows ORDER BY name"));
  TRY_ASSIGN(dw, setting("default_workflow"));
  Json out = Json::array();
  for (;;) {
    TRY_ASSIGN(row, q.step());
    if (!row) break;
    out.push_back({{"name", q.text(0)},
                   {"steps", parse_json_column(q.text(1))},
                   {"default", dw && *dw == q.text(0)}});
  }
  return out;
}

namespace {
Result<std::optional<std::int64_t>> id_by_name(Database& db, const char* table,
                                               const std::optional<std::string>& name) {
  if (!name) return std::optional<std::int64_t>{};
  TRY_ASSIGN(q, db.prepare(std::string("SELECT id FROM ") + table + " WHERE name = ?"));
  TRY_ASSIGN(row, q.bind(*name).step());
  if (!row)
    return not_found(std::string(table == std::string("batches") ? "batch" : "workflow") + " \"" +
                     *name + "\" does not exist");
  return std::optional<std::int64_t>(q.int64(0));
}
}  // namespace

Result<void> StateStore::set_default_workflow(const std::string& name) {
  TRY_ASSIGN(id, id_by_name(db_, "workflows", name));
  (void)id;
  return set_setting("default_workflow", name);
}

Result<void> StateStore::set_intake_batch(const std::string& name) {
  TRY_ASSIGN(id, id_by_name(db_, "batches", name));
  (void)id;
  return set_setting("intake_batch", name);
}

Result<std::int64_t> StateStore::create_batch(const std::string& name, const std::string& donor,
                                              const std::optional<std::string>& workflow,
                                              const std::optional<std::string>& image) {
  if (name.empty() || name.size() > 64)
    return make_error(Errc::invalid_input, "batch name must be 1-64 characters");
  TRY_ASSIGN(wf, id_by_name(db_, "workflows", workflow));
  TRY_ASSIGN(
      q,
      db_.prepare(
          "INSERT INTO batches(name, donor, workflow_id, image, created_at) VALUES (?,?,?,?,?)"));
  auto r = q.bind(name, donor, wf, image, clock_()).run();
  if (!r) return conflict("batch \"" + name + "\" already exists");
  return db_.last_insert_id();
}

Result<Json> StateStore::list_batches() {
  TRY_ASSIGN(
      q, db_.prepare("SELECT b.id, b.name, b.donor, w.name, b.image, (SELECT COUNT(*) FROM devices "
                     "d WHERE d.batch_id = b.id) "
                     "FROM batches b LEFT JOIN workflows w ON w.id = b.workflow_id ORDER BY b.id"));
  Json out = Json::array();
  for (;;) {
    TRY_ASSIGN(row, q.step());
    if (!row) break;
    out.push_back({{"id", q.int64(0)},
                   {"name", q.text(1)},
                   {"donor", q.text(2)},
                   {"workflow", q.opt_text(3) ? Json(*q.opt_text(3)) : Json()},
                   {"image", q.opt_text(4) ? Json(*q.opt_text(4)) : Json()},
                   {"devices", q.int64(5)}});
  }
  return out;
}

Result<void> StateStore::assign_device(std::int64_t device_id,
                                       const std::optional<std::string>& batch,
                                       const std::optional<std::string>& workflow) {
  TRY_ASSIGN(b, id_by_name(db_, "batches", batch));
  TRY_ASSIGN(w, id_by_name(db_, "workflows", workflow));
  TRY_ASSIGN(tx, Transaction::begin(db_));
  if (batch) {
    TRY_ASSIGN(q, db_.prepare("UPDATE devices SET batch_id = ? WHERE id = ?"));
    REVIVE_TRY(q.bind(b, device_id).run());
    if (db_.changes() == 0)
      return not_found("device " + std::to_string(device_id) + " does not exist");
  }
  if (workflow) {
    TRY_ASSIGN(q, db_.prepare("UPDATE devices SET workflow_id = ? WHERE id = ?"));
    REVIVE_TRY(q.bind(w, device_id).run());
    if (db_.changes() == 0)
      return not_found("device " + std::to_string(device_id) + " does not exist");
  }
  REVIVE_TRY(tx.commit());
  notify(device_id);
  return {};
}

// ---------------------------------------------------------------- agents

Result<std::optional<std::int64_t>> StateStore::active_run(std::int64_t device_id) {
  TRY_ASSIGN(q, db_.prepare("SELECT id FROM runs WHERE device_id = ? ORDER BY id DESC LIMIT 1"));
  TRY_ASSIGN(row, q.bind(device_id).step());
  if (!row) return std::optional<std::int64_t>{};
  return std::optional<std::int64_t>(q.int64(0));
}

Result<void> StateStore::create_run(std::int64_t device_id) {
  // Workflow: the device's own, else its batch's, else the workshop default.
  TRY_ASSIGN(
      q, db_.prepare(
             "SELECT COALESCE(d.workflow_id, b.workflow_id, (SELECT id FROM workflows WHERE name = "
             "(SELECT value FROM settings WHERE key = 'default_workflow'))), b.image "
             "FROM devices d LEFT JOIN batches b ON b.id = d.batch_id WHERE d.id = ?"));
  TRY_ASSIGN(row, q.bind(device_id).step());
  if (!row || q.is_null(0))
    return make_error(Errc::internal, "no workflow applies to device " + std::to_string(device_id) +
                                          " (is the default workflow missing?)");
  const std::int64_t wf = q.int64(0);
  const auto image = q.opt_text(1);
  TRY_ASSIGN(ws, db_.prepare("SELECT steps FROM workflows WHERE id = ?"));
  TRY_ASSIGN(wrow, ws.bind(wf).step());
  if (!wrow) return make_error(Errc::internal, "workflow vanished");
  const Json steps = parse_json_column(ws.text(0));
  TRY_ASSIGN(
      ins,
      db_.prepare(
          "INSERT INTO runs(device_id, workflow_id, state, image, created_at) VALUES (?,?,?,?,?)"));
  REVIVE_TRY(
      ins.bind(device_id, wf, std::string(to_string(RunState::running)), image, clock_()).run());
  const std::int64_t run = db_.last_insert_id();
  int seq = 0;
  for (const auto& s : steps) {
    TRY_ASSIGN(
        si, db_.prepare("INSERT INTO steps(run_id, seq, kind, params, state) VALUES (?,?,?,?,?)"));
    REVIVE_TRY(si.bind(run, seq++, s["kind"].get<std::string>(),
                       s.value("params", Json::object()).dump(),
                       std::string(to_string(StepState::pending)))
                   .run());
  }
  return {};
}

Result<EnrolResult> StateStore::enrol(const Identity& id, const Json& macs, const Json& inventory,
                                      const std::string& boot_token) {
  if (id.system_uuid.empty() && id.serial.empty()) {
    return make_error(Errc::invalid_input, "identity needs a system UUID or a serial number");
  }
  const std::int64_t now = clock_();
  TRY_ASSIGN(tx, Transaction::begin(db_));
  EnrolResult out;
  std::string booted_mac;
  if (!boot_token.empty()) {
    TRY_ASSIGN(q, db_.prepare("SELECT mac FROM boot_tokens WHERE token_hash = ?"));
    TRY_ASSIGN(row, q.bind(token_hash(boot_token)).step());
    if (!row) {
      return make_error(Errc::unauthorized,
                        "the boot token on this laptop's kernel command line was not issued by "
                        "this server: network-boot it again");
    }
    booted_mac = q.text(0);
    TRY_ASSIGN(u, db_.prepare("UPDATE boot_tokens SET used_at = ? WHERE token_hash = ?"));
    REVIVE_TRY(u.bind(now, token_hash(boot_token)).run());
  }
  {
    TRY_ASSIGN(q, db_.prepare(
                      "SELECT id FROM devices WHERE system_uuid = ? AND serial = ? AND model = ?"));
    TRY_ASSIGN(row, q.bind(id.system_uuid, id.serial, id.model).step());
    if (row) {
      out.device_id = q.int64(0);
      TRY_ASSIGN(u, db_.prepare("UPDATE devices SET macs = ?, inventory = COALESCE(?, inventory), "
                                "last_seen = ?, vendor = ? WHERE id = ?"));
      REVIVE_TRY(u.bind(macs.dump(),
                        inventory.is_null() ? std::optional<std::string>()
                                            : std::optional<std::string>(inventory.dump()),
                        now, id.vendor, out.device_id)
                     .run());
    } else {
      TRY_ASSIGN(batch, setting("intake_batch"));
      TRY_ASSIGN(i,
                 db_.prepare("INSERT INTO devices(system_uuid, serial, model, vendor, macs, "
                             "inventory, batch_id, first_seen, last_seen) "
                             "VALUES (?,?,?,?,?,?,(SELECT id FROM batches WHERE name = ?),?,?)"));
      REVIVE_TRY(i.bind(id.system_uuid, id.serial, id.model, id.vendor, macs.dump(),
                        inventory.is_null() ? std::optional<std::string>()
                                            : std::optional<std::string>(inventory.dump()),
                        batch, now, now)
                     .run());
      out.device_id = db_.last_insert_id();
      out.new_device = true;
    }
  }
  // A new boot: earlier tokens of this device stop working.
  {
    TRY_ASSIGN(d, db_.prepare("DELETE FROM agent_tokens WHERE device_id = ?"));
    REVIVE_TRY(d.bind(out.device_id).run());
    out.agent_token = new_token();
    TRY_ASSIGN(
        i,
        db_.prepare("INSERT INTO agent_tokens(token_hash, device_id, created_at) VALUES (?,?,?)"));
    REVIVE_TRY(i.bind(token_hash(out.agent_token), out.device_id, now).run());
  }
  TRY_ASSIGN(run, active_run(out.device_id));
  if (!run) REVIVE_TRY(create_run(out.device_id));
  REVIVE_TRY(log_event(out.device_id, out.new_device ? "enrolled" : "re-enrolled",
                       {{"serial", id.serial}, {"model", id.model}}));
  if (!booted_mac.empty())
    REVIVE_TRY(log_event(out.device_id, "network_boot", {{"mac", booted_mac}}));
  REVIVE_TRY(tx.commit());
  notify(out.device_id);
  return out;
}

Result<StateStore::BootDecision> StateStore::boot_decision(const std::string& mac) {
  BootDecision d;
  TRY_ASSIGN(q, db_.prepare("SELECT d.id, (SELECT r.state FROM runs r WHERE r.device_id = d.id "
                            "ORDER BY r.id DESC LIMIT 1) "
                            "FROM devices d, json_each(d.macs) m WHERE lower(m.value) = lower(?) "
                            "ORDER BY d.last_seen DESC, d.id DESC LIMIT 1"));
  TRY_ASSIGN(row, q.bind(mac).step());
  if (!row) {
    d.reason = "a laptop this server has not seen: boot the live agent";
    return d;
  }
  d.device_id = q.int64(0);
  const std::string run_state = q.is_null(1) ? std::string() : q.text(1);
  d.boot_local = run_state == "done";
  d.reason =
      d.boot_local
          ? "device " + std::to_string(*d.device_id) + " finished its workflow: boot the local disk"
          : "device " + std::to_string(*d.device_id) + " has work left (" +
                (run_state.empty() ? "no run" : run_state) + "): boot the live agent";
  return d;
}

Result<void> StateStore::record_boot_script(std::int64_t device_id, const std::string& mac,
                                            const std::string& script) {
  // A firmware retries DHCP and may try several network boot options in a row: one event per
  // decision and minute is enough.
  TRY_ASSIGN(q, db_.prepare("SELECT at, json_extract(data, '$.script') FROM events WHERE device_id "
                            "= ? AND kind = 'boot_script' "
                            "ORDER BY id DESC LIMIT 1"));
  TRY_ASSIGN(row, q.bind(device_id).step());
  if (row && !q.is_null(1) && q.text(1) == script && q.int64(0) > clock_() - 60) return {};
  REVIVE_TRY(log_event(device_id, "boot_script", {{"mac", mac}, {"script", script}}));
  notify(device_id);
  return {};
}

Result<std::string> StateStore::issue_boot_token(const std::string& mac) {
  const std::int64_t now = clock_();
  std::string token = new_token();
  TRY_ASSIGN(tx, Transaction::begin(db_));
  // Tokens older than a week, and all but the newest few per MAC, are of no further use.
  // The table stays bounded whatever asks for boot scripts (the route is public, like TFTP).
  TRY_ASSIGN(
      d, db_.prepare(
             "DELETE FROM boot_tokens WHERE issued_at < ? OR (mac = ? AND token_hash NOT IN "
             "(SELECT token_hash FROM boot_tokens WHERE mac = ? ORDER BY issued_at DESC LIMIT 7)) "
             "OR token_hash NOT IN (SELECT token_hash FROM boot_tokens ORDER BY issued_at DESC "
             "LIMIT 10000)"));
  REVIVE_TRY(d.bind(now - 7 * 86400, mac, mac).run());
  TRY_ASSIGN(i, db_.prepare("INSERT INTO boot_tokens(token_hash, mac, issued_at) VALUES (?,?,?)"));
  REVIVE_TRY(i.bind(token_hash(token), mac, now).run());
  REVIVE_TRY(tx.commit());
  return token;
}

Result<std::int64_t> StateStore::authenticate_agent(std::string_view token) {
  TRY_ASSIGN(q, db_.prepare("SELECT device_id FROM agent_tokens WHERE token_hash = ?"));
  TRY_ASSIGN(row, q.bind(token_hash(token)).step());
  if (!row) return make_error(Errc::unauthorized, "unknown or expired agent token");
  return q.int64(0);
}

namespace {
struct StepRow {
  std::int64_t id = 0;
  std::int64_t run_id = 0;
  std::string kind;
  std::string params;
  StepState state = StepState::pending;
  std::int64_t attempt = 0;
  std::optional<std::string> error;
  std::optional<std::string> checkpoint;
};
}  // namespace

Json StateStore::wipe_targets(std::int64_t device_id) {
  Json out = Json::array();
  auto q = db_.prepare("SELECT inventory FROM devices WHERE id = ?");
  if (!q) return out;
  auto row = q->bind(device_id).step();
  if (!row || !*row || q->is_null(0)) return out;
  const Json inv = parse_json_column(q->text(0));
  for (const auto& d : inv.is_object() ? inv.value("disks", Json::array()) : Json::array()) {
    if (!d.is_object() || !d.value("name", Json()).is_string()) continue;
    if (d.value("removable", Json(false)) == Json(true) ||
        d.value("transport", Json()) == Json("USB"))
      continue;
    out.push_back({{"name", d["name"]},
                   {"serial", d.value("serial", Json()).is_string() ? d["serial"] : Json("")},
                   {"model", d.value("model", Json()).is_string() ? d["model"] : Json("")}});
  }
  return out;
}

Result<Json> StateStore::next_step(std::int64_t device_id) {
  TRY_ASSIGN(run, active_run(device_id));
  if (!run) return not_found("device " + std::to_string(device_id) + " has no workflow");
  TRY_ASSIGN(tx, Transaction::begin(db_));
  TRY_ASSIGN(rq, db_.prepare("SELECT state, image FROM runs WHERE id = ?"));
  TRY_ASSIGN(rrow, rq.bind(*run).step());
  if (!rrow) return not_found("run vanished");
  const RunState run_state = run_state_from(rq.text(0)).value_or(RunState::failed);
  const auto run_image = rq.opt_text(1);
  TRY_ASSIGN(policy, setting("grading_policy"));
  // The batch's image goes to its deploy step unless the workflow names one itself.
  auto step_params = [&](const StepRow& s) {
    Json params = parse_json_column(s.params);
    if (!params.is_object()) params = Json::object();
    if (s.kind == "deploy" && run_image && !params.contains("image")) params["image"] = *run_image;
    // The workshop's grading policy travels with the test step (the agent parses and applies it).
    if (s.kind == "test" && policy && !params.contains("grading_policy"))
      params["grading_policy"] = *policy;
    // The wipe job names every internal drive by serial, from the inventory the laptop sent:
    // the agent wipes those and nothing else (never USB or removable media).
    if (s.kind == "wipe" && !params.contains("drives")) params["drives"] = wipe_targets(device_id);
    return params;
  };
  TRY_ASSIGN(sq, db_.prepare("SELECT id, kind, params, state, attempt, error, checkpoint FROM "
                             "steps WHERE run_id = ? ORDER BY seq"));
  sq.bind(*run);
  std::vector<StepRow> rows;
  std::vector<StepView> views;
  for (;;) {
    TRY_ASSIGN(r, sq.step());
    if (!r) break;
    StepRow s{sq.int64(0),
              *run,
              sq.text(1),
              sq.text(2),
              step_state_from(sq.text(3)).value_or(StepState::failed),
              sq.int64(4),
              sq.opt_text(5),
              sq.opt_text(6)};
    views.push_back({s.id, s.kind, s.state});
    rows.push_back(std::move(s));
  }
  const NextDecision d = decide_next(run_state, views);
  const std::int64_t now = clock_();
  Json out;
  bool changed = false;
  // Fail closed: no deploy in a run that has a wipe step until that step left a passed laptop
  // certificate (a skipped or failed wipe blocks the deploy).
  if (d.kind == NextDecision::start && rows[*d.step].kind == "deploy") {
    for (const auto& w : rows) {
      if (w.kind != "wipe") continue;
      TRY_ASSIGN(cq, db_.prepare("SELECT result FROM certificates WHERE step_id = ? AND kind = "
                                 "'laptop' ORDER BY id DESC LIMIT 1"));
      TRY_ASSIGN(crow, cq.bind(w.id).step());
      if (!crow || cq.opt_text(0).value_or("") != "passed") {
        const StepRow& s = rows[*d.step];
        out = {{"state", "waiting"},
               {"step", {{"id", s.id}, {"kind", s.kind}, {"state", to_string(s.state)}}},
               {"reason",
                "the deploy needs a passed erasure certificate from this run's wipe step first "
                "(the wipe was skipped or did not pass)"}};
        REVIVE_TRY(tx.commit());
        return out;
      }
    }
  }
  switch (d.kind) {
    case NextDecision::start: {
      StepRow& s = rows[*d.step];
      s.attempt += 1;
      // A new attempt starts from scratch: what the disk holds after a failure is not known.
      TRY_ASSIGN(u, db_.prepare("UPDATE steps SET state = 'running', attempt = ?, started_at = ?, "
                                "deadline = ?, error = NULL, checkpoint = NULL WHERE id = ?"));
      REVIVE_TRY(u.bind(s.attempt, now, now + stall_timeout(s.kind), s.id).run());
      REVIVE_TRY(log_event(device_id, "step-started",
                           {{"step", s.id}, {"kind", s.kind}, {"attempt", s.attempt}}));
      live_[s.id] = LiveStep{device_id, s.kind, now, "{}"};
      out = {{"state", "step"},
             {"step",
              {{"id", s.id},
               {"kind", s.kind},
               {"attempt", s.attempt},
               {"params", step_params(s)},
               {"resumed", false}}}};
      changed = true;
      break;
    }
    case NextDecision::resume: {
      const StepRow& s = rows[*d.step];
      TRY_ASSIGN(u, db_.prepare("UPDATE steps SET deadline = ? WHERE id = ?"));
      REVIVE_TRY(u.bind(now + stall_timeout(s.kind), s.id).run());
      auto& live = live_[s.id];
      live.device = device_id;
      live.kind = s.kind;
      live.last_beat = now;
      if (live.progress.empty()) live.progress = "{}";
      out = {{"state", "step"},
             {"step",
              {{"id", s.id},
               {"kind", s.kind},
               {"attempt", s.attempt},
               {"params", step_params(s)},
               {"resumed", true}}}};
      if (s.checkpoint) out["step"]["checkpoint"] = parse_json_column(*s.checkpoint);
      break;
    }
    case NextDecision::wait: {
      const StepRow& s = rows[*d.step];
      out = {
          {"state", "waiting"},
          {"step", {{"id", s.id}, {"kind", s.kind}, {"state", to_string(s.state)}}},
          {"reason", s.error.value_or("step " + s.kind + " " + std::string(to_string(s.state)))}};
      break;
    }
    case NextDecision::finished: {
      if (run_state != RunState::done) {
        TRY_ASSIGN(u, db_.prepare("UPDATE runs SET state = 'done', finished_at = ? WHERE id = ?"));
        REVIVE_TRY(u.bind(now, *run).run());
        REVIVE_TRY(log_event(device_id, "workflow-done", Json::object()));
        changed = true;
      }
      out = {{"state", "done"}};
      break;
    }
    case NextDecision::cancelled:
      out = {{"state", "cancelled"}};
      break;
  }
  REVIVE_TRY(tx.commit());
  if (changed) notify(device_id);
  return out;
}

Result<void> StateStore::progress(std::int64_t device_id, std::int64_t step_id, const Json& p) {
  auto it = live_.find(step_id);
  if (it == live_.end() || it->second.device != device_id) {
    // Not a running step of this device: say precisely why.
    TRY_ASSIGN(q, db_.prepare("SELECT s.state FROM steps s JOIN runs r ON r.id = s.run_id WHERE "
                              "s.id = ? AND r.device_id = ?"));
    TRY_ASSIGN(row, q.bind(step_id, device_id).step());
    if (!row)
      return not_found("step " + std::to_string(step_id) + " is not one of this device's steps");
    return conflict("step " + std::to_string(step_id) + " is not running (it is " + q.text(0) +
                    ")");
  }
  it->second.last_beat = clock_();
  it->second.progress = p.dump();
  if (on_progress_) on_progress_(device_id, step_id, p);
  return {};
}

Result<void> StateStore::checkpoint(std::int64_t device_id, std::int64_t step_id,
                                    std::int64_t attempt, const Json& cp) {
  TRY_ASSIGN(q, db_.prepare("SELECT s.state, s.attempt FROM steps s JOIN runs r ON r.id = s.run_id "
                            "WHERE s.id = ? AND r.device_id = ?"));
  TRY_ASSIGN(row, q.bind(step_id, device_id).step());
  if (!row)
    return not_found("step " + std::to_string(step_id) + " is not one of this device's steps");
  if (q.text(0) != "running" || q.int64(1) != attempt) {
    return conflict("step " + std::to_string(step_id) + " attempt " + std::to_string(attempt) +
                    " is not the running one");
  }
  TRY_ASSIGN(u, db_.prepare("UPDATE steps SET checkpoint = ? WHERE id = ?"));
  REVIVE_TRY(u.bind(cp.dump(), step_id).run());
  if (auto it = live_.find(step_id); it != live_.end()) it->second.last_beat = clock_();
  return {};
}

Result<Json> StateStore::post_result(std::int64_t device_id, std::int64_t step_id,
                                     std::int64_t attempt, const std::string& status,
                                     const Json& result, const std::string& error,
                                     const std::vector<NewCertificate>& certificates) {
  if (status != "ok" && status != "failed") {
    return make_error(Errc::invalid_input, "status must be \"ok\" or \"failed\"");
  }
  TRY_ASSIGN(tx, Transaction::begin(db_));
  TRY_ASSIGN(
      q,
      db_.prepare(
          "SELECT s.state, s.attempt, s.kind, s.run_id FROM steps s JOIN runs r ON r.id = s.run_id "
          "WHERE s.id = ? AND r.device_id = ?"));
  TRY_ASSIGN(row, q.bind(step_id, device_id).step());
  if (!row)
    return not_found("step " + std::to_string(step_id) + " is not one of this device's steps");
  const std::string state = q.text(0);
  const std::int64_t current_attempt = q.int64(1);
  const std::string kind = q.text(2);
  const std::int64_t run = q.int64(3);
  // Exactly once: a result for this attempt may already be there (the agent retried a POST
  // whose answer it never got).
  TRY_ASSIGN(prev,
             db_.prepare("SELECT status FROM step_results WHERE step_id = ? AND attempt = ?"));
  TRY_ASSIGN(prow, prev.bind(step_id, attempt).step());
  if (prow) {
    if (prev.text(0) == status) return Json{{"recorded", false}, {"duplicate", true}};
    return conflict("step " + std::to_string(step_id) + " attempt " + std::to_string(attempt) +
                    " already has result \"" + prev.text(0) + "\"");
  }
  if (attempt != current_attempt) {
    return conflict("step " + std::to_string(step_id) + " is at attempt " +
                    std::to_string(current_attempt) + ", not " + std::to_string(attempt));
  }
  if (state != "running") {
    return conflict("step " + std::to_string(step_id) + " is not running (it is " + state + ")");
  }
  const std::int64_t now = clock_();
  TRY_ASSIGN(ins, db_.prepare("INSERT INTO step_results(step_id, attempt, status, result, error, "
                              "recorded_at) VALUES (?,?,?,?,?,?)"));
  REVIVE_TRY(ins.bind(step_id, attempt, status, result.dump(), error, now).run());
  for (const auto& c : certificates) {
    TRY_ASSIGN(ci, db_.prepare("INSERT INTO certificates(device_id, step_id, kind, body, "
                               "created_at, cert_id, result) VALUES (?,?,?,?,?,?,?)"));
    REVIVE_TRY(ci.bind(device_id, step_id, c.kind, c.body, now, c.cert_id, c.result).run());
    REVIVE_TRY(log_event(
        device_id, "certificate",
        {{"certificate", c.cert_id}, {"kind", c.kind}, {"result", c.result}, {"step", step_id}}));
  }
  const bool ok = status == "ok";
  TRY_ASSIGN(u, db_.prepare("UPDATE steps SET state = ?, finished_at = ?, error = ? WHERE id = ?"));
  REVIVE_TRY(u.bind(std::string(ok ? "done" : "failed"), now,
                    ok ? std::optional<std::string>() : std::optional<std::string>(error), step_id)
                 .run());
  if (!ok) {
    TRY_ASSIGN(r, db_.prepare("UPDATE runs SET state = 'failed' WHERE id = ?"));
    REVIVE_TRY(r.bind(run).run());
  }
  REVIVE_TRY(
      log_event(device_id, ok ? "step-done" : "step-failed",
                {{"step", step_id}, {"kind", kind}, {"attempt", attempt}, {"error", error}}));
  REVIVE_TRY(tx.commit());
  live_.erase(step_id);
  notify(device_id);
  return Json{{"recorded", true}};
}

Result<std::string> StateStore::step_kind(std::int64_t device_id, std::int64_t step_id) {
  TRY_ASSIGN(q, db_.prepare("SELECT s.kind FROM steps s JOIN runs r ON r.id = s.run_id WHERE s.id "
                            "= ? AND r.device_id = ?"));
  TRY_ASSIGN(row, q.bind(step_id, device_id).step());
  if (!row)
    return not_found("step " + std::to_string(step_id) + " is not one of this device's steps");
  return q.text(0);
}

Result<Json> StateStore::certificate_facts(std::int64_t device_id) {
  TRY_ASSIGN(q, db_.prepare("SELECT d.vendor, d.model, d.serial, d.system_uuid, d.inventory, "
                            "b.name, b.donor FROM devices d "
                            "LEFT JOIN batches b ON b.id = d.batch_id WHERE d.id = ?"));
  TRY_ASSIGN(row, q.bind(device_id).step());
  if (!row) return not_found("device " + std::to_string(device_id) + " does not exist");
  std::string asset_tag;
  if (auto inv = q.opt_text(4)) {
    const Json j = parse_json_column(*inv);
    const Json chassis = j.is_object()
                             ? j.value("smbios", Json::object()).value("chassis", Json::object())
                             : Json::object();
    if (chassis.contains("asset_tag") && chassis["asset_tag"].is_string())
      asset_tag = chassis["asset_tag"];
  }
  Json batch;
  if (auto name = q.opt_text(5)) batch = {{"name", *name}, {"donor", q.opt_text(6).value_or("")}};
  return Json{{"device",
               {{"device_id", device_id},
                {"vendor", q.text(0)},
                {"model", q.text(1)},
                {"serial", q.text(2)},
                {"system_uuid", q.text(3)},
                {"asset_tag", asset_tag}}},
              {"donor_batch", batch}};
}

Result<Json> StateStore::list_certificates(std::int64_t device_id) {
  TRY_ASSIGN(q, db_.prepare("SELECT cert_id, kind, result, step_id, created_at FROM certificates "
                            "WHERE device_id = ? ORDER BY id DESC"));
  q.bind(device_id);
  Json out = Json::array();
  for (;;) {
    TRY_ASSIGN(row, q.step());
    if (!row) break;
    out.push_back({{"cert_id", q.opt_text(0).value_or("")},
                   {"kind", q.text(1)},
                   {"result", q.opt_text(2).value_or("")},
                   {"step", q.opt_int64(3) ? Json(*q.opt_int64(3)) : Json()},
                   {"created_at", q.int64(4)}});
  }
  return out;
}

Result<std::string> StateStore::certificate(const std::string& cert_id) {
  TRY_ASSIGN(q, db_.prepare("SELECT body FROM certificates WHERE cert_id = ?"));
  TRY_ASSIGN(row, q.bind(cert_id).step());
  if (!row) return not_found("no certificate " + cert_id);
  return q.text(0);
}

Result<Json> StateStore::certificate_origin(const std::string& cert_id) {
  TRY_ASSIGN(q, db_.prepare(
                    "SELECT device_id, step_id, kind, result FROM certificates WHERE cert_id = ?"));
  TRY_ASSIGN(row, q.bind(cert_id).step());
  if (!row) return not_found("no certificate " + cert_id);
  return Json{{"device_id", q.int64(0)},
              {"step_id", q.opt_int64(1) ? Json(*q.opt_int64(1)) : Json()},
              {"kind", q.text(2)},
              {"result", q.opt_text(3).value_or("")}};
}

Result<void> StateStore::add_certificate(std::int64_t device_id, std::int64_t step_id,
                                         const NewCertificate& c, const std::string& who) {
  TRY_ASSIGN(tx, Transaction::begin(db_));
  TRY_ASSIGN(ci, db_.prepare("INSERT INTO certificates(device_id, step_id, kind, body, created_at, "
                             "cert_id, result) VALUES (?,?,?,?,?,?,?)"));
  REVIVE_TRY(ci.bind(device_id, step_id, c.kind, c.body, clock_(), c.cert_id, c.result).run());
  REVIVE_TRY(log_event(device_id, "certificate",
                       {{"certificate", c.cert_id},
                        {"kind", c.kind},
                        {"result", c.result},
                        {"step", step_id},
                        {"by", who}}));
  REVIVE_TRY(tx.commit());
  notify(device_id);
  return {};
}

Result<Json> StateStore::batch_certificates(const std::string& batch) {
  TRY_ASSIGN(bq, db_.prepare("SELECT id FROM batches WHERE name = ?"));
  TRY_ASSIGN(brow, bq.bind(batch).step());
  if (!brow) return not_found("no batch " + batch);
  TRY_ASSIGN(
      q,
      db_.prepare(
          "SELECT d.id, c.cert_id, c.result, c.body FROM devices d JOIN certificates c ON c.id = "
          "(SELECT MAX(id) FROM certificates WHERE device_id = d.id AND kind = 'laptop') WHERE "
          "d.batch_id = ? ORDER BY d.id"));
  q.bind(bq.int64(0));
  Json out = Json::array();
  for (;;) {
    TRY_ASSIGN(row, q.step());
    if (!row) break;
    out.push_back({{"device_id", q.int64(0)},
                   {"cert_id", q.opt_text(1).value_or("")},
                   {"result", q.opt_text(2).value_or("")},
                   {"body", q.text(3)}});
  }
  return out;
}

Result<void> StateStore::add_events(std::int64_t device_id, const Json& events) {
  if (!events.is_array() || events.size() > 100)
    return make_error(Errc::invalid_input, "\"events\" must be an array of at most 100 events");
  TRY_ASSIGN(tx, Transaction::begin(db_));
  for (const auto& e : events) {
    if (!e.is_object()) return make_error(Errc::invalid_input, "each event must be an object");
    REVIVE_TRY(log_event(device_id, "agent", e));
  }
  return tx.commit();
}

Result<std::vector<std::int64_t>> StateStore::expire_deadlines() {
  const std::int64_t now = clock_();
  std::vector<std::pair<std::int64_t, LiveStep>> late;
  for (const auto& [step, live] : live_) {
    if (now - live.last_beat > stall_timeout(live.kind)) late.emplace_back(step, live);
  }
  std::vector<std::int64_t> devices;
  for (const auto& [step, l] : late) {
    TRY_ASSIGN(tx, Transaction::begin(db_));
    const std::string why = "no progress from the agent for " +
                            std::to_string(stall_timeout(l.kind)) + " s: the " + l.kind +
                            " step passed its deadline";
    TRY_ASSIGN(u, db_.prepare("UPDATE steps SET state = 'failed', finished_at = ?, error = ? WHERE "
                              "id = ? AND state = 'running'"));
    REVIVE_TRY(u.bind(now, why, step).run());
    const bool changed = db_.changes() > 0;
    if (changed) {
      TRY_ASSIGN(r, db_.prepare("UPDATE runs SET state = 'failed' WHERE id = (SELECT run_id FROM "
                                "steps WHERE id = ?)"));
      REVIVE_TRY(r.bind(step).run());
      REVIVE_TRY(log_event(l.device, "step-timed-out",
                           {{"step", step}, {"kind", l.kind}, {"error", why}}));
    }
    REVIVE_TRY(tx.commit());
    live_.erase(step);
    if (changed) {
      devices.push_back(l.device);
      notify(l.device);
    }
  }
  return devices;
}

Result<void> StateStore::load_running_steps() {
  TRY_ASSIGN(q, db_.prepare("SELECT s.id, s.kind, r.device_id FROM steps s JOIN runs r ON r.id = "
                            "s.run_id WHERE s.state = 'running'"));
  const std::int64_t now = clock_();
  for (;;) {
    TRY_ASSIGN(row, q.step());
    if (!row) break;
    live_[q.int64(0)] = LiveStep{q.int64(2), q.text(1), now, "{}"};
  }
  return {};
}

// ---------------------------------------------------------------- operator actions

namespace {
struct StepOwner {
  std::int64_t device = 0;
  std::int64_t run = 0;
  StepState state = StepState::pending;
  std::string kind;
};
Result<StepOwner> step_owner(Database& db, std::int64_t step_id) {
  TRY_ASSIGN(q, db.prepare("SELECT r.device_id, s.run_id, s.state, s.kind FROM steps s JOIN runs r "
                           "ON r.id = s.run_id WHERE s.id = ?"));
  TRY_ASSIGN(row, q.bind(step_id).step());
  if (!row) return not_found("step " + std::to_string(step_id) + " does not exist");
  return StepOwner{q.int64(0), q.int64(1), step_state_from(q.text(2)).value_or(StepState::failed),
                   q.text(3)};
}
}  // namespace

Result<std::int64_t> StateStore::retry_step(std::int64_t step_id, const std::string& who) {
  TRY_ASSIGN(tx, Transaction::begin(db_));
  TRY_ASSIGN(o, step_owner(db_, step_id));
  if (auto why = check_retry(o.state)) return conflict(*why);
  TRY_ASSIGN(u, db_.prepare("UPDATE steps SET state = 'pending', error = NULL WHERE id = ?"));
  REVIVE_TRY(u.bind(step_id).run());
  TRY_ASSIGN(r, db_.prepare("UPDATE runs SET state = 'running', finished_at = NULL WHERE id = ?"));
  REVIVE_TRY(r.bind(o.run).run());
  REVIVE_TRY(
      log_event(o.device, "step-retry", {{"step", step_id}, {"kind", o.kind}, {"operator", who}}));
  REVIVE_TRY(tx.commit());
  notify(o.device);
  return o.device;
}

Result<std::int64_t> StateStore::skip_step(std::int64_t step_id, const std::string& who) {
  TRY_ASSIGN(tx, Transaction::begin(db_));
  TRY_ASSIGN(o, step_owner(db_, step_id));
  if (auto why = check_skip(o.state)) return conflict(*why);
  TRY_ASSIGN(u, db_.prepare("UPDATE steps SET state = 'skipped', finished_at = ? WHERE id = ?"));
  REVIVE_TRY(u.bind(clock_(), step_id).run());
  TRY_ASSIGN(r, db_.prepare("UPDATE runs SET state = 'running' WHERE id = ? AND state = 'failed'"));
  REVIVE_TRY(r.bind(o.run).run());
  REVIVE_TRY(log_event(o.device, "step-skipped",
                       {{"step", step_id}, {"kind", o.kind}, {"operator", who}}));
  REVIVE_TRY(tx.commit());
  live_.erase(step_id);
  notify(o.device);
  return o.device;
}

Result<void> StateStore::cancel_device(std::int64_t device_id, const std::string& who) {
  TRY_ASSIGN(run, active_run(device_id));
  if (!run) return not_found("device " + std::to_string(device_id) + " has no workflow");
  TRY_ASSIGN(tx, Transaction::begin(db_));
  TRY_ASSIGN(r, db_.prepare("UPDATE runs SET state = 'cancelled', finished_at = ? WHERE id = ? AND "
                            "state IN ('running','failed')"));
  REVIVE_TRY(r.bind(clock_(), *run).run());
  if (db_.changes() == 0)
    return conflict("device " + std::to_string(device_id) + "'s workflow already ended");
  TRY_ASSIGN(s, db_.prepare("UPDATE steps SET state = 'cancelled' WHERE run_id = ? AND state IN "
                            "('pending','running')"));
  REVIVE_TRY(s.bind(*run).run());
  REVIVE_TRY(log_event(device_id, "workflow-cancelled", {{"operator", who}}));
  REVIVE_TRY(tx.commit());
  std::erase_if(live_, [&](const auto& kv) { return kv.second.device == device_id; });
  notify(device_id);
  return {};
}

Result<void> StateStore::restart_device(std::int64_t device_id, const std::string& who) {
  TRY_ASSIGN(run, active_run(device_id));
  TRY_ASSIGN(tx, Transaction::begin(db_));
  if (run) {
    TRY_ASSIGN(r, db_.prepare("SELECT state FROM runs WHERE id = ?"));
    TRY_ASSIGN(row, r.bind(*run).step());
    if (row && (r.text(0) == "running" || r.text(0) == "failed")) {
      return conflict("device " + std::to_string(device_id) +
                      " still has a workflow in progress; cancel it first");
    }
  }
  REVIVE_TRY(create_run(device_id));
  REVIVE_TRY(log_event(device_id, "workflow-restarted", {{"operator", who}}));
  REVIVE_TRY(tx.commit());
  notify(device_id);
  return {};
}

// ---------------------------------------------------------------- queries

Json StateStore::live_progress(std::int64_t step_id) const {
  auto it = live_.find(step_id);
  return it == live_.end() || it->second.progress.empty() ? Json::object()
                                                          : parse_json_column(it->second.progress);
}

Result<Json> StateStore::device_summary(std::int64_t device_id) {
  TRY_ASSIGN(
      q, db_.prepare("SELECT d.id, d.system_uuid, d.serial, d.model, d.vendor, d.macs, "
                     "d.last_seen, b.name, r.id, r.state, w.name "
                     "FROM devices d LEFT JOIN batches b ON b.id = d.batch_id "
                     "LEFT JOIN runs r ON r.id = (SELECT MAX(id) FROM runs WHERE device_id = d.id) "
                     "LEFT JOIN workflows w ON w.id = r.workflow_id WHERE d.id = ?"));
  TRY_ASSIGN(row, q.bind(device_id).step());
  if (!row) return not_found("device " + std::to_string(device_id) + " does not exist");
  Json j = {{"id", q.int64(0)},
            {"system_uuid", q.text(1)},
            {"serial", q.text(2)},
            {"model", q.text(3)},
            {"vendor", q.text(4)},
            {"macs", parse_json_column(q.text(5))},
            {"last_seen", q.int64(6)},
            {"batch", q.opt_text(7) ? Json(*q.opt_text(7)) : Json()},
            {"state", q.opt_text(9) ? Json(*q.opt_text(9)) : Json("idle")},
            {"workflow", q.opt_text(10) ? Json(*q.opt_text(10)) : Json()}};
  if (auto run = q.opt_int64(8)) {
    TRY_ASSIGN(
        s, db_.prepare(
               "SELECT id, kind, state, attempt, error FROM steps WHERE run_id = ? ORDER BY seq"));
    s.bind(*run);
    Json steps = Json::array();
    Json current;
    for (;;) {
      TRY_ASSIGN(srow, s.step());
      if (!srow) break;
      Json st = {
          {"id", s.int64(0)}, {"kind", s.text(1)}, {"state", s.text(2)}, {"attempt", s.int64(3)}};
      if (auto e = s.opt_text(4)) st["error"] = *e;
      if (current.is_null() && s.text(2) != "done" && s.text(2) != "skipped") {
        current = st;
        current["progress"] = live_progress(s.int64(0));
      }
      steps.push_back(std::move(st));
    }
    j["steps"] = std::move(steps);
    j["current"] = current;
  }
  // The latest grade a test step reported, for dashboards and `revivectl watch`.
  TRY_ASSIGN(g, db_.prepare("SELECT json_extract(sr.result, '$.grading.grade') FROM step_results "
                            "sr JOIN steps s ON s.id = sr.step_id "
                            "JOIN runs r ON r.id = s.run_id WHERE r.device_id = ? AND s.kind = "
                            "'test' AND sr.status = 'ok' ORDER BY sr.id DESC LIMIT 1"));
  TRY_ASSIGN(grow, g.bind(device_id).step());
  j["grade"] = grow && !g.is_null(0) ? Json(g.text(0)) : Json();
  return j;
}

Result<Json> StateStore::list_devices() {
  TRY_ASSIGN(q, db_.prepare("SELECT id FROM devices ORDER BY id"));
  std::vector<std::int64_t> ids;
  for (;;) {
    TRY_ASSIGN(row, q.step());
    if (!row) break;
    ids.push_back(q.int64(0));
  }
  Json out = Json::array();
  for (auto id : ids) {
    TRY_ASSIGN(s, device_summary(id));
    out.push_back(std::move(s));
  }
  return out;
}

Result<Json> StateStore::device(std::int64_t device_id) {
  TRY_ASSIGN(j, device_summary(device_id));
  TRY_ASSIGN(q, db_.prepare("SELECT sr.step_id, s.kind, sr.attempt, sr.status, sr.result, "
                            "sr.error, sr.recorded_at FROM step_results sr "
                            "JOIN steps s ON s.id = sr.step_id JOIN runs r ON r.id = s.run_id "
                            "WHERE r.device_id = ? ORDER BY sr.id"));
  q.bind(device_id);
  Json results = Json::array();
  for (;;) {
    TRY_ASSIGN(row, q.step());
    if (!row) break;
    results.push_back({{"step", q.int64(0)},
                       {"kind", q.text(1)},
                       {"attempt", q.int64(2)},
                       {"status", q.text(3)},
                       {"result", parse_json_column(q.text(4))},
                       {"error", q.text(5)},
                       {"recorded_at", q.int64(6)}});
  }
  j["results"] = std::move(results);
  TRY_ASSIGN(inv, db_.prepare("SELECT inventory FROM devices WHERE id = ?"));
  TRY_ASSIGN(irow, inv.bind(device_id).step());
  if (irow && !inv.is_null(0)) j["inventory"] = parse_json_column(inv.text(0));
  return j;
}

Result<Json> StateStore::events_since(std::int64_t after_id, int limit) {
  TRY_ASSIGN(
      q, db_.prepare(
             "SELECT id, at, device_id, kind, data FROM events WHERE id > ? ORDER BY id LIMIT ?"));
  q.bind(after_id, std::clamp(limit, 1, 1000));
  Json out = Json::array();
  for (;;) {
    TRY_ASSIGN(row, q.step());
    if (!row) break;
    out.push_back({{"id", q.int64(0)},
                   {"at", q.int64(1)},
                   {"device", q.opt_int64(2) ? Json(*q.opt_int64(2)) : Json()},
                   {"kind", q.text(3)},
                   {"data", parse_json_column(q.text(4))}});
  }
  return out;
}

Result<std::map<std::string, std::int64_t>> StateStore::device_counts_by_state() {
  TRY_ASSIGN(q, db_.prepare("SELECT COALESCE(r.state, 'idle'), COUNT(*) FROM devices d "
                            "LEFT JOIN runs r ON r.id = (SELECT MAX(id) FROM runs WHERE device_id "
                            "= d.id) GROUP BY 1"));
  std::map<std::string, std::int64_t> out{
      {"running", 0}, {"failed", 0}, {"done", 0}, {"cancelled", 0}};
  for (;;) {
    TRY_ASSIGN(row, q.step());
    if (!row) break;
    out[q.text(0)] = q.int64(1);
  }
  return out;
}

// ---------------------------------------------------------------- operators

Result<void> StateStore::add_operator(const std::string& name, const std::string& password) {
  if (name.empty() || name.size() > 64)
    return make_error(Errc::invalid_input, "operator name must be 1-64 characters");
  if (password.size() < 8)
    return make_error(Errc::invalid_input, "password must be at least 8 characters");
  char hash[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(hash, password.data(), password.size(),
                            crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return make_error(Errc::internal, "argon2id hashing failed (out of memory?)");
  }
  TRY_ASSIGN(q,
             db_.prepare("INSERT INTO operators(name, password_hash, created_at) VALUES (?,?,?) "
                         "ON CONFLICT(name) DO UPDATE SET password_hash = excluded.password_hash"));
  return q.bind(name, std::string(hash), clock_()).run();
}

Result<std::int64_t> StateStore::operator_count() {
  TRY_ASSIGN(q, db_.prepare("SELECT COUNT(*) FROM operators"));
  TRY_ASSIGN(row, q.step());
  return row ? q.int64(0) : 0;
}

Result<std::string> StateStore::login(const std::string& name, const std::string& password) {
  TRY_ASSIGN(q, db_.prepare("SELECT id, password_hash FROM operators WHERE name = ?"));
  TRY_ASSIGN(row, q.bind(name).step());
  const Error denied = make_error(Errc::unauthorized, "wrong operator name or password");
  if (!row) return denied;
  const std::string hash = q.text(1);
  if (crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) != 0) return denied;
  const std::string token = new_token();
  TRY_ASSIGN(i, db_.prepare("INSERT INTO operator_tokens(token_hash, operator_id, kind, "
                            "created_at, expires_at) VALUES (?,?,?,?,?)"));
  REVIVE_TRY(
      i.bind(token_hash(token), q.int64(0), "session", clock_(), clock_() + opts_.session_ttl_s)
          .run());
  return token;
}

Result<std::string> StateStore::create_api_token(const std::string& operator_name,
                                                 const std::string& label) {
  TRY_ASSIGN(q, db_.prepare("SELECT id FROM operators WHERE name = ?"));
  TRY_ASSIGN(row, q.bind(operator_name).step());
  if (!row) return not_found("no operator named \"" + operator_name + "\"");
  const std::string token = new_token();
  TRY_ASSIGN(i, db_.prepare("INSERT INTO operator_tokens(token_hash, operator_id, kind, label, "
                            "created_at) VALUES (?,?,?,?,?)"));
  REVIVE_TRY(i.bind(token_hash(token), q.int64(0), "api", label, clock_()).run());
  return token;
}

Result<std::string> StateStore::authenticate_operator(std::string_view token) {
  TRY_ASSIGN(q, db_.prepare("SELECT o.name, t.expires_at FROM operator_tokens t JOIN operators o "
                            "ON o.id = t.operator_id WHERE t.token_hash = ?"));
  TRY_ASSIGN(row, q.bind(token_hash(token)).step());
  if (!row) return make_error(Errc::unauthorized, "unknown operator token");
  if (auto exp = q.opt_int64(1); exp && *exp < clock_())
    return make_error(Errc::unauthorized, "session expired: log in again");
  return q.text(0);
}

}  // namespace revive::server
