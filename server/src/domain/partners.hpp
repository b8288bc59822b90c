#pragma once
// Partner organisations and the hand-over of finished laptops to them (issue 16). A laptop may
// be handed over when its newest run is done and graded (not reject), and it was not handed
// over since that run began: a laptop that came back (a returned loan) and went through the
// workshop again is a new visit and may go out again. Loans are in domain/loans.hpp, the
// hand-over list (CSV, PDF) in domain/handover_list.hpp.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/context.hpp"
#include "domain/views.hpp"

namespace revive::server {

/// What an operator enters for an organisation; on an edit, nullopt keeps the stored value.
struct OrganisationInput {
  std::optional<std::string> name, contact, kind;
};

/// The kinds an organisation can be, as stored.
inline constexpr const char* kOrganisationKinds[] = {"library", "welfare", "school", "other"};

/// invalid_input naming the field: a name of 1-100 characters, a contact of at most 500, a
/// kind from kOrganisationKinds. Pure.
Result<void> validate(const OrganisationRow& o);
/// The organisation as the API shows it. Pure.
Json organisation_json(const OrganisationRow& o);
/// The newest hand-over that included the device after its newest run began (it is out with
/// that organisation now), or nullopt; io on a storage failure.
Result<std::optional<HandoverRow>> current_handover(Storage& storage, std::int64_t device_id);
/// Where the laptop went, for its page: {handover: {id, at, operator, organisation} or null
/// (the newest), current (out with it now, no new visit since), loans: [...] oldest first};
/// io on a storage failure.
Result<Json> whereabouts(DomainContext& ctx, std::int64_t device_id);

/// Why the laptop with this summary (Views::device_summary) cannot be handed over now, or ""
/// when it can. `handed_over_since_run`: a hand-over included it after its newest run began.
/// Pure.
std::string handover_refusal(const Json& summary, bool handed_over_since_run);

class Partners {
 public:
  Partners(DomainContext& ctx, Views& views) : ctx_(ctx), views_(views) {}

  /// The new organisation; invalid_input (validate), conflict for a name in use.
  Result<Json> create_organisation(const OrganisationInput& in);
  /// The organisation after the edit; not_found, invalid_input, conflict as above.
  Result<Json> update_organisation(std::int64_t id, const OrganisationInput& in);
  /// Every organisation by name; io on a storage failure.
  Result<Json> organisations();

  /// Hands the laptops over to the organisation, by `operator_name`, now; the hand-over
  /// (handover()). invalid_input for no laptops, more than 500 or one named twice; not_found
  /// for an unknown organisation or laptop; conflict naming each laptop that is not finished
  /// or was handed over already (nothing is handed over then).
  Result<Json> hand_over(std::int64_t organisation, const std::vector<std::int64_t>& devices,
                         const std::string& operator_name);
  /// {id, at, operator, organisation, laptops: [{id, vendor, model, serial, grade,
  /// certificate}]}; not_found for an unknown hand-over.
  Result<Json> handover(std::int64_t id);
  /// Every hand-over, newest first: {id, at, operator, organisation, laptops (a count)}.
  Result<Json> handovers();
  /// The laptops that may be handed over now (laptop list entries), by id.
  Result<Json> candidates();

 private:
  /// The laptop's line on a hand-over list.
  Result<Json> laptop_line(std::int64_t device_id);

  DomainContext& ctx_;
  Views& views_;
};

}  // namespace revive::server
