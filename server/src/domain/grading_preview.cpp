#include "domain/grading_preview.hpp"

#include "revive/grading.hpp"

namespace revive::server {

namespace {

Json no_grades() { return {{"A", 0}, {"B", 0}, {"C", 0}, {"reject", 0}}; }

void count(Json& counts, const std::string& grade) {
  if (!counts.contains(grade)) counts[grade] = 0;
  counts[grade] = counts[grade].get<std::int64_t>() + 1;
}

// What the agent reported with the grade it gave: its figures and the grading itself.
struct GradedLaptop {
  Json tests;
  Json grading;
};

std::optional<GradedLaptop> graded(const std::optional<StepResultRow>& r) {
  if (!r || !r->result.is_object()) return std::nullopt;
  const Json grading = r->result.value("grading", Json());
  if (!grading.is_object() || !grading.contains("grade") || !grading["grade"].is_string())
    return std::nullopt;
  return GradedLaptop{r->result.value("tests", Json::object()), grading};
}

}  // namespace

Result<Json> GradingPreview::preview(const std::string& policy_text) {
  auto policy = parse_policy(policy_text);
  if (!policy) return make_error(Errc::invalid_input, "grading_policy: " + policy.error().message);
  Storage& s = ctx_.storage();
  REVIVE_ASSIGN(ids, s.devices().ids());
  Json before = no_grades(), after = no_grades(), changed = Json::array();
  std::int64_t laptops = 0, not_regraded = 0;
  for (const auto id : ids) {
    REVIVE_ASSIGN(result, s.runs().latest_result(id, StepKind::test, StepStatus::ok));
    const auto laptop = graded(result);
    if (!laptop) continue;
    REVIVE_ASSIGN(inventory, s.devices().inventory(id));
    if (!inventory) {
      ++not_regraded;
      continue;
    }
    const Json regraded = grade(*inventory, laptop->tests, *policy);
    const std::string was = laptop->grading["grade"].get<std::string>();
    const std::string now = regraded["grade"].get<std::string>();
    ++laptops;
    count(before, was);
    count(after, now);
    if (was == now) continue;
    REVIVE_ASSIGN(device, s.devices().find(id));
    changed.push_back({{"id", id},
                       {"model", device ? device->model : std::string()},
                       {"serial", device ? device->serial : std::string()},
                       {"before", was},
                       {"after", now},
                       {"reasons", regraded["reasons"]},
                       {"reasons_before", laptop->grading.value("reasons", Json::array())}});
  }
  return Json{{"laptops", laptops},
              {"before", std::move(before)},
              {"after", std::move(after)},
              {"changed", std::move(changed)},
              {"not_regraded", not_regraded}};
}

}  // namespace revive::server
