#include "state.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "temp_dir.hpp"

namespace revive::server {
namespace {

class StateTest : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }
  void reopen() {
    state_.reset();
    StateOptions o;
    o.default_stall_timeout_s = 60;
    auto s = StateStore::open(
        dir_ / "revive.db", [this] { return now_; }, o);
    ASSERT_TRUE(s) << s.error().message;
    state_ = std::move(*s);
  }
  EnrolResult enrol(const std::string& serial) {
    auto r = state_->enrol({"uuid-" + serial, serial, "Latitude 7490", "Dell Inc."}, Json::array(),
                           Json());
    EXPECT_TRUE(r) << r.error().message;
    return *r;
  }
  Json next(std::int64_t dev) {
    auto r = state_->next_step(dev);
    EXPECT_TRUE(r) << r.error().message;
    return *r;
  }

  test::TempDir dir_;
  std::int64_t now_ = 1'800'000'000;
  std::unique_ptr<StateStore> state_;
};

TEST_F(StateTest, ResultIsRecordedExactlyOnceAndSurvivesReopen) {
  auto e = enrol("SN1");
  auto s = next(e.device_id)["step"];
  auto r1 = state_->post_result(e.device_id, s["id"], s["attempt"], "ok", Json{{"a", 1}}, "");
  ASSERT_TRUE(r1);
  EXPECT_TRUE((*r1)["recorded"].get<bool>());
  reopen();
  auto r2 = state_->post_result(e.device_id, s["id"], s["attempt"], "ok", Json{{"a", 1}}, "");
  ASSERT_TRUE(r2);
  EXPECT_TRUE((*r2)["duplicate"].get<bool>());
  auto r3 = state_->post_result(e.device_id, s["id"], s["attempt"], "failed", Json(), "x");
  ASSERT_FALSE(r3);
  EXPECT_EQ(r3.error().code, Errc::conflict);
  auto d = state_->device(e.device_id);
  ASSERT_TRUE(d);
  EXPECT_EQ((*d)["results"].size(), 1u);
}

TEST_F(StateTest, DeadlinePassesOnlyWithoutProgress) {
  auto e = enrol("SN2");
  auto s = next(e.device_id)["step"];
  now_ += 50;
  ASSERT_TRUE(state_->progress(e.device_id, s["id"], Json{{"bytes_done", 1}}));
  now_ += 50;  // 100 s after start, 50 s after progress: still alive
  EXPECT_TRUE(state_->expire_deadlines()->empty());
  now_ += 61;
  auto expired = state_->expire_deadlines();
  ASSERT_TRUE(expired);
  ASSERT_EQ(expired->size(), 1u);
  auto w = next(e.device_id);
  EXPECT_EQ(w["state"], "waiting");
  EXPECT_NE(w["reason"].get<std::string>().find("deadline"), std::string::npos);
}

TEST_F(StateTest, RestartGivesRunningStepsAFreshDeadline) {
  auto e = enrol("SN5");
  auto s = next(e.device_id)["step"];
  now_ += 3600;  // the server was down for an hour
  reopen();
  ASSERT_TRUE(state_->load_running_steps());
  EXPECT_TRUE(state_->expire_deadlines()->empty());  // not the agent's fault
  ASSERT_TRUE(state_->progress(e.device_id, s["id"], Json{{"bytes_done", 5}}));
  now_ += 61;
  EXPECT_EQ(state_->expire_deadlines()->size(), 1u);
  auto p = state_->progress(e.device_id, s["id"], Json::object());
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, Errc::conflict);  // a failed step takes no more progress
}

TEST_F(StateTest, CheckpointsComeBackOnResumeAndAreDroppedOnRetry) {
  auto e = enrol("SN6");
  auto s = next(e.device_id)["step"];
  EXPECT_EQ(state_->checkpoint(e.device_id, s["id"], 2, Json{{"done", 1}}).error().code,
            Errc::conflict);
  ASSERT_TRUE(state_->checkpoint(e.device_id, s["id"], 1,
                                 Json{{"done", Json::array({Json::array({0, 4})})}}));
  reopen();
  ASSERT_TRUE(state_->load_running_steps());
  auto again = next(e.device_id)["step"];
  EXPECT_TRUE(again["resumed"].get<bool>());
  EXPECT_EQ(again["checkpoint"]["done"][0][1], 4);
  ASSERT_TRUE(state_->post_result(e.device_id, s["id"], 1, "failed", Json::object(), "disk error"));
  ASSERT_TRUE(state_->retry_step(s["id"], "op"));
  auto retried = next(e.device_id)["step"];
  EXPECT_EQ(retried["attempt"], 2);
  EXPECT_FALSE(retried.contains("checkpoint"));  // a new attempt starts from scratch
}

TEST_F(StateTest, WorkflowsFromRules) {
  ASSERT_TRUE(state_->put_workflow("wipe-only",
                                   Json::array({{{"kind", "inventory"}}, {{"kind", "wipe"}}})));
  ASSERT_TRUE(state_->create_batch("ministry-2026", "Ministry of BZK", std::string("wipe-only"),
                                   std::nullopt));
  ASSERT_TRUE(state_->set_setting("intake_batch", "ministry-2026"));
  auto e = enrol("SN3");
  auto d = state_->device(e.device_id);
  EXPECT_EQ((*d)["workflow"], "wipe-only");
  EXPECT_EQ((*d)["batch"], "ministry-2026");
  EXPECT_EQ((*d)["steps"].size(), 2u);
  EXPECT_FALSE(state_->put_workflow("bad", Json::array({{{"kind", "format-c"}}})));
  EXPECT_EQ(state_->set_default_workflow("no-such").error().code, Errc::not_found);
  EXPECT_EQ(state_->set_intake_batch("no-such").error().code, Errc::not_found);
  ASSERT_TRUE(state_->set_default_workflow("wipe-only"));
  EXPECT_EQ(state_->create_batch("ministry-2026", "", std::nullopt, std::nullopt).error().code,
            Errc::conflict);
  EXPECT_EQ(state_->assign_device(e.device_id, std::string("nope"), std::nullopt).error().code,
            Errc::not_found);
}

TEST_F(StateTest, OperatorsAndTokens) {
  EXPECT_FALSE(state_->add_operator("bob", "short"));
  ASSERT_TRUE(state_->add_operator("bob", "long enough password"));
  EXPECT_EQ(state_->login("bob", "wrong password!").error().code, Errc::unauthorized);
  EXPECT_EQ(state_->login("nobody", "long enough password").error().code, Errc::unauthorized);
  auto t = state_->login("bob", "long enough password");
  ASSERT_TRUE(t);
  EXPECT_EQ(*state_->authenticate_operator(*t), "bob");
  now_ += 13 * 3600;  // sessions expire
  EXPECT_EQ(state_->authenticate_operator(*t).error().code, Errc::unauthorized);
  auto api = state_->create_api_token("bob", "ci");
  ASSERT_TRUE(api);
  EXPECT_EQ(*state_->authenticate_operator(*api), "bob");  // API tokens do not
}

TEST_F(StateTest, EventLogIsAppendOnly) {
  enrol("SN4");
  auto ev = state_->events_since(0, 10);
  ASSERT_TRUE(ev);
  EXPECT_FALSE(ev->empty());
  auto db = Database::open(dir_ / "revive.db");
  ASSERT_TRUE(db);
  EXPECT_FALSE(db->exec("DELETE FROM events"));
  EXPECT_FALSE(db->exec("UPDATE events SET kind = 'x'"));
}

}  // namespace
}  // namespace revive::server
