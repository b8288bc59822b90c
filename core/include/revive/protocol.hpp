#pragma once
// The agent protocol (docs/agent-protocol.md) as types: every message the agent and the server
// exchange, the step kinds, the URL paths, and one JSON codec. The agent builds requests and
// reads answers with these; the server's agent routes read requests and build answers with the
// same functions, so neither side spells a path, a field or a step kind by hand.
//
// Decoding is strict where a wrong type would be acted on (ids, attempts, kinds, status) and
// lenient where the protocol leaves room (unknown fields are ignored; open payloads such as the
// inventory, step parameters and results stay JSON for the code that owns them).

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "revive/bounded_json.hpp"
#include "revive/error.hpp"

namespace revive::protocol {

using Json = nlohmann::json;

inline constexpr int kVersion = 1;

// ---------------------------------------------------------------- vocabulary

/// The steps a workflow can hold, in the order the protocol documents them.
// `checks` (a volunteer's checks by hand: keyboard, screen, speakers...) is last in the enum
// only so that earlier values keep their numbers; on the wire every kind is its name.
enum class StepKind { inventory, wipe, test, deploy, provision, certify, finish, checks };
inline constexpr StepKind kStepKinds[] = {
    StepKind::inventory, StepKind::checks,    StepKind::wipe,    StepKind::test,
    StepKind::deploy,    StepKind::provision, StepKind::certify, StepKind::finish};
/// The default workflow: every kind but `checks`, which needs a volunteer at the laptop and is
/// chosen by a workshop's own workflow.
inline constexpr StepKind kDefaultWorkflowKinds[] = {
    StepKind::inventory, StepKind::wipe,    StepKind::test,  StepKind::deploy,
    StepKind::provision, StepKind::certify, StepKind::finish};
std::string_view to_string(StepKind k);
std::optional<StepKind> step_kind_from(std::string_view s);
/// "inventory, checks, wipe, test, deploy, provision, certify, finish" (for error messages).
std::string step_kind_list();

enum class StepState { pending, running, done, failed, skipped, cancelled };
std::string_view to_string(StepState s);
std::optional<StepState> step_state_from(std::string_view s);

enum class RunState { running, failed, done, cancelled };
std::string_view to_string(RunState s);
std::optional<RunState> run_state_from(std::string_view s);

enum class StepStatus { ok, failed };
std::string_view to_string(StepStatus s);
std::optional<StepStatus> step_status_from(std::string_view s);

// ---------------------------------------------------------------- paths

/// Route patterns ({name} is a path parameter), for the server's route table.
namespace route {
inline constexpr std::string_view kEnrol = "/api/v1/agents/enrol";
inline constexpr std::string_view kNext = "/api/v1/agents/{id}/next";
inline constexpr std::string_view kProgress = "/api/v1/agents/{id}/progress";
inline constexpr std::string_view kEvents = "/api/v1/agents/{id}/events";
inline constexpr std::string_view kCheckpoint = "/api/v1/agents/{id}/steps/{step}/checkpoint";
inline constexpr std::string_view kResult = "/api/v1/agents/{id}/steps/{step}/result";
inline constexpr std::string_view kCertificates = "/api/v1/agents/{id}/certificates";
inline constexpr std::string_view kImages = "/api/v1/images";
inline constexpr std::string_view kManifest = "/api/v1/images/{name}/manifest";
inline constexpr std::string_view kChunk = "/chunks/{sha}";
/// A relay's chunk stream from data extent {position} on (agent/transport/chunk_stream.hpp).
inline constexpr std::string_view kRelayStream = "/stream/{position}";
inline constexpr std::string_view kPublicKey = "/api/v1/public-key";
/// The key that signs certificates (kPublicKey signs manifests and jobs).
inline constexpr std::string_view kCertificateKey = "/api/v1/certificate-key";
inline constexpr std::string_view kRelay = "/api/v1/agents/{id}/relay";
}  // namespace route

/// On a relay's 503 ("not here yet"): "filling" when the relay gained chunks while the request
/// waited, so it is behind the asker rather than stuck.
inline constexpr const char* kRelayStateHeader = "X-Revive-Relay";
inline constexpr const char* kRelayFilling = "filling";

/// Concrete paths an agent asks for (device ids and step ids are positive).
namespace path {
std::string enrol();
std::string next(std::int64_t device, int wait_s);
std::string progress(std::int64_t device);
std::string events(std::int64_t device);
std::string checkpoint(std::int64_t device, std::int64_t step);
std::string result(std::int64_t device, std::int64_t step);
std::string certificates(std::int64_t device);
std::string relay(std::int64_t device);
std::string manifest(std::string_view image);
std::string chunk(std::string_view sha256_hex);
std::string relay_stream(std::size_t position);
}  // namespace path

// ---------------------------------------------------------------- messages

/// Who a laptop is: firmware identity, never the MAC (docks and pass-through lie).
struct Identity {
  std::string system_uuid;
  std::string serial;
  std::string model;
  std::string vendor;
};

/// POST enrol. NOLINT: the implicit destructor runs json's, whose teardown may allocate.
struct EnrolRequest {  // NOLINT(bugprone-exception-escape)
  Identity identity;
  std::vector<std::string> macs;
  Json inventory;          ///< the agent's inventory document (null when absent)
  std::string boot_token;  ///< revive.token= of a network boot; empty otherwise
};

struct EnrolResponse {
  std::int64_t device_id = 0;
  std::string agent_token;
  bool new_device = false;
  int protocol = kVersion;
  /// For the laptop's own screen: the workshop's name (may be empty) and the language the
  /// workshop chose for it (kScreenLanguages; empty from an older server: the agent's default).
  std::string workshop;
  std::string language;
  /// The laptop's label on the wall screen (asset tag, else the serial's end), shown on its own
  /// screen so a volunteer can match the two.
  std::string label;
};
/// The languages a laptop's screen speaks (the wall screen's: server/web/i18n/).
inline constexpr std::string_view kScreenLanguages[] = {"en", "nl", "fr"};
inline constexpr std::size_t kMaxWorkshopName = 200;

/// POST next: the agent's fresh random nonce, which the signed job answering it carries (so a
/// job recorded from one exchange cannot be replayed in another).
struct NextRequest {
  std::string nonce;  ///< at most kMaxNonceChars of [0-9a-f]
};
inline constexpr std::size_t kMaxNonceChars = 64;

/// A step handed to the agent (the body of a signed job, see signed_job.hpp).
struct StepAssignment {
  std::int64_t id = 0;
  StepKind kind = StepKind::inventory;
  std::int64_t attempt = 0;
  Json params = Json::object();
  bool resumed = false;
  std::optional<Json> checkpoint;  ///< only for a resumed attempt that saved one
};

/// The step an operator must act on (shown while waiting).
struct WaitingStep {
  std::int64_t id = 0;
  StepKind kind = StepKind::inventory;
  StepState state = StepState::pending;
};

/// The answer to POST next. On the wire a step is only ever the signed job ("job": the signed
/// document as JSON); the agent decodes the step from it after checking it.
struct NextResponse {
  enum class State { step, waiting, done, cancelled } state = State::done;
  /// state == step, on the server (what it signed). Never filled in by decoding: an agent
  /// gets its step from `job` once the signature is checked.
  std::optional<StepAssignment> step;
  std::string job;  ///< state == step: the signed job document's text (canonical)
  std::optional<WaitingStep> waiting;  ///< state == waiting (may be absent)
  std::string reason;                  ///< state == waiting
};
std::string_view to_string(NextResponse::State s);

/// A deploying agent's report that its chunk source let it down: the scheduler replaces it.
struct SourceFailure {
  std::int64_t peer = 0;   ///< the peer's device id; 0: the server
  std::string reason;      ///< "connection refused", "chunk ab12… failed its SHA-256", ...
  bool bad_chunk = false;  ///< it served a chunk that failed verification: never use it again
};

/// What a deploying agent adds to its progress reports: what the scheduler plans with.
struct DeployProgress {
  std::string image_id;
  std::uint64_t chunks_held = 0;  ///< verified chunks this agent holds (and can relay)
  std::uint64_t chunk_count = 0;  ///< data chunks in the image
  std::uint16_t relay_port = 0;   ///< where it serves its chunks to peers; 0: it does not
  double receive_rate = 0;        ///< compressed bytes/s arriving, over the last seconds
  double write_rate = 0;          ///< raw bytes/s reaching the disk, over the last seconds
  std::string source;             ///< what it fetches from now ("server", "peer 7", "queued")
  std::optional<SourceFailure> source_failed;
};

/// Progress of the running step. The typed fields are the ones the server and the dashboard
/// read; further keys a step adds are kept in `extra`.
struct Progress {
  std::string stage;
  std::optional<double> bytes_done;
  std::optional<double> bytes_total;
  std::optional<double> rate;  ///< bytes per second
  std::string message;
  std::optional<DeployProgress> deploy;  ///< only from a deploy step
  Json extra = Json::object();
};

/// Where a deploying agent fetches chunks from: the scheduler's decision, in the answer to its
/// progress reports, so it can change at any moment of the deploy.
struct SourceAssignment {
  enum class Kind { server, peer, queued } kind = Kind::server;
  std::int64_t peer = 0;   ///< the peer's device id (kind == peer)
  std::string url;         ///< the peer's relay, "http://10.0.0.7:41234" (kind == peer)
  int place = 0;           ///< 1-based place in the server port's queue (kind == queued)
  std::string reason;      ///< why, for the laptop's screen and the dashboard
  std::int64_t epoch = 0;  ///< grows with every re-plan: an agent ignores older assignments
};
std::string_view to_string(SourceAssignment::Kind k);

/// The answer to a progress report.
struct ProgressAck {
  std::optional<SourceAssignment> source;  ///< only for a deploy step the scheduler plans
};

/// A laptop whose deploy step is over but that still serves the image's chunks to peers
/// reports so about once a second (POST relay) until the server releases it.
struct RelayReport {
  std::string image_id;
  std::uint16_t relay_port = 0;
  std::uint64_t chunks_held = 0;
  std::uint64_t bytes_served = 0;  ///< to peers, since the deploy step began
};

/// The answer to a relay report: release = no peer needs it any more (close the relay).
struct RelayAck {
  bool release = false;
};

struct ProgressReport {
  std::int64_t step = 0;
  Progress progress;
};

struct CheckpointReport {
  std::int64_t attempt = 0;
  Json checkpoint = Json::object();
};

struct StepResultReport {
  std::int64_t attempt = 0;
  StepStatus status = StepStatus::ok;
  Json result = Json::object();
  std::string error;
};

/// The answer to a result: recorded the first time, duplicate for the same answer again.
struct ResultAck {
  bool recorded = false;
  bool duplicate = false;
};

struct EventsReport {
  Json events = Json::array();  ///< objects, at most kMaxEvents
};
inline constexpr std::size_t kMaxEvents = 100;
inline constexpr std::size_t kMaxMacs = 64;
inline constexpr std::size_t kMaxIdentityField = 256;

/// One of the agent's certificates, as GET certificates lists them (newest first).
struct CertificateSummary {
  std::string cert_id;
  std::string kind;    ///< "drive" or "laptop"
  std::string result;  ///< "passed", "failed", "unverified"
  std::optional<std::int64_t> step;
  std::int64_t created_at = 0;
};

// ---------------------------------------------------------------- codec
// to_json: always succeeds. from_json: invalid_input naming the field on anything the protocol
// does not allow.

Json to_json(const Identity& v);
Json to_json(const EnrolRequest& v);
Json to_json(const EnrolResponse& v);
Json to_json(const StepAssignment& v);
Json to_json(const NextRequest& v);
Json to_json(const NextResponse& v);
Json to_json(const SourceFailure& v);
Json to_json(const DeployProgress& v);
Json to_json(const Progress& v);
Json to_json(const ProgressReport& v);
Json to_json(const SourceAssignment& v);
Json to_json(const ProgressAck& v);
Json to_json(const RelayReport& v);
Json to_json(const RelayAck& v);
Json to_json(const CheckpointReport& v);
Json to_json(const StepResultReport& v);
Json to_json(const ResultAck& v);
Json to_json(const EventsReport& v);
Json to_json(const CertificateSummary& v);

template <class T>
Result<T> from_json(const Json& j);
template <>
Result<Identity> from_json<Identity>(const Json& j);
template <>
Result<EnrolRequest> from_json<EnrolRequest>(const Json& j);
template <>
Result<EnrolResponse> from_json<EnrolResponse>(const Json& j);
template <>
Result<StepAssignment> from_json<StepAssignment>(const Json& j);
template <>
Result<NextRequest> from_json<NextRequest>(const Json& j);
template <>
Result<NextResponse> from_json<NextResponse>(const Json& j);
template <>
Result<SourceFailure> from_json<SourceFailure>(const Json& j);
template <>
Result<DeployProgress> from_json<DeployProgress>(const Json& j);
template <>
Result<Progress> from_json<Progress>(const Json& j);
template <>
Result<SourceAssignment> from_json<SourceAssignment>(const Json& j);
template <>
Result<ProgressAck> from_json<ProgressAck>(const Json& j);
template <>
Result<RelayReport> from_json<RelayReport>(const Json& j);
template <>
Result<RelayAck> from_json<RelayAck>(const Json& j);
template <>
Result<ProgressReport> from_json<ProgressReport>(const Json& j);
template <>
Result<CheckpointReport> from_json<CheckpointReport>(const Json& j);
template <>
Result<StepResultReport> from_json<StepResultReport>(const Json& j);
template <>
Result<ResultAck> from_json<ResultAck>(const Json& j);
template <>
Result<EventsReport> from_json<EventsReport>(const Json& j);
template <>
Result<CertificateSummary> from_json<CertificateSummary>(const Json& j);

/// Parses a request or response body: a JSON object nested at most `max_depth` deep (deeper
/// input is refused while parsing, before any value is built, so a hostile body cannot exhaust
/// the stack). invalid_input otherwise.
using revive::kMaxJsonDepth;
Result<Json> parse_object(std::string_view text, int max_depth = kMaxJsonDepth);

/// true when `text` is exactly `parsed` in canonical form (sorted keys, no whitespace, no
/// duplicate keys), optionally followed by one newline.
bool is_canonical(std::string_view text, const Json& parsed);

/// Parses and decodes in one go.
template <class T>
Result<T> decode(std::string_view text) {
  auto j = parse_object(text);
  if (!j) return j.error();
  return from_json<T>(*j);
}

}  // namespace revive::protocol
