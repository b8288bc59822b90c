#pragma once
// Loans (issue 16): an organisation lends a laptop handed over to it to a person, and takes it
// back. The server keeps only the reference the organisation chooses to enter (free text,
// maybe nothing: never a required name); some days after the return even that is erased
// (the `loan_reference_keep_days` setting), by the same periodic pass as the event log's
// retention. The event log records that a loan began or ended, never the reference.
//
// A returned laptop gets a new run at once, so when it network-boots again it is the same
// device (domain/identity.hpp) on a new visit: wiped, tested and imaged again, and its new
// laptop certificate names the one of its previous visit (domain/certificates.hpp,
// `previous_certificate`).

#include <cstdint>
#include <string>

#include "domain/partners.hpp"

namespace revive::server {

/// The retention of returned loans' references when the setting is absent.
inline constexpr std::int64_t kDefaultLoanReferenceKeepDays = 30;

/// invalid_input unless `days` is a whole number from 0 to 3650. Pure.
Result<std::int64_t> parse_loan_reference_keep_days(const std::string& days);

class Loans {
 public:
  explicit Loans(DomainContext& ctx) : ctx_(ctx) {}

  /// Lends the laptop (out with an organisation now) to a person; `reference` is what the
  /// organisation chose to note (at most 200 characters, may be empty). The laptop's
  /// whereabouts (whereabouts()). not_found for an unknown laptop; conflict when it is
  /// not out with an organisation (never handed over, or back for a new visit) or lent already;
  /// invalid_input for a reference too long.
  Result<Json> lend(std::int64_t device_id, const std::string& reference,
                    const std::string& operator_name);
  /// Marks the laptop's open loan returned and starts its next visit (a new run of its
  /// workflow, which its next network boot runs); its whereabouts. conflict when it is not
  /// lent.
  Result<Json> give_back(std::int64_t device_id, const std::string& operator_name);

 private:
  DomainContext& ctx_;
};

/// One pass of the loans' retention in one unit of work: the references of loans returned
/// more than the setting's days ago are erased (at most `batch`); how many. io on a storage
/// failure, invalid_input when the stored setting is not a number of days.
Result<std::int64_t> erase_loan_references(DomainContext& ctx, std::int64_t batch = 5000);

}  // namespace revive::server
