// The wall screen's view model (domain/wall.hpp): tiles from device summaries, the counts,
// today's throughput, and what a connected screen is sent; and the kiosk links that open it.
#include "domain/wall.hpp"

#include <gtest/gtest.h>

#include "domain/operators.hpp"
#include "domain_fixture.hpp"

namespace revive::server {
namespace {

using protocol::StepKind;

std::string peer_name(std::int64_t id) { return "peer" + std::to_string(id); }

Json summary(const std::string& state, Json current, Json grade = Json()) {
  return {{"id", 7},
          {"model", "Latitude 7490"},
          {"vendor", "Dell Inc."},
          {"serial", "8KQ7XK2ABC"},
          {"state", state},
          {"current", std::move(current)},
          {"grade", std::move(grade)},
          {"last_seen", 1000}};
}

TEST(WallTile, AssetTagsIgnoreFirmwarePlaceholders) {
  EXPECT_EQ(asset_tag_of({{"chassis", {{"asset_tag", " RC-0042 "}}}}), "RC-0042");
  for (const char* p : {"No Asset Tag", "To Be Filled By O.E.M.", "Default string", ""})
    EXPECT_EQ(asset_tag_of({{"chassis", {{"asset_tag", p}}}}), "") << p;
  EXPECT_EQ(asset_tag_of({{"chassis", {{"asset_tag", nullptr}}}}), "");
  EXPECT_EQ(asset_tag_of(Json::array()), "");
}

TEST(WallTile, LabelIsTheAssetTagElseTheSerialsTail) {
  EXPECT_EQ(tile_label("RC-0042", "8KQ7XK2ABC", 3), "RC-0042");
  EXPECT_EQ(tile_label("", "8KQ7XK2ABC", 3), "\u2026XK2ABC");
  EXPECT_EQ(tile_label("", "SHORT", 3), "SHORT");
  EXPECT_EQ(tile_label("", "", 3), "#3");
}

TEST(WallTile, ARunningStepShowsItsStageProgressRateAndEta) {
  const Json t = wall_tile(
      summary("running",
              {{"kind", "wipe"},
               {"state", "running"},
               {"progress", {{"bytes_done", 250.0}, {"bytes_total", 1000.0}, {"rate", 50.0}}}}),
      "", peer_name);
  EXPECT_EQ(t["status"], "working");
  EXPECT_EQ(t["stage"], "wipe");
  EXPECT_EQ(t["label"], "\u2026XK2ABC");
  EXPECT_DOUBLE_EQ(t["fraction"].get<double>(), 0.25);
  EXPECT_DOUBLE_EQ(t["rate"].get<double>(), 50.0);
  EXPECT_DOUBLE_EQ(t["eta_s"].get<double>(), 15.0);
  EXPECT_TRUE(t["failure"].is_null());
  EXPECT_TRUE(t["source"].is_null());
}

TEST(WallTile, ProgressWithoutTotalsOrRateShowsNoBarOrEta) {
  const Json t =
      wall_tile(summary("running",
                        {{"kind", "test"}, {"state", "running"}, {"progress", {{"stage", "cpu"}}}}),
                "", peer_name);
  EXPECT_TRUE(t["fraction"].is_null());
  EXPECT_TRUE(t["rate"].is_null());
  EXPECT_TRUE(t["eta_s"].is_null());
}

TEST(WallTile, ADeployShowsItsChunkSourceAndAQueuedOneWaits) {
  Json peer =
      summary("running", {{"kind", "deploy"},
                          {"state", "running"},
                          {"source", {{"kind", "peer"}, {"peer", 4}, {"url", "http://x"}}}});
  Json t = wall_tile(peer, "", peer_name);
  EXPECT_EQ(t["status"], "working");
  EXPECT_EQ(t["source"], (Json{{"kind", "peer"}, {"peer", "peer4"}}));
  Json queued = summary(
      "running",
      {{"kind", "deploy"}, {"state", "running"}, {"source", {{"kind", "queued"}, {"place", 3}}}});
  t = wall_tile(queued, "", peer_name);
  EXPECT_EQ(t["status"], "waiting");
  EXPECT_EQ(t["source"], (Json{{"kind", "queued"}, {"place", 3}}));
}

TEST(WallTile, AFailedStepSaysWhyAndAStallIsPutInPlainWords) {
  Json t = wall_tile(summary("failed", {{"kind", "deploy"},
                                        {"state", "failed"},
                                        {"error", "no image assigned to this laptop"}}),
                     "", peer_name);
  EXPECT_EQ(t["status"], "failed");
  EXPECT_EQ(t["stage"], "deploy");
  EXPECT_EQ(t["failure"], (Json{{"kind", "step_failed"},
                                {"step", "deploy"},
                                {"detail", "no image assigned to this laptop"}}));
  t = wall_tile(summary("failed", {{"kind", "wipe"},
                                   {"state", "failed"},
                                   {"error",
                                    "no progress from the agent for 600 s: the wipe step "
                                    "passed its deadline"}}),
                "", peer_name);
  EXPECT_EQ(t["failure"], (Json{{"kind", "stalled"}, {"step", "wipe"}, {"detail", ""}}));
}

TEST(WallTile, DoneShowsTheGradeAndIdleWaits) {
  Json t = wall_tile(summary("done", Json(), "B"), "RC-1", peer_name);
  EXPECT_EQ(t["status"], "done");
  EXPECT_EQ(t["stage"], "done");
  EXPECT_EQ(t["grade"], "B");
  EXPECT_EQ(t["label"], "RC-1");
  t = wall_tile(summary("idle", Json()), "", peer_name);
  EXPECT_EQ(t["status"], "waiting");
  EXPECT_EQ(t["stage"], "waiting");
  EXPECT_TRUE(t["grade"].is_null());
}

TEST(WallTile, TheFloorHoldsRunningLaptopsAndRecentOnes) {
  EXPECT_TRUE(on_floor(summary("running", Json()), 1'000'000, 3600));  // however old
  EXPECT_TRUE(on_floor(summary("done", Json()), 1000 + 3600, 3600));
  EXPECT_FALSE(on_floor(summary("done", Json()), 1001 + 3600, 3600));
  EXPECT_FALSE(on_floor(summary("cancelled", Json()), 1000, 3600));
  // A run made for a laptop that is not here yet (a loan's return) waits off the wall until
  // the laptop is heard of again; once a step began, it is working however old.
  Json waiting = summary("running", Json());
  waiting["steps"] = Json::array({{{"kind", "wipe"}, {"state", "pending"}}});
  EXPECT_FALSE(on_floor(waiting, 1'000'000, 3600));
  EXPECT_TRUE(on_floor(waiting, 1000 + 3600, 3600)) << "heard of lately: it came in";
  waiting["steps"][0]["state"] = "running";
  EXPECT_TRUE(on_floor(waiting, 1'000'000, 3600));
}

TEST(WallCounts, CountEachStatusAndWhatFinishedToday) {
  std::map<std::int64_t, Json> tiles = {{1, {{"status", "working"}}},
                                        {2, {{"status", "waiting"}}},
                                        {3, {{"status", "done"}}},
                                        {4, {{"status", "done"}}},
                                        {5, {{"status", "failed"}}}};
  const Json c = wall_counts(tiles, {{3, 5000}, {4, 100}}, 1000);
  EXPECT_EQ(c,
            (Json{{"waiting", 1}, {"working", 1}, {"done", 2}, {"failed", 1}, {"done_today", 1}}));
}

class WallTest : public test::DomainTest {
 protected:
  Wall wall{ctx, views, WallOptions{Seconds{12} * 3600, [](Seconds) { return Seconds{0}; }}};
};

TEST_F(WallTest, ASnapshotShowsEveryLaptopOnTheFloorAndUpdatesOnlyWhatChanged) {
  const auto a = enrol("SERIAL01");
  const auto b = enrol("SERIAL02");
  auto snap = wall.snapshot();
  ASSERT_TRUE(snap) << snap.error().message;
  ASSERT_EQ((*snap)["tiles"].size(), 2u);
  EXPECT_EQ((*snap)["tiles"][0]["id"], a);
  EXPECT_EQ((*snap)["tiles"][0]["label"], "\u2026RIAL01");
  EXPECT_EQ((*snap)["counts"]["waiting"], 2);
  auto nothing = wall.update();
  ASSERT_TRUE(nothing);
  EXPECT_TRUE(nothing->is_null());

  const auto step = advance_to(b, StepKind::test);
  ASSERT_TRUE(lifecycle.progress(b, step.id, {{"bytes_done", 1}, {"bytes_total", 4}}));
  wall.changed(b);
  auto u = wall.update();
  ASSERT_TRUE(u && u->is_object());
  ASSERT_EQ((*u)["tiles"].size(), 1u);
  EXPECT_EQ((*u)["tiles"][0]["id"], b);
  EXPECT_EQ((*u)["tiles"][0]["stage"], "test");
  EXPECT_DOUBLE_EQ((*u)["tiles"][0]["fraction"].get<double>(), 0.25);
  EXPECT_EQ((*u)["counts"]["working"], 1);
  EXPECT_EQ((*u)["counts"]["waiting"], 1);
}

TEST_F(WallTest, ScreensConnectedBeforeASnapshotStillGetWhatItFoundChanged) {
  const auto a = enrol("SERIAL01");
  ASSERT_TRUE(wall.snapshot());
  advance_to(a, StepKind::test);  // changed, but the screen's update has not run yet
  ASSERT_TRUE(wall.snapshot());   // a second screen connects
  auto u = wall.update();
  ASSERT_TRUE(u && u->is_object());
  ASSERT_EQ((*u)["tiles"].size(), 1u);
  EXPECT_EQ((*u)["tiles"][0]["stage"], "test");
}

TEST_F(WallTest, AFailedLaptopIsCountedAndLeavesTheFloorWhenItsTimeRunsOut) {
  const auto a = enrol("SERIAL01");
  const auto step = advance_to(a, StepKind::test);
  ASSERT_TRUE(result(a, step, protocol::StepStatus::failed, Json::object(), "fan stuck"));
  auto snap = wall.snapshot();
  ASSERT_TRUE(snap);
  EXPECT_EQ((*snap)["counts"]["failed"], 1);
  EXPECT_EQ((*snap)["tiles"][0]["failure"]["detail"], "fan stuck");
  now += 11L * 3600;  // still on the floor, waiting to be picked up
  auto u = wall.update();
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->is_null());
  now += 2L * 3600;  // not heard of for longer than the window
  u = wall.update();
  ASSERT_TRUE(u && u->is_object());
  EXPECT_EQ((*u)["gone"], Json::array({a}));
  EXPECT_EQ((*u)["counts"]["failed"], 0);
}

TEST_F(WallTest, KioskLinksOpenTheWallAndNothingElse) {
  Operators ops{ctx};
  ASSERT_TRUE(ops.add("alice", "long enough pw"));
  auto kiosk = ops.create_kiosk_token("alice", "TV by the door");
  ASSERT_TRUE(kiosk);
  auto id = ops.authenticate_kiosk(*kiosk);
  ASSERT_TRUE(id);
  EXPECT_EQ(id->size(), 16u);
  auto as_operator = ops.authenticate(*kiosk);
  ASSERT_FALSE(as_operator);
  EXPECT_EQ(as_operator.error().code, Errc::unauthorized);
  auto api = ops.create_api_token("alice", "script");
  ASSERT_TRUE(api);
  EXPECT_FALSE(ops.authenticate_kiosk(*api));  // an operator token is not a kiosk link
  auto listed = ops.tokens("alice");
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 2u);
  ASSERT_TRUE(ops.revoke("alice", *id));
  EXPECT_FALSE(ops.authenticate_kiosk(*kiosk));
  EXPECT_TRUE(ops.authenticate(*api));
}

}  // namespace
}  // namespace revive::server
