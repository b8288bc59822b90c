#pragma once
// Erasure certificates after they are issued: what a certificate says about the device, the
// device's list, the signed documents (JSON, PDF), a second volunteer's re-verification, and
// the donor's batch summary (built and signed on request, not stored).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/certifier.hpp"
#include "domain/context.hpp"
#include "revive/protocol.hpp"
#include "revive/signing.hpp"

namespace revive::server {

/// The device's identity and donor batch as a certificate states them, the operator who took
/// it in and its inventory; not_found when the device does not exist, io on a storage failure.
Result<CertificateFacts> certificate_facts(Storage& storage, std::int64_t device_id);
/// certificate_facts plus the drives this wipe step's job named (as step_params names them);
/// the inventory's error when it cannot be read.
Result<CertificateFacts> wipe_certificate_facts(Storage& storage, const StepRow& wipe_step);
/// The authenticated operators who handled the device: the one whose intake it came in
/// through and every one who acted on its runs (retry, skip, cancel, restart, accepted an
/// enrolment); io on a storage failure.
Result<std::vector<std::string>> operators_who_handled(Storage& storage, std::int64_t device_id);
/// The workshop's certificate settings (defaults where unset); io on a storage failure.
Result<CertifierSettings> certifier_settings(SettingsRepository& settings);
/// The result of the newest laptop certificate a step produced, or nullopt; io on a storage
/// failure.
Result<std::optional<std::string>> newest_laptop_result(CertificateRepository& certificates,
                                                        std::int64_t step_id);

struct Revalidation {
  std::string cert_id;
  std::string result;
  std::string supersedes;
};

/// A rendered document and its media type.
struct Document {
  std::string content_type;
  std::string body;
};

class Certificates {
 public:
  /// `trusted`: the keys stored certificates may be signed by (the certificate key first;
  /// the image store's key signed the certificates issued before they had their own).
  Certificates(DomainContext& ctx, const Certifier& certifier, std::vector<PublicKey> trusted)
      : ctx_(ctx), certifier_(certifier), trusted_(std::move(trusted)) {}

  /// The key new certificates are signed with.
  const PublicKey& signing_key() const { return trusted_.front(); }

  /// The device's certificates, newest first; io on a storage failure.
  Result<std::vector<protocol::CertificateSummary>> for_device(std::int64_t device_id);
  /// The signed JSON (pdf false) or its PDF rendering; not_found for an unknown id.
  Result<Document> document(const std::string& cert_id, bool pdf);
  /// A second volunteer's check: a new certificate superseding `cert_id`, stored and logged.
  /// not_found for an unknown id; invalid_input for a bad verdict or an operator who handled
  /// the laptop; conflict when it was re-verified or superseded already.
  Result<Revalidation> revalidate(const std::string& cert_id, const std::string& who,
                                  const std::string& verdict, const std::string& note);
  /// The donor's summary of a batch as "json", "csv" or "pdf": the newest laptop certificate
  /// of each of its laptops. not_found for an unknown batch, invalid_input for another format.
  Result<Document> batch_summary(const std::string& batch, const std::string& format);

 private:
  /// The stored certificate's body, checked against the trusted keys.
  Result<Json> verified(const CertificateRow& row) const;

  DomainContext& ctx_;
  const Certifier& certifier_;
  std::vector<PublicKey> trusted_;
};

}  // namespace revive::server
