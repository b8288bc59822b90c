#include "domain/catalog_pages.hpp"

#include <algorithm>
#include <iterator>

#include "domain/json_fields.hpp"

namespace revive::server {

namespace {

Json no_grades() {
  Json out = Json::object();
  for (const char* g : kGradeKeys) out[g] = 0;
  return out;
}

}  // namespace

std::map<std::string, Json> grades_by_batch(const Json& summaries) {
  std::map<std::string, Json> out;
  if (!summaries.is_array()) return out;
  for (const auto& s : summaries) {
    const std::string batch = text_field(s, "batch");
    if (batch.empty()) continue;
    auto [it, added] = out.try_emplace(batch, no_grades());
    std::string grade = text_field(s, "grade");
    if (std::find(std::begin(kGradeKeys), std::end(kGradeKeys), grade) == std::end(kGradeKeys))
      grade = "none";
    it->second[grade] = it->second[grade].get<std::int64_t>() + 1;
  }
  return out;
}

Result<Json> CatalogPages::batches() {
  REVIVE_ASSIGN(list, catalog_.batches());
  REVIVE_ASSIGN(devices, views_.devices());
  const auto grades = grades_by_batch(devices);
  Json out = Json::array();
  for (const auto& b : list) {
    const auto g = grades.find(b.batch.name);
    out.push_back({{"name", b.batch.name},
                   {"donor", b.batch.donor},
                   {"workflow", b.workflow ? Json(*b.workflow) : Json()},
                   {"image", b.batch.image ? Json(*b.batch.image) : Json()},
                   {"profile", b.batch.profile ? *b.batch.profile : Json::object()},
                   {"profile_name", b.profile_name ? Json(*b.profile_name) : Json()},
                   {"devices", b.devices},
                   {"grades", g == grades.end() ? no_grades() : g->second}});
  }
  return out;
}

}  // namespace revive::server
