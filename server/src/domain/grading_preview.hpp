#pragma once
// How the laptops on file would grade under an edited grading policy (issue 16, the settings
// page), before it is stored: each laptop's latest test figures and its inventory graded again
// by revive/grading.hpp, the code the agents grade with, so the preview cannot drift from the
// rules that will apply.

#include <string>

#include "domain/context.hpp"

namespace revive::server {

class GradingPreview {
 public:
  explicit GradingPreview(DomainContext& ctx) : ctx_(ctx) {}

  /// {laptops (how many were graded again), before and after (counts per grade: A, B, C,
  /// reject), changed: [{id, model, serial, before, after, reasons (under the edited policy),
  /// reasons_before}], not_regraded (laptops with a grade but no inventory on file)}. A laptop
  /// counts under its stored grade before and its new one after; laptops never tested are left
  /// out. invalid_input naming the policy's key for a policy parse_policy refuses; io on a
  /// storage failure.
  Result<Json> preview(const std::string& policy_text);

 private:
  DomainContext& ctx_;
};

}  // namespace revive::server
