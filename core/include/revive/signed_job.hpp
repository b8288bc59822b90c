#pragma once
// A job: one step the server hands to one agent, as a signed document of its own kind
// ({"job": {...}, "signature": {...}}, see signed_document.hpp). The server signs it with the
// key the live image pins (the one that signs image manifests); the agent checks it before it
// acts on anything in it. The body names the device, the step, its kind, attempt and
// parameters (the resumed flag and checkpoint too, since the agent acts on them), the nonce of
// the agent's request it answers (so it cannot be replayed to another request), when it was
// issued and when it expires, both on the server's clock:
//
//   {"attempt":1,"device":17,"expires_at":1767225900,"issued_at":1767225600,"kind":"wipe",
//    "nonce":"9f0c...","params":{...},"resumed":false,"step":93}

#include <cstdint>
#include <string>
#include <string_view>

#include "revive/error.hpp"
#include "revive/protocol.hpp"
#include "revive/signing.hpp"

namespace revive::protocol {

inline constexpr std::string_view kJobKind = "job";
/// Largest signed job accepted (a provision step's files are the bulk of it).
inline constexpr std::size_t kMaxJobBytes = 8u << 20;

struct Job {
  std::int64_t device = 0;
  StepAssignment step;
  /// The kind as the server spelled it when this build does not know it (a newer server);
  /// step.kind means nothing then. Empty for every known kind.
  std::string unknown_kind;
  std::string nonce;
  std::int64_t issued_at = 0;   ///< server clock, Unix seconds
  std::int64_t expires_at = 0;  ///< server clock, Unix seconds
};

/// The job's body in canonical form (what the signature covers, after the kind).
std::string job_canonical(const Job& job);

/// The signed job document (canonical text, one trailing newline).
std::string sign_job(const Job& job, const KeyPair& key);

/// The job in `text` WITHOUT checking its signature: only for naming a refused job's step in
/// the refusal, and for a demo server's jobs an agent was explicitly told to accept unsigned.
/// corrupt / bad_signature / invalid_input as parse_signed_document and the body's fields say.
Result<Job> parse_job(std::string_view text);

/// The job in `text`, signed by `trusted` as a job; bad_signature naming the keys otherwise
/// (also for a manifest or certificate signature presented as a job).
Result<Job> open_job(std::string_view text, const PublicKey& trusted);

/// What a job must match besides its signature.
struct JobExpectations {
  std::int64_t device = 0;      ///< this agent's device id
  std::string nonce;            ///< the nonce this agent sent with the request
  std::int64_t server_now = 0;  ///< the agent's estimate of the server's clock (Unix seconds)
};

/// invalid_input naming the mismatch (another device, another request's nonce, expired,
/// expiring before it was issued); nothing otherwise.
Result<void> check_job(const Job& job, const JobExpectations& expected);

}  // namespace revive::protocol
