// Devices, agent tokens and boot tokens in SQLite.
#include "storage/sqlite/columns.hpp"
#include "storage/sqlite/repositories.hpp"

namespace revive::server::sqlite {

namespace {

constexpr const char* kDeviceColumns =
    "SELECT d.id, d.system_uuid, d.serial, d.model, d.vendor, d.macs, d.batch_id, d.workflow_id, "
    "d.first_seen, d.last_seen, d.disk_serials, d.flag, d.intake_operator FROM devices d ";

DeviceRow device_row(const Statement& q) {
  DeviceRow d;
  d.id = q.int64(0);
  d.system_uuid = q.text(1);
  d.serial = q.text(2);
  d.model = q.text(3);
  d.vendor = q.text(4);
  d.macs = json_column(q.text(5));
  d.batch_id = q.opt_int64(6);
  d.workflow_id = q.opt_int64(7);
  d.first_seen = q.int64(8);
  d.last_seen = q.int64(9);
  d.disk_serials = json_column(q.text(10));
  if (!d.disk_serials.is_array()) d.disk_serials = Json::array();
  d.flag = q.opt_text(11);
  d.intake_operator = q.opt_text(12);
  return d;
}

Result<std::vector<DeviceRow>> all_devices(Statement& q) { return all_rows(q, device_row); }

std::optional<std::string> inventory_text(const std::optional<Json>& inventory) {
  if (!inventory || inventory->is_null()) return std::nullopt;
  return inventory->dump();
}

Error no_device(std::int64_t id) {
  return make_error(Errc::not_found, "device " + std::to_string(id) + " does not exist");
}

}  // namespace

Result<std::int64_t> SqliteDevices::insert(const NewDevice& d) {
  REVIVE_SQL_ASSIGN(q, db_.prepare("INSERT INTO devices(system_uuid, serial, model, vendor, macs, "
                                   "inventory, batch_id, first_seen, last_seen, disk_serials, "
                                   "intake_operator) VALUES (?,?,?,?,?,?,?,?,?,?,?)"));
  REVIVE_TRY(q.bind(d.system_uuid, d.serial, d.model, d.vendor, d.macs.dump(),
                    inventory_text(d.inventory), d.batch_id, d.seen_at, d.seen_at,
                    d.disk_serials.dump(), d.intake_operator)
                 .run());
  return db_.last_insert_id();
}

std::string SqliteDevices::identity_candidates_sql() {
  // `+d.model`: no index for that term, so the planner looks the few candidate ids up by rowid
  // instead of walking every laptop of the model (a workshop's hundreds of one model made
  // each enrolment a scan: issue 19's 1,000-laptop start).
  return std::string(kDeviceColumns) +
         "WHERE +d.model = ?1 AND d.id IN ("
         "SELECT id FROM devices WHERE ?2 <> '' AND model = ?1 AND system_uuid = ?2 "
         "UNION SELECT id FROM devices WHERE ?3 <> '' AND model = ?1 AND serial = ?3 "
         "UNION SELECT s.device_id FROM json_each(?4) b "
         "JOIN device_disk_serials s ON s.serial = b.value) "
         "ORDER BY d.last_seen DESC, d.id DESC LIMIT 100";
}

Result<std::vector<DeviceRow>> SqliteDevices::identity_candidates(const std::string& model,
                                                                  const std::string& system_uuid,
                                                                  const std::string& serial,
                                                                  const Json& disk_serials) {
  REVIVE_SQL_ASSIGN(q, db_.prepare(identity_candidates_sql()));
  q.bind(model, system_uuid, serial, disk_serials.dump());
  return all_devices(q);
}

Result<std::optional<DeviceRow>> SqliteDevices::find(std::int64_t id) {
  REVIVE_SQL_ASSIGN(q, db_.prepare(std::string(kDeviceColumns) + "WHERE d.id = ?"));
  return one_row(q.bind(id), device_row);
}

Result<std::vector<DeviceRow>> SqliteDevices::find_by_mac(const std::string& mac, int limit) {
  REVIVE_SQL_ASSIGN(q, db_.prepare(std::string(kDeviceColumns) +
                                   "WHERE d.id IN (SELECT device_id FROM device_macs WHERE "
                                   "mac = lower(?)) "
                                   "ORDER BY d.last_seen DESC, d.id DESC LIMIT ?"));
  q.bind(mac, limit);
  return all_devices(q);
}

Result<std::vector<std::int64_t>> SqliteDevices::ids() {
  REVIVE_SQL_ASSIGN(q, db_.prepare("SELECT id FROM devices ORDER BY id"));
  return all_rows(q, [](const Statement& r) { return r.int64(0); });
}

Result<void> SqliteDevices::record_sighting(std::int64_t id, const Sighting& s) {
  REVIVE_SQL_ASSIGN(q, db_.prepare("UPDATE devices SET macs = ?, inventory = COALESCE(?, "
                                   "inventory), last_seen = ?, vendor = ?, disk_serials = "
                                   "COALESCE(?, disk_serials) WHERE id = ?"));
  std::optional<std::string> disks;
  if (s.disk_serials) disks = s.disk_serials->dump();
  REVIVE_TRY(q.bind(s.macs.dump(), inventory_text(s.inventory), s.at, s.vendor, disks, id).run());
  if (db_.changes() == 0) return no_device(id);
  return {};
}

Result<void> SqliteDevices::set_flag(std::int64_t id, const std::optional<std::string>& flag) {
  REVIVE_SQL_ASSIGN(q, db_.prepare("UPDATE devices SET flag = ? WHERE id = ?"));
  REVIVE_TRY(q.bind(flag, id).run());
  if (db_.changes() == 0) return no_device(id);
  return {};
}

Result<void> SqliteDevices::set_batch(std::int64_t id, std::int64_t batch_id) {
  REVIVE_SQL_ASSIGN(q, db_.prepare("UPDATE devices SET batch_id = ? WHERE id = ?"));
  REVIVE_TRY(q.bind(batch_id, id).run());
  if (db_.changes() == 0) return no_device(id);
  return {};
}

Result<void> SqliteDevices::set_workflow(std::int64_t id, std::int64_t workflow_id) {
  REVIVE_SQL_ASSIGN(q, db_.prepare("UPDATE devices SET workflow_id = ? WHERE id = ?"));
  REVIVE_TRY(q.bind(workflow_id, id).run());
  if (db_.changes() == 0) return no_device(id);
  return {};
}

Result<std::optional<Json>> SqliteDevices::inventory(std::int64_t id) {
  REVIVE_SQL_ASSIGN(q, db_.prepare("SELECT inventory FROM devices WHERE id = ?"));
  REVIVE_SQL_ASSIGN(row, q.bind(id).step());
  if (!row || q.is_null(0)) return std::optional<Json>();
  return std::optional<Json>(json_column(q.text(0)));
}

Result<std::vector<std::pair<std::optional<RunState>, std::int64_t>>>
SqliteDevices::count_by_run_state() {
  REVIVE_SQL_ASSIGN(q, db_.prepare("SELECT r.state, COUNT(*) FROM devices d LEFT JOIN runs r ON "
                                   "r.id = (SELECT MAX(id) FROM runs WHERE device_id = d.id) "
                                   "GROUP BY 1"));
  std::vector<std::pair<std::optional<RunState>, std::int64_t>> out;
  for (;;) {
    REVIVE_SQL_ASSIGN(row, q.step());
    if (!row) break;
    const auto state = q.opt_text(0);
    out.emplace_back(state ? std::optional<RunState>(run_state_column(*state)) : std::nullopt,
                     q.int64(1));
  }
  return out;
}

Result<void> SqliteAgentTokens::revoke_device(std::int64_t device_id) {
  REVIVE_SQL_ASSIGN(q, db_.prepare("DELETE FROM agent_tokens WHERE device_id = ?"));
  return q.bind(device_id).run();
}

Result<void> SqliteAgentTokens::add(const std::string& token_hash, std::int64_t device_id,
                                    Seconds now) {
  REVIVE_SQL_ASSIGN(
      q, db_.prepare("INSERT INTO agent_tokens(token_hash, device_id, created_at) VALUES (?,?,?)"));
  return q.bind(token_hash, device_id, now).run();
}

Result<std::optional<std::int64_t>> SqliteAgentTokens::device(const std::string& token_hash) {
  REVIVE_SQL_ASSIGN(q, db_.prepare("SELECT device_id FROM agent_tokens WHERE token_hash = ?"));
  return one_row(q.bind(token_hash), [](const Statement& s) { return s.int64(0); });
}

Result<void> SqliteBootTokens::add(const BootTokenRow& t) {
  REVIVE_SQL_ASSIGN(
      q, db_.prepare("INSERT INTO boot_tokens(token_hash, mac, issued_at, used_at) VALUES "
                     "(?,?,?,?)"));
  return q.bind(t.token_hash, t.mac, t.issued_at, t.used_at).run();
}

Result<std::optional<BootTokenRow>> SqliteBootTokens::find(const std::string& token_hash) {
  REVIVE_SQL_ASSIGN(q,
                    db_.prepare("SELECT token_hash, mac, issued_at, used_at FROM boot_tokens WHERE "
                                "token_hash = ?"));
  return one_row(q.bind(token_hash), [](const Statement& s) {
    return BootTokenRow{s.text(0), s.text(1), s.int64(2), s.opt_int64(3)};
  });
}

Result<void> SqliteBootTokens::mark_used(const std::string& token_hash, Seconds at) {
  REVIVE_SQL_ASSIGN(q, db_.prepare("UPDATE boot_tokens SET used_at = ? WHERE token_hash = ?"));
  return q.bind(at, token_hash).run();
}

Result<void> SqliteBootTokens::prune(Seconds issued_before, const std::string& mac,
                                     int keep_per_mac, int keep_total) {
  REVIVE_SQL_ASSIGN(
      q, db_.prepare("DELETE FROM boot_tokens WHERE issued_at < ? OR (mac = ? AND token_hash NOT "
                     "IN (SELECT token_hash FROM boot_tokens WHERE mac = ? ORDER BY issued_at "
                     "DESC LIMIT ?)) OR token_hash NOT IN (SELECT token_hash FROM boot_tokens "
                     "ORDER BY issued_at DESC LIMIT ?)"));
  return q.bind(issued_before, mac, mac, keep_per_mac, keep_total).run();
}

}  // namespace revive::server::sqlite
