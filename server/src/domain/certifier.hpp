#pragma once
// Wipe evidence -> erasure certificates. Two stages, so nothing is signed that is not stored:
// assess() checks the agent's evidence field by field and decides every certificate and the
// step's final status (nothing signed, nothing stored); sign() signs what was decided. The step
// lifecycle assesses, checks the result is not a duplicate, then signs and stores the
// certificates in the same unit of work as the step result.
//
// Fail closed: evidence that cannot be certified, or a laptop certificate that did not pass,
// turns an "ok" wipe into a failed step. Evidence is checked, not believed: it must account for
// every drive the job named (by serial), simulated drives count only in demo mode, and the
// laptop certificate passes only when every block device and storage controller of the
// inventory is accounted for (domain/wipe_accounting.hpp).

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "certificate.hpp"
#include "storage/rows.hpp"

namespace revive::server {

/// What the server itself vouches for on a certificate.
struct CertificateFacts {
  Json device;                      ///< {device_id, vendor, model, serial, system_uuid, asset_tag}
  Json donor_batch;                 ///< {name, donor} or null
  Json job_drives = Json::array();  ///< the drives the wipe job named: [{name, serial, model}]
  std::optional<Json> inventory;    ///< what the laptop showed at enrolment
  std::string operator_name;        ///< the authenticated operator who took it in ("" if none)
  /// The laptop certificate of an earlier visit or run (a returned loan, a laptop started
  /// over): the new laptop certificate names it, so a laptop's certificates form a chain.
  std::optional<std::string> previous_laptop_certificate;
};

struct CertifierSettings {
  std::string workshop = "Revive workshop";
  std::string operator_name;     ///< shown when no authenticated operator took the laptop in
  double reverify_share = 0.05;  ///< share of laptops drawn for a second volunteer's check
};

/// A certificate ready to store.
struct NewCertificate {
  std::string cert_id;
  std::string kind;    ///< "drive" or "laptop"
  std::string result;  ///< "passed", "failed" or "unverified"
  std::string body;    ///< the signed document text
};

struct WipeAssessment {
  std::vector<Json> drives;  ///< certificate bodies, unsigned
  Json laptop;               ///< the laptop certificate body, unsigned
  StepStatus status = StepStatus::ok;
  std::string error;
};

class Certifier {
 public:
  using Signer = std::function<std::string(const Json& body)>;
  /// True with probability `share` (the re-verification draw).
  using Draw = std::function<bool(double share)>;
  using Now = std::function<std::string()>;  ///< RFC 3339 UTC

  /// `accept_simulated`: the server runs in demo mode (simulated drives may be certified).
  Certifier(Signer sign, Draw draw, Now now, bool accept_simulated = false)
      : sign_(std::move(sign)),
        draw_(std::move(draw)),
        now_(std::move(now)),
        accept_simulated_(accept_simulated) {}

  /// The certificates a wipe result earns and the status the step gets; signs nothing.
  WipeAssessment assess(const CertificateFacts& facts, const CertifierSettings& settings,
                        const Json& result, StepStatus status, const std::string& error) const;
  /// Signs the assessed certificates (drives first, then the laptop).
  std::vector<NewCertificate> sign(const WipeAssessment& a) const;
  /// Signs one certificate body (a re-verification).
  NewCertificate sign_one(const Json& body) const;
  std::string now() const { return now_(); }
  bool accepts_simulated() const { return accept_simulated_; }

 private:
  /// The drive certificate bodies in the job's order (nullopt: no evidence for that drive), or
  /// why the evidence is refused.
  Result<std::vector<std::optional<Json>>> drive_bodies(const cert::IssueContext& ctx,
                                                        const CertificateFacts& facts,
                                                        const Json& evidence) const;

  Signer sign_;
  Draw draw_;
  Now now_;
  bool accept_simulated_ = false;
};

}  // namespace revive::server
