#include "domain/workflow.hpp"

#include <gtest/gtest.h>

namespace revive::server {
namespace {

using protocol::RunState;
using protocol::StepKind;
using protocol::StepState;

std::vector<StepView> steps(std::initializer_list<StepState> states) {
  std::vector<StepView> v;
  std::int64_t id = 1;
  for (auto s : states) v.push_back({id++, StepKind::inventory, s});
  return v;
}

TEST(Workflow, DecideNextTable) {
  using S = StepState;
  struct Case {
    RunState run;
    std::vector<StepView> steps;
    NextDecision::Kind kind;
    std::optional<std::size_t> step;
  } cases[] = {
      {RunState::running, steps({S::pending, S::pending}), NextDecision::start, 0},
      {RunState::running, steps({S::done, S::pending}), NextDecision::start, 1},
      {RunState::running, steps({S::done, S::skipped, S::pending}), NextDecision::start, 2},
      {RunState::running, steps({S::done, S::running, S::pending}), NextDecision::resume, 1},
      {RunState::failed, steps({S::done, S::failed, S::pending}), NextDecision::wait, 1},
      {RunState::running, steps({S::done, S::done}), NextDecision::finished, std::nullopt},
      {RunState::running, steps({}), NextDecision::finished, std::nullopt},
      {RunState::cancelled, steps({S::pending}), NextDecision::cancelled, std::nullopt},
  };
  for (const auto& c : cases) {
    const auto d = decide_next(c.run, c.steps);
    EXPECT_EQ(d.kind, c.kind);
    EXPECT_EQ(d.step, c.step);
  }
}

TEST(Workflow, OperatorActionRules) {
  EXPECT_FALSE(check_retry(StepState::failed));
  EXPECT_TRUE(check_retry(StepState::done));
  EXPECT_TRUE(check_retry(StepState::running));
  EXPECT_FALSE(check_skip(StepState::pending));
  EXPECT_FALSE(check_skip(StepState::failed));
  EXPECT_TRUE(check_skip(StepState::done));
}

TEST(Workflow, StepKindsAndStatesAreTheProtocolModules) {
  // The server spells no step kind or state of its own: the protocol module's names are the
  // ones stored and sent.
  for (auto s : {StepState::pending, StepState::running, StepState::done, StepState::failed,
                 StepState::skipped, StepState::cancelled}) {
    EXPECT_EQ(protocol::step_state_from(protocol::to_string(s)), s);
  }
  EXPECT_FALSE(protocol::step_state_from("bogus"));
  EXPECT_EQ(protocol::step_kind_from("wipe"), StepKind::wipe);
  EXPECT_FALSE(protocol::step_kind_from("format-c"));
}

}  // namespace
}  // namespace revive::server
