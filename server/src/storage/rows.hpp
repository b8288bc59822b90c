#pragma once
// What the storage hands the domain layer: plain typed rows, one struct per stored record. No
// backend types: a PostgreSQL implementation fills the same structs. Open documents the agent
// or an operator wrote (inventory, step parameters, results, checkpoints, event data) stay JSON
// values; everything the server decides on has a type.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "revive/protocol.hpp"

namespace revive::server {

using Json = nlohmann::json;
using protocol::RunState;
using protocol::StepKind;
using protocol::StepState;
using protocol::StepStatus;

using Seconds = std::int64_t;  ///< seconds since the epoch

struct WorkflowStep {
  StepKind kind = StepKind::inventory;
  Json params = Json::object();
};

struct WorkflowRow {
  std::int64_t id = 0;
  std::string name;
  std::vector<WorkflowStep> steps;
};

struct BatchRow {
  std::int64_t id = 0;
  std::string name;
  std::string donor;
  std::optional<std::int64_t> workflow_id;
  std::optional<std::string> image;  ///< what the batch's deploy steps install
  std::optional<Json> profile;       ///< the recipient profile its provision steps apply
  /// A named recipient profile (the settings page's), applied instead of `profile` when set.
  std::optional<std::int64_t> profile_id;
};

/// A named recipient profile: the fields a provision step applies (domain/recipient_profile).
struct RecipientProfileRow {
  std::int64_t id = 0;
  std::string name;
  Json fields = Json::object();
};

struct NewDevice {
  std::string system_uuid, serial, model, vendor;
  Json macs = Json::array();
  std::optional<Json> inventory;
  std::optional<std::int64_t> batch_id;
  Seconds seen_at = 0;
  Json disk_serials = Json::array();  ///< the internal disks' serials, sorted
  std::optional<std::string> intake_operator;
};

/// What an enrolment of a known device records.
struct Sighting {
  Json macs = Json::array();
  std::optional<Json> inventory;  ///< nullopt: keep the previous one
  std::string vendor;
  std::optional<Json> disk_serials;  ///< nullopt: keep the previous ones
  Seconds at = 0;
};

/// A device without its inventory (a document of its own, read when needed).
struct DeviceRow {
  std::int64_t id = 0;
  std::string system_uuid, serial, model, vendor;
  Json macs = Json::array();
  std::optional<std::int64_t> batch_id;
  std::optional<std::int64_t> workflow_id;  ///< the device's own workflow, if an operator set one
  Seconds first_seen = 0;
  Seconds last_seen = 0;
  Json disk_serials = Json::array();  ///< the internal disks' serials, sorted (identity)
  /// Something an operator must look at (e.g. "identity_in_use": a second enrolment of a
  /// laptop whose agent was alive was refused); nullopt when none.
  std::optional<std::string> flag;
  /// The authenticated operator who opened the intake the laptop came in through.
  std::optional<std::string> intake_operator;
};

/// An intake an operator opened: unknown laptops may join `batch_id` until `until`, limited
/// to the listed MACs and vendors when the lists are not empty.
struct IntakeRow {
  std::int64_t id = 0;
  std::int64_t batch_id = 0;
  Seconds opened_at = 0;
  Seconds until = 0;
  std::vector<std::string> macs;     ///< normalised ("52:54:00:12:34:56")
  std::vector<std::string> vendors;  ///< SMBIOS system vendor prefixes, any case
  std::string opened_by;
  std::optional<Seconds> closed_at;
  std::optional<std::string> closed_by;
};

struct RunRow {
  std::int64_t id = 0;
  std::int64_t device_id = 0;
  std::int64_t workflow_id = 0;
  RunState state = RunState::running;
  std::optional<std::string> image;
  Seconds created_at = 0;
  std::optional<Seconds> finished_at;
};

struct StepRow {
  std::int64_t id = 0;
  std::int64_t run_id = 0;
  std::int64_t device_id = 0;  ///< the run's device (read-only: steps never change hands)
  int seq = 0;
  StepKind kind = StepKind::inventory;
  Json params = Json::object();
  StepState state = StepState::pending;
  std::int64_t attempt = 0;
  std::optional<Seconds> started_at;
  std::optional<Seconds> deadline;
  std::optional<Seconds> finished_at;
  std::optional<std::string> error;
  std::optional<Json> checkpoint;  ///< the agent's own record of a running attempt
};

struct StepResultRow {
  std::int64_t id = 0;
  std::int64_t step_id = 0;
  StepKind kind = StepKind::inventory;  ///< the step's kind (read-only)
  std::int64_t attempt = 0;
  StepStatus status = StepStatus::ok;
  Json result = Json::object();
  std::string error;
  Seconds recorded_at = 0;
};

struct CertificateRow {
  std::string cert_id;
  std::int64_t device_id = 0;
  std::optional<std::int64_t> step_id;
  std::string kind;    ///< "drive" or "laptop"
  std::string result;  ///< "passed", "failed" or "unverified"
  std::string body;    ///< the signed document text
  Seconds created_at = 0;
  std::optional<std::string> supersedes;  ///< the certificate this one replaces (at most once)
};

struct EventRow {
  std::int64_t id = 0;
  Seconds at = 0;
  std::optional<std::int64_t> device_id;
  std::string kind;
  Json data = Json::object();
};

struct OperatorRow {
  std::int64_t id = 0;
  std::string name;
  std::string password_hash;  ///< argon2id string
};

struct OperatorTokenRow {
  std::string token_hash;
  std::int64_t operator_id = 0;
  std::string kind;  ///< "session", "api" or "kiosk" (the wall screen's read-only link)
  std::string label;
  Seconds created_at = 0;
  std::optional<Seconds> expires_at;
};

/// Who an operator token belongs to.
struct OperatorTokenOwner {
  std::string operator_name;
  std::optional<Seconds> expires_at;
  std::string kind;  ///< as OperatorTokenRow::kind
};

/// An operator token as listed (never the token itself: only its hash is stored).
struct OperatorTokenInfo {
  std::string token_hash;
  std::string operator_name;
  std::string kind;  ///< as OperatorTokenRow::kind
  std::string label;
  Seconds created_at = 0;
  std::optional<Seconds> expires_at;
};

struct BootTokenRow {
  std::string token_hash;
  std::string mac;
  Seconds issued_at = 0;
  std::optional<Seconds> used_at;
};

// ---- partner organisations, hand-overs and loans (issue 16)

/// A partner organisation refurbished laptops are handed over to.
struct OrganisationRow {
  std::int64_t id = 0;
  std::string name;
  std::string contact;  ///< free text: a person, a phone number, an address
  std::string kind;     ///< "library", "welfare", "school" or "other"
  Seconds created_at = 0;
};

/// A set of finished laptops handed over to one organisation by one operator.
struct HandoverRow {
  std::int64_t id = 0;
  std::int64_t organisation_id = 0;
  std::string operator_name;
  Seconds at = 0;
  std::vector<std::int64_t> devices;  ///< ascending
};

/// A handed-over laptop lent by its organisation to a person. The reference is whatever the
/// organisation chose to note (maybe nothing); it is erased some days after the return.
struct LoanRow {
  std::int64_t id = 0;
  std::int64_t device_id = 0;
  std::int64_t handover_id = 0;
  std::string reference;
  Seconds lent_at = 0;
  std::string lent_by;
  std::optional<Seconds> returned_at;
  std::optional<std::string> returned_by;
  bool reference_erased = false;
};

}  // namespace revive::server
