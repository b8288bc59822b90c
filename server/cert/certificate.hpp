#pragma once
// Erasure certificates: built by the server from the agent's wipe evidence and the server's own
// records (device identity, donor batch, workshop), signed with the server key as canonical
// JSON (see revive/signed_document.hpp), one per drive and one per laptop. Verifiable offline
// with only the public key (`revivectl cert verify`).

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "revive/error.hpp"
#include "revive/signing.hpp"

namespace revive::cert {

using Json = nlohmann::json;

inline constexpr const char* kFormat = "revive-erasure-certificate/1";

/// What the server knows and vouches for, independent of the agent's evidence. NOLINT: the
/// implicit destructor runs json's, whose teardown may allocate.
struct IssueContext {  // NOLINT(bugprone-exception-escape)
  std::string workshop;
  std::string operator_name;
  std::string issued_at;  ///< RFC 3339 UTC
  Json device;            ///< {device_id, vendor, model, serial, system_uuid, asset_tag}
  Json donor_batch;       ///< {name, donor} or null
  bool reverify_selected = false;
};

/// A random RFC 4122 version 4 UUID.
std::string new_certificate_id();

/// One drive's certificate body from one entry of the agent's wipe evidence. The evidence is
/// checked field by field (types, allowed values); anything else it carries is not copied.
/// A drive whose result is not "passed" still gets a certificate, saying so.
Result<Json> drive_certificate(const IssueContext& ctx, const Json& evidence);

/// Every block device and storage controller the laptop showed, and what became of each.
struct StorageListing {
  Json entries = Json::array();          ///< one object per device or controller
  std::vector<std::string> unaccounted;  ///< why each one not accounted for is not
  std::string note;                      ///< what the inventory did not say ("" when nothing)
};

/// The laptop's certificate: every drive certificate by id and result, and every block device
/// and storage controller seen; "passed" only when there is at least one drive, every drive
/// passed and every device and controller is accounted for.
Json laptop_certificate(const IssueContext& ctx, const std::vector<Json>& drives,
                        const StorageListing& storage = {});

/// A second volunteer's independent check of a certificate: a new certificate (new id) that
/// supersedes `body`, records the validator, and fails when the check disputes the wipe.
/// invalid_input when the validator is the operator of record or one of `handled_by` (the
/// operators who handled the laptop: it must be a second person); conflict when it was
/// re-verified already.
Result<Json> revalidated(const Json& body, const std::string& validator, const std::string& verdict,
                         const std::string& note, const std::string& issued_at,
                         const std::vector<std::string>& handled_by = {});

/// The donor's summary for a batch: every laptop's newest certificate by id, with its result.
Json batch_summary(const std::string& workshop, const Json& donor_batch,
                   const std::string& issued_at, const std::vector<Json>& laptops);

/// CSV of a batch summary (one line per laptop), for spreadsheets.
std::string batch_csv(const Json& summary);

/// Signed document text (canonical JSON body + ed25519 signature).
std::string sign(const Json& body, const KeyPair& key);

// bugprone-exception-escape: nlohmann::json's noexcept destructor flattens nested values into a
// std::vector, which could throw bad_alloc; the check blames every struct holding a Json for it.
struct Verified {  // NOLINT(bugprone-exception-escape)
  Json body;
  std::string key_id;
};

/// Checks a signed certificate (JSON text) against the trusted key.
Result<Verified> verify_json(std::string_view text, const PublicKey& trusted);

}  // namespace revive::cert
