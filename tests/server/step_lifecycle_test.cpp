// The step lifecycle over fake repositories: which step runs next, exactly-once results,
// stall deadlines, checkpoints, operator actions, and that a failed change leaves nothing.
#include "domain_fixture.hpp"

namespace revive::server::test {
namespace {

using protocol::NextResponse;
using protocol::StepKind;
using protocol::StepStatus;

class StepLifecycleTest : public DomainTest {};

TEST_F(StepLifecycleTest, StepsRunInWorkflowOrderAndTheRunFinishes) {
  const auto dev = enrol("SN01");
  std::vector<StepKind> seen;
  for (;;) {
    auto n = next(dev);
    if (n.state != NextResponse::State::step) {
      EXPECT_EQ(n.state, NextResponse::State::done);
      break;
    }
    seen.push_back(n.step->kind);
    EXPECT_EQ(n.step->attempt, 1);
    EXPECT_FALSE(n.step->resumed);
    ASSERT_TRUE(result(dev, *n.step, StepStatus::ok,
                       n.step->kind == StepKind::wipe ? wipe_evidence() : Json::object()));
  }
  EXPECT_EQ(seen, std::vector<StepKind>(std::begin(protocol::kDefaultWorkflowKinds),
                                        std::end(protocol::kDefaultWorkflowKinds)));
  EXPECT_EQ(storage.events_of("workflow-done").size(), 1u);
  EXPECT_EQ(next(dev).state, NextResponse::State::done);  // asking again changes nothing
  EXPECT_EQ(storage.events_of("workflow-done").size(), 1u);
}

TEST_F(StepLifecycleTest, AReconnectingAgentResumesTheSameAttempt) {
  const auto dev = enrol("SN02");
  auto first = next(dev);
  auto again = next(dev);
  ASSERT_EQ(again.state, NextResponse::State::step);
  EXPECT_EQ(again.step->id, first.step->id);
  EXPECT_EQ(again.step->attempt, first.step->attempt);
  EXPECT_TRUE(again.step->resumed);
}

TEST_F(StepLifecycleTest, ResultsAreRecordedExactlyOnce) {
  const auto dev = enrol("SN03");
  auto s = *next(dev).step;
  auto r1 = result(dev, s, StepStatus::ok, Json{{"a", 1}});
  ASSERT_TRUE(r1);
  EXPECT_TRUE(r1->recorded);
  auto r2 = result(dev, s, StepStatus::ok, Json{{"a", 1}});
  ASSERT_TRUE(r2);
  EXPECT_FALSE(r2->recorded);
  EXPECT_TRUE(r2->duplicate);
  auto r3 = result(dev, s, StepStatus::failed, Json(), "x");
  ASSERT_FALSE(r3);
  EXPECT_EQ(r3.error().code, Errc::conflict);
  EXPECT_EQ(storage.data.results.size(), 1u);
  auto other = enrol("SN04");
  auto r4 = lifecycle.record_result(other, s.id, {1, StepStatus::ok, Json::object(), ""});
  ASSERT_FALSE(r4);
  EXPECT_EQ(r4.error().code, Errc::not_found);  // not that device's step
}

TEST_F(StepLifecycleTest, AFailedStepWaitsForAnOperatorThenRetryStartsAFreshAttempt) {
  const auto dev = enrol("SN05");
  auto s = *next(dev).step;
  ASSERT_TRUE(result(dev, s, StepStatus::failed, Json::object(), "SMBIOS table unreadable"));
  auto w = next(dev);
  EXPECT_EQ(w.state, NextResponse::State::waiting);
  EXPECT_EQ(w.reason, "SMBIOS table unreadable");
  ASSERT_TRUE(runs.retry_step(s.id, "alice"));
  auto again = next(dev);
  ASSERT_EQ(again.state, NextResponse::State::step);
  EXPECT_EQ(again.step->attempt, 2);
  auto old = result(dev, s);  // the first attempt's answer comes too late
  ASSERT_FALSE(old);
  EXPECT_EQ(old.error().code, Errc::conflict);
  EXPECT_EQ(runs.retry_step(s.id, "alice").error().code, Errc::conflict);  // it is running
  ASSERT_TRUE(runs.skip_step(s.id, "alice"));
  EXPECT_EQ(next(dev).step->kind, StepKind::wipe);
  ASSERT_TRUE(runs.cancel_device(dev, "alice"));
  EXPECT_EQ(next(dev).state, NextResponse::State::cancelled);
  EXPECT_EQ(runs.cancel_device(dev, "alice").error().code, Errc::conflict);
  ASSERT_TRUE(runs.restart_device(dev, "alice"));
  EXPECT_EQ(next(dev).step->kind, StepKind::inventory);
}

TEST_F(StepLifecycleTest, RestartingAnUnknownDeviceIsNotFound) {
  // Used to be an internal error ("no workflow applies"): the device simply does not exist.
  EXPECT_EQ(runs.restart_device(999, "alice").error().code, Errc::not_found);
}

TEST_F(StepLifecycleTest, DeadlinePassesOnlyWithoutProgress) {
  const auto dev = enrol("SN06");
  auto s = *next(dev).step;
  now += 50;
  ASSERT_TRUE(lifecycle.progress(dev, s.id, Json{{"bytes_done", 1}}));
  now += 50;  // 100 s after start, 50 s after progress: still alive
  EXPECT_TRUE(lifecycle.expire_deadlines()->empty());
  now += 61;
  auto expired = lifecycle.expire_deadlines();
  ASSERT_TRUE(expired);
  EXPECT_EQ(*expired, std::vector<std::int64_t>{dev});
  auto w = next(dev);
  EXPECT_EQ(w.state, NextResponse::State::waiting);
  EXPECT_NE(w.reason.find("deadline"), std::string::npos);
  auto p = lifecycle.progress(dev, s.id, Json::object());
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, Errc::conflict);  // a failed step takes no more progress
  EXPECT_EQ(result(dev, s).error().code, Errc::conflict);
}

TEST_F(StepLifecycleTest, RunningStepsGetAFreshDeadlineAfterARestart) {
  const auto dev = enrol("SN07");
  auto s = *next(dev).step;
  now += 3600;  // the server was down for an hour
  LiveSteps fresh;
  StepLifecycle restarted(ctx, fresh, certifier, StallTimeouts{{}, 60});
  ASSERT_TRUE(restarted.load_running_steps());
  EXPECT_TRUE(restarted.expire_deadlines()->empty());  // not the agent's fault
  now += 61;
  EXPECT_EQ(restarted.expire_deadlines()->size(), 1u);
}

TEST_F(StepLifecycleTest, StallTimeoutsArePerKind) {
  StepLifecycle slow_wipes(ctx, live, certifier, StallTimeouts{{{"inventory", 1000}}, 60});
  const auto dev = enrol("SN08");
  auto s = *slow_wipes.next(dev)->step;
  EXPECT_EQ(s.kind, StepKind::inventory);
  now += 500;
  EXPECT_TRUE(slow_wipes.expire_deadlines()->empty());
}

TEST_F(StepLifecycleTest, CheckpointsComeBackOnResumeAndAreDroppedOnRetry) {
  const auto dev = enrol("SN09");
  auto s = *next(dev).step;
  EXPECT_EQ(lifecycle.checkpoint(dev, s.id, 2, Json{{"done", 1}}).error().code, Errc::conflict);
  ASSERT_TRUE(
      lifecycle.checkpoint(dev, s.id, 1, Json{{"done", Json::array({Json::array({0, 4})})}}));
  auto again = next(dev);
  ASSERT_TRUE(again.step->checkpoint);
  EXPECT_EQ((*again.step->checkpoint)["done"][0][1], 4);
  ASSERT_TRUE(result(dev, s, StepStatus::failed, Json::object(), "disk error"));
  ASSERT_TRUE(runs.retry_step(s.id, "op"));
  auto retried = next(dev);
  EXPECT_EQ(retried.step->attempt, 2);
  EXPECT_FALSE(retried.step->checkpoint);  // a new attempt starts from scratch
}

TEST_F(StepLifecycleTest, AWipeJobIsNeverSentWithoutItsDriveList) {
  const auto dev =
      enrol("SN10", Json{{"disks", Json::array({{{"name", "sda"}, {"serial", "X"}}})}});
  ASSERT_TRUE(result(dev, *next(dev).step));  // inventory
  storage.inventory_error = make_error(Errc::io, "disk I/O error");
  const auto started = storage.events_of("step-started").size();
  auto n = lifecycle.next(dev);
  ASSERT_FALSE(n);                                               // was: a wipe job naming no drives
  EXPECT_EQ(storage.events_of("step-started").size(), started);  // nothing half done
  storage.inventory_error.reset();
  auto ok = next(dev);
  ASSERT_EQ(ok.step->kind, StepKind::wipe);
  EXPECT_EQ(ok.step->params["drives"][0]["serial"], "X");
  EXPECT_EQ(ok.step->attempt, 1);
}

TEST_F(StepLifecycleTest, ChangesAreAnnouncedAfterTheyAreCommitted) {
  const auto dev = enrol("SN11");
  const int before = changes;
  auto s = *next(dev).step;  // started
  EXPECT_EQ(changes, before + 1);
  next(dev);  // resumed: nothing changed that a dashboard shows
  EXPECT_EQ(changes, before + 1);
  ASSERT_TRUE(result(dev, s));
  EXPECT_EQ(changes, before + 2);
}

}  // namespace
}  // namespace revive::server::test
