#pragma once
// What the operator pages show (issue 16): the laptop list with its filters, and one laptop's
// page: its summary, an inventory digest, the test figures with the grade and every reason,
// the wipe evidence and certificates, the deploy result and the timeline of its events across
// visits. Read-only; built from Views and the repositories (no SQL, no HTTP).

#include <cstdint>
#include <string>

#include "domain/context.hpp"
#include "domain/views.hpp"

namespace revive::server {

/// The list's filters; an empty field does not filter.
struct LaptopFilter {
  std::string state;  ///< the newest run's state, or "idle"
  std::string batch;  ///< the batch's name
  std::string grade;  ///< A, B, C, reject (revive::kGrades), or "none" (not graded yet)
  std::string text;   ///< a part of the serial, model, vendor or the id (any case)
};

/// invalid_input naming the field when a state or grade is not one the list knows, or the
/// text is over 200 characters.
Result<void> validate(const LaptopFilter& f);
/// Whether a laptop's list entry (laptop_entry) passes the filter. Pure.
bool laptop_matches(const Json& entry, const LaptopFilter& f);
/// The list's entry from a device summary (Views::device_summary): id, vendor, model, serial,
/// batch, state, stage (the current step's kind, or null), grade, flag, last_seen. Pure.
Json laptop_entry(const Json& summary);
/// The inventory digest a page shows: cpu, memory_mib, disks, batteries (with health_pct),
/// firmware, tpm. Pure; an empty object for a missing inventory.
Json inventory_digest(const Json& inventory);

class LaptopPages {
 public:
  LaptopPages(DomainContext& ctx, Views& views) : ctx_(ctx), views_(views) {}

  /// Every laptop passing the filter, by id; invalid_input for a bad filter (validate), io on
  /// a storage failure.
  Result<Json> list(const LaptopFilter& filter);
  /// One laptop's page: {summary, inventory, test, wipe, certificates, deploy, timeline,
  /// whereabouts (partners.hpp: the organisation it went to, its loans)}
  /// (test, wipe and deploy null before such a step reported); not_found for an unknown
  /// device.
  Result<Json> page(std::int64_t device_id);

 private:
  Result<Json> certificates(std::int64_t device_id);
  Result<Json> timeline(std::int64_t device_id);

  DomainContext& ctx_;
  Views& views_;
};

}  // namespace revive::server
