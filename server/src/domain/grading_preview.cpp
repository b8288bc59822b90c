#include "domain/grading_preview.hpp"

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

Result<GradingPolicy> checked_policy(const std::string& policy_text) {
  auto policy = parse_policy(policy_text);
  if (!policy) return make_error(Errc::invalid_input, "grading_policy: " + policy.error().message);
  return policy;
}

}  // namespace

Json regrade(const PreviewInput& input, const GradingPolicy& policy) {
  Json before = no_grades(), after = no_grades(), changed = Json::array();
  std::size_t graded_again = 0, not_regraded = input.not_regraded;
  for (const auto& laptop : input.laptops) {
    // The figures an agent sent, read again: a laptop whose figures grade() cannot read (a
    // battery's name that is a number, from a broken or hostile agent) is left out like one
    // without an inventory. On the blocking pool an escaped exception would end the server.
    Json regraded;
    try {
      regraded = grade(laptop.inventory, laptop.tests, policy);
    } catch (const Json::exception&) {
      ++not_regraded;
      continue;
    }
    ++graded_again;
    const std::string was = laptop.grading["grade"].get<std::string>();
    const std::string now = regraded["grade"].get<std::string>();
    count(before, was);
    count(after, now);
    if (was == now) continue;
    changed.push_back(
        {{"id", laptop.id},
         {"before", was},
         {"after", now},
         {"reasons", regraded["reasons"]},
         {"reason_codes", regraded["reason_codes"]},
         {"reasons_before", laptop.grading.value("reasons", Json::array())},
         {"reason_codes_before", laptop.grading.value("reason_codes", Json::array())}});
  }
  return Json{{"laptops", graded_again},
              {"before", std::move(before)},
              {"after", std::move(after)},
              {"changed", std::move(changed)},
              {"not_regraded", not_regraded}};
}

Result<PreviewInput> GradingPreview::read_input() {
  Storage& s = ctx_.storage();
  REVIVE_ASSIGN(ids, s.devices().ids());
  PreviewInput in;
  for (const auto id : ids) {
    REVIVE_ASSIGN(result, s.runs().latest_result(id, StepKind::test, StepStatus::ok));
    auto laptop = graded(result);
    if (!laptop) continue;
    REVIVE_ASSIGN(inventory, s.devices().inventory(id));
    if (!inventory) {
      ++in.not_regraded;
      continue;
    }
    in.laptops.push_back(
        {id, std::move(*inventory), std::move(laptop->tests), std::move(laptop->grading)});
  }
  return in;
}

Result<void> GradingPreview::name_changed(Json& answer) {
  for (auto& c : answer["changed"]) {
    REVIVE_ASSIGN(device, ctx_.storage().devices().find(c["id"].get<std::int64_t>()));
    c["model"] = device ? device->model : std::string();
    c["serial"] = device ? device->serial : std::string();
  }
  return {};
}

Result<Json> GradingPreview::preview(const std::string& policy_text) {
  REVIVE_ASSIGN(policy, checked_policy(policy_text));
  REVIVE_ASSIGN(input, read_input());
  Json answer = regrade(input, policy);
  REVIVE_TRY(name_changed(answer));
  return answer;
}

Result<std::uint64_t> GradingPreview::start(const std::string& policy_text,
                                            std::function<void(std::uint64_t job)> done) {
  REVIVE_ASSIGN(policy, checked_policy(policy_text));
  REVIVE_ASSIGN(input, read_input());
  const std::uint64_t job = jobs_->next++;
  jobs_->finished[job] = std::nullopt;
  auto work = std::make_shared<std::pair<PreviewInput, Json>>(std::move(input), Json());
  run_blocking_([work, policy] { work->second = regrade(work->first, policy); },
                [this, jobs = jobs_, job, work, done = std::move(done)] {
                  auto it = jobs->finished.find(job);
                  if (it == jobs->finished.end()) return;  // given up
                  auto named = name_changed(work->second);
                  it->second =
                      named ? Result<Json>(std::move(work->second)) : Result<Json>(named.error());
                  done(job);
                });
  return job;
}

Result<std::optional<Result<Json>>> GradingPreview::take(std::uint64_t job, bool give_up) {
  auto it = jobs_->finished.find(job);
  if (it == jobs_->finished.end())
    return {boost::system::in_place_error, make_error(Errc::not_found, "preview job lost")};
  if (!it->second) {
    if (give_up) jobs_->finished.erase(it);
    return std::optional<Result<Json>>();
  }
  auto out = std::move(it->second);
  jobs_->finished.erase(it);
  return out;
}

}  // namespace revive::server
