#pragma once
// What the batches and donors page shows (issue 16): every batch with its donor, workflow,
// image, recipient profile and how many of its laptops have each grade. Read-only; built from
// the Catalog and Views (no SQL, no HTTP). The images page's view is Images::list.

#include <map>
#include <string>

#include "domain/catalog.hpp"
#include "domain/views.hpp"

namespace revive::server {

/// The grades a batch's counts are kept by: those grading gives (revive::kGrades) and "none"
/// (not graded yet).
inline constexpr const char* kGradeKeys[] = {"A", "B", "C", "reject", "none"};

/// For each batch named in the device summaries (Views::devices), how many of its laptops have
/// each grade (every key of kGradeKeys present, a grade outside them counted as "none"). Pure.
std::map<std::string, Json> grades_by_batch(const Json& summaries);

class CatalogPages {
 public:
  CatalogPages(Catalog& catalog, Views& views) : catalog_(catalog), views_(views) {}

  /// Every batch, oldest first: {name, donor, workflow, image, profile, devices, grades}; io on
  /// a storage failure.
  Result<Json> batches();

 private:
  Catalog& catalog_;
  Views& views_;
};

}  // namespace revive::server
