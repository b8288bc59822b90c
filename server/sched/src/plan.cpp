#include "revive/sched/plan.hpp"

#include <algorithm>

namespace revive::sched {

std::string ordinal(int n) {
  const int tens = n % 100;
  const int ones = n % 10;
  const char* suffix = "th";
  if (tens < 11 || tens > 13) {
    if (ones == 1) suffix = "st";
    if (ones == 2) suffix = "nd";
    if (ones == 3) suffix = "rd";
  }
  return std::to_string(n) + suffix;
}

std::string to_string(const Source& source) {
  switch (source.kind) {
    case SourceKind::none:
      return "none";
    case SourceKind::server:
      return "server";
    case SourceKind::peer:
      return "peer " + std::to_string(source.peer);
    case SourceKind::queued:
      return "queued: " + ordinal(source.place);
  }
  return "?";
}

PlanDiff diff(const Plan& before, const Plan& after) {
  PlanDiff out;
  auto b = before.laptops.begin();
  auto a = after.laptops.begin();
  while (b != before.laptops.end() || a != after.laptops.end()) {
    if (a == after.laptops.end() || (b != before.laptops.end() && b->first < a->first)) {
      out.push_back({b->first, b->second, std::nullopt});
      ++b;
    } else if (b == before.laptops.end() || a->first < b->first) {
      out.push_back({a->first, std::nullopt, a->second});
      ++a;
    } else {
      if (!b->second.same_decision(a->second)) out.push_back({a->first, b->second, a->second});
      ++a;
      ++b;
    }
  }
  return out;
}

namespace {

Error broken(LaptopId id, const std::string& what) {
  return make_error(Errc::internal, "plan: laptop " + std::to_string(id) + " " + what);
}

// Walks up from `id`; a walk longer than the plan has laptops went round a cycle.
Result<void> reaches_a_root(const Plan& plan, LaptopId id) {
  LaptopId at = id;
  for (std::size_t steps = 0; steps <= plan.laptops.size(); ++steps) {
    const Assignment& a = plan.laptops.at(at);
    if (a.source.kind != SourceKind::peer) return {};
    at = a.source.peer;
  }
  return broken(id, "is in a cycle of peers");
}

}  // namespace

Result<void> check_forest(const Plan& plan) {
  std::map<LaptopId, std::vector<LaptopId>> children;
  for (const auto& [id, a] : plan.laptops) {
    if (a.source.kind != SourceKind::peer) continue;
    if (a.source.peer == id) return broken(id, "fetches from itself");
    auto parent = plan.laptops.find(a.source.peer);
    if (parent == plan.laptops.end()) return broken(id, "fetches from an unknown peer");
    if (parent->second.role == Role::stalled) return broken(id, "fetches from a stalled peer");
    children[a.source.peer].push_back(id);
  }
  for (const auto& [id, a] : plan.laptops) {
    auto it = children.find(id);
    const std::vector<LaptopId> expected =
        it == children.end() ? std::vector<LaptopId>{} : it->second;
    if (a.serves != expected) return broken(id, "serves a list that does not match the sources");
    REVIVE_TRY(reaches_a_root(plan, id));
  }
  return {};
}

}  // namespace revive::sched
