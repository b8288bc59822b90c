#pragma once
// The server's persistent state: devices, batches, workflows, runs and steps, step results,
// the append-only event log, operators and tokens, in SQLite (WAL). Every change is one
// transaction, so a crash at any point leaves the state of before or after it.
//
// Not thread-safe: owned by the io_context thread (see docs/ARCHITECTURE.md).

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "revive/error.hpp"
#include "sqlite.hpp"
#include "workflow.hpp"

namespace revive::server {

using Json = nlohmann::json;
using Clock = std::function<std::int64_t()>;  ///< seconds since the epoch

/// Who a laptop is: firmware identity, never the MAC (docks and pass-through lie).
struct Identity {
  std::string system_uuid;
  std::string serial;
  std::string model;
  std::string vendor;
};

struct EnrolResult {
  std::int64_t device_id = 0;
  std::string agent_token;
  bool new_device = false;
};

/// A signed certificate to store together with the step result that produced it.
struct NewCertificate {
  std::string cert_id;
  std::string kind;    ///< "drive" or "laptop"
  std::string result;  ///< "passed", "failed" or "unverified"
  std::string body;    ///< the signed document text
};

struct StateOptions {
  std::map<std::string, std::int64_t> stall_timeout_s;  ///< per step kind; default below
  std::int64_t default_stall_timeout_s = 600;
  std::int64_t session_ttl_s = 12 * 3600;
};

class StateStore {
 public:
  /// Opens or creates the database and runs pending schema migrations.
  static Result<std::unique_ptr<StateStore>> open(const std::filesystem::path& db_path, Clock clock,
                                                  StateOptions opts = {});

  // ---- agents ----
  /// Finds or creates the device, records MACs/inventory, issues a new per-boot token (older
  /// tokens of the device stop working), and makes sure it has a workflow run.
  /// `boot_token` (from the kernel command line of a network-booted agent, may be empty) must be
  /// one this server issued in a boot script; the boot is then logged with its MAC.
  Result<EnrolResult> enrol(const Identity& id, const Json& macs, const Json& inventory,
                            const std::string& boot_token = "");

  /// What a network-booting laptop with this MAC should boot: the live agent, or its local disk
  /// when its newest workflow run is done (so a finished laptop that reboots is not wiped again).
  struct BootDecision {
    std::optional<std::int64_t> device_id;
    bool boot_local = false;
    std::string reason;
  };
  Result<BootDecision> boot_decision(const std::string& mac);
  /// Records in the device's event log which boot script it was handed ("live-agent" or
  /// "local-disk").
  Result<void> record_boot_script(std::int64_t device_id, const std::string& mac,
                                  const std::string& script);
  /// A fresh single-boot token for a live-agent boot script (stored hashed with the MAC).
  Result<std::string> issue_boot_token(const std::string& mac);
  /// Device id for an agent token; unauthorized otherwise.
  Result<std::int64_t> authenticate_agent(std::string_view token);
  /// {"state":"step","step":{id,kind,attempt,params,resumed}} | {"state":"waiting",...} |
  /// {"state":"done"} | {"state":"cancelled"}
  Result<Json> next_step(std::int64_t device_id);
  /// Records progress of a running step (kept in memory; extends its deadline).
  Result<void> progress(std::int64_t device_id, std::int64_t step_id, const Json& progress);
  /// Persists where a running step had got to (the agent's own JSON); returned with the step
  /// when the agent resumes it. conflict unless that attempt is the running one.
  Result<void> checkpoint(std::int64_t device_id, std::int64_t step_id, std::int64_t attempt,
                          const Json& cp);
  /// Records the result of a step exactly once: {"recorded":true} the first time,
  /// {"recorded":false,"duplicate":true} for the same answer again, conflict otherwise.
  /// Certificates, when given, are stored in the same transaction (a wipe result and its
  /// certificates exist together or not at all).
  Result<Json> post_result(std::int64_t device_id, std::int64_t step_id, std::int64_t attempt,
                           const std::string& status, const Json& result, const std::string& error,
                           const std::vector<NewCertificate>& certificates = {});
  /// The kind of one of the device's steps ("wipe", "deploy", ...).
  Result<std::string> step_kind(std::int64_t device_id, std::int64_t step_id);
  /// What a certificate says about the device: {device: {...}, donor_batch: {name, donor}|null}.
  Result<Json> certificate_facts(std::int64_t device_id);
  /// The device's certificates, newest first: [{cert_id, kind, result, step, created_at}].
  Result<Json> list_certificates(std::int64_t device_id);
  /// A certificate's signed document text; not_found when there is none with that id.
  Result<std::string> certificate(const std::string& cert_id);
  /// Where a certificate belongs: {device_id, step_id, kind, result}.
  Result<Json> certificate_origin(const std::string& cert_id);
  /// Stores a further certificate for the same device and step (a re-verification supersedes
  /// an earlier one; nothing is ever changed or deleted).
  Result<void> add_certificate(std::int64_t device_id, std::int64_t step_id,
                               const NewCertificate& c, const std::string& who);
  /// The newest laptop certificate of every device in a batch: [{device_id, cert_id, result,
  /// body}].
  Result<Json> batch_certificates(const std::string& batch);
  /// Appends agent events to the log.
  Result<void> add_events(std::int64_t device_id, const Json& events);
  /// Fails running steps whose deadline passed; returns the affected device ids.
  Result<std::vector<std::int64_t>> expire_deadlines();
  /// After a restart: every running step gets a fresh deadline (downtime is not the agent's
  /// fault) and is tracked in memory again.
  Result<void> load_running_steps();

  // ---- operators: actions ----
  Result<std::int64_t> retry_step(std::int64_t step_id, const std::string& who);
  Result<std::int64_t> skip_step(std::int64_t step_id, const std::string& who);
  Result<void> cancel_device(std::int64_t device_id, const std::string& who);
  Result<void> restart_device(std::int64_t device_id, const std::string& who);

  // ---- operators: queries ----
  Result<Json> list_devices();
  Result<Json> device(std::int64_t device_id);
  Result<Json> events_since(std::int64_t after_id, int limit);
  Result<std::map<std::string, std::int64_t>> device_counts_by_state();
  /// Live progress of a device's running step (empty object when none).
  Json live_progress(std::int64_t device_id) const;

  // ---- workflows and batches ----
  Result<void> put_workflow(const std::string& name, const Json& steps);
  Result<Json> list_workflows();
  Result<void> set_setting(const std::string& key, const std::string& value);
  Result<std::optional<std::string>> setting(const std::string& key);
  /// Settings that name things: not_found unless the workflow / batch exists.
  Result<void> set_default_workflow(const std::string& name);
  Result<void> set_intake_batch(const std::string& name);
  Result<std::int64_t> create_batch(const std::string& name, const std::string& donor,
                                    const std::optional<std::string>& workflow,
                                    const std::optional<std::string>& image);
  Result<Json> list_batches();
  Result<void> assign_device(std::int64_t device_id, const std::optional<std::string>& batch,
                             const std::optional<std::string>& workflow);

  // ---- operators and tokens ----
  Result<void> add_operator(const std::string& name, const std::string& password);
  Result<std::int64_t> operator_count();
  /// Session token for a correct name/password; unauthorized otherwise (same message for both).
  Result<std::string> login(const std::string& name, const std::string& password);
  Result<std::string> create_api_token(const std::string& operator_name, const std::string& label);
  /// Operator name for a session or API token; unauthorized otherwise.
  Result<std::string> authenticate_operator(std::string_view token);

  /// Appends to the event log (used by the server for operator-visible happenings).
  Result<std::int64_t> log_event(std::optional<std::int64_t> device_id, const std::string& kind,
                                 const Json& data);

  /// Called with (device_id, state snapshot) after every state change a dashboard shows.
  void set_change_listener(std::function<void(std::int64_t, const Json&)> fn) {
    on_change_ = std::move(fn);
  }
  /// Called with (device_id, step_id, progress) for every progress report (no database work).
  void set_progress_listener(std::function<void(std::int64_t, std::int64_t, const Json&)> fn) {
    on_progress_ = std::move(fn);
  }

 private:
  /// The internal drives (name, serial, model) of a device's inventory: what its wipe job names.
  Json wipe_targets(std::int64_t device_id);
  StateStore(Database db, Clock clock, StateOptions opts)
      : db_(std::move(db)), clock_(std::move(clock)), opts_(std::move(opts)) {}
  Result<void> migrate();
  Result<void> ensure_defaults();
  Result<std::optional<std::int64_t>> active_run(std::int64_t device_id);
  Result<void> create_run(std::int64_t device_id);
  std::int64_t stall_timeout(const std::string& kind) const;
  Result<Json> device_summary(std::int64_t device_id);
  void notify(std::int64_t device_id);

  Database db_;
  Clock clock_;
  StateOptions opts_;
  // Running steps, in memory: progress is frequent and needs no database write. Deadlines are
  // last heartbeat + stall timeout; after a restart every running step starts a fresh one.
  struct LiveStep {
    std::int64_t device = 0;
    std::string kind;
    std::int64_t last_beat = 0;
    std::string progress;  ///< latest progress report, as JSON text
  };
  std::map<std::int64_t, LiveStep> live_;
  std::function<void(std::int64_t, const Json&)> on_change_;
  std::function<void(std::int64_t, std::int64_t, const Json&)> on_progress_;
};

/// Opaque random token (URL-safe) and the hash under which it is stored.
std::string new_token();
std::string token_hash(std::string_view token);

}  // namespace revive::server
