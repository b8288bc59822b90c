#pragma once
// A hand-over as a list the organisation takes away: CSV (for its spreadsheet) and the PDF it
// signs (cert/handover_pdf), in the workshop's language. Both from Partners::handover's view.

#include <string>

#include "domain/certificates.hpp"
#include "domain/partners.hpp"
#include "handover_pdf.hpp"

namespace revive::server {

/// The list's words in the workshop's language (server/web/i18n/<lang>.json, "handover.*").
struct HandoverWords {
  std::string title = "Hand-over list";
  std::string organisation = "Organisation";
  std::string contact = "Contact";
  std::string date = "Date";
  std::string operator_ = "Operator";
  std::string laptops = "Laptops";
  std::string model = "Model";
  std::string serial = "Serial number";
  std::string grade = "Grade";
  std::string certificate = "Erasure certificate";
  std::string handed_over_by = "Handed over by";
  std::string received_by = "Received by";
  /// "library", "welfare", "school", "other" in words, by kind.
  std::string kind_library = "Library", kind_welfare = "Welfare organisation",
              kind_school = "School", kind_other = "Other";
};

/// One line per laptop: handover, organisation, handed_over_at (RFC 3339 UTC), operator,
/// laptop, vendor, model, serial, grade, certificate; with a header line. Pure.
std::string handover_csv(const Json& handover);
/// What the PDF says. `handover` is Partners::handover's view; the date is UTC. Pure.
cert::HandoverListFacts handover_list_facts(const Json& handover, const std::string& workshop,
                                            const HandoverWords& words);

/// The hand-over's list as "csv" or "pdf" (the PDF footed with the workshop's name).
/// invalid_input for another format, not_found for an unknown hand-over.
Result<Document> handover_document(DomainContext& ctx, Partners& partners, std::int64_t id,
                                   const std::string& format, const HandoverWords& words);

}  // namespace revive::server
