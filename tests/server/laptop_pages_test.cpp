// The operator pages' views (domain/laptop_pages): the list's filters, and a laptop's page
// through a failed test, a retry and a grade, over the fake repositories.
#include <gtest/gtest.h>

#include "domain/laptop_pages.hpp"
#include "domain_fixture.hpp"
#include "revive/grading.hpp"

namespace revive::server {
namespace {

using protocol::StepKind;
using protocol::StepStatus;

TEST(LaptopFilter, EachFieldFiltersAndBadValuesAreRefused) {
  const Json a = {{"id", 12},           {"vendor", "LENOVO"}, {"model", "ThinkPad T480"},
                  {"serial", "PF1ABC"}, {"batch", "gent-1"},  {"state", "failed"},
                  {"grade", nullptr}};
  const Json b = {{"id", 7},          {"vendor", "Dell Inc."}, {"model", "Latitude 7490"},
                  {"serial", "XYZ9"}, {"batch", nullptr},      {"state", "done"},
                  {"grade", "B"}};
  const struct {
    LaptopFilter f;
    bool a, b;
  } cases[] = {
      {{}, true, true},
      {{"failed", "", "", ""}, true, false},
      {{"done", "", "", ""}, false, true},
      {{"", "gent-1", "", ""}, true, false},
      {{"", "", "B", ""}, false, true},
      {{"", "", "none", ""}, true, false},
      {{"", "", "", "thinkpad"}, true, false},  // any case
      {{"", "", "", "xyz"}, false, true},
      {{"", "", "", "12"}, true, false},  // the id
      {{"", "", "", "dell"}, false, true},
      {{"done", "", "B", "latitude"}, false, true},
      {{"failed", "", "B", ""}, false, false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.f.state + "|" + c.f.batch + "|" + c.f.grade + "|" + c.f.text);
    ASSERT_TRUE(validate(c.f));
    EXPECT_EQ(laptop_matches(a, c.f), c.a);
    EXPECT_EQ(laptop_matches(b, c.f), c.b);
  }
  auto bad_state = validate({"broken", "", "", ""});
  ASSERT_FALSE(bad_state);
  EXPECT_EQ(bad_state.error().code, Errc::invalid_input);
  EXPECT_NE(bad_state.error().message.find("state"), std::string::npos);
  EXPECT_FALSE(validate({"", "", "E", ""}));
  // Grading gives A, B, C or reject (revive::kGrades): a D filter could only ever show nothing.
  auto d = validate({"", "", "D", ""});
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message.find("A, B, C, reject or none"), std::string::npos);
  for (const auto g : kGrades) EXPECT_TRUE(validate({"", "", std::string(g), ""}));
  EXPECT_FALSE(validate({"", "", "", std::string(201, 'x')}));
}

TEST(InventoryDigest, TheFiguresAPageShows) {
  const Json inv = {{"cpu", {{"model", "Intel Core i5-8350U"}, {"cores", 4}, {"threads", 8}}},
                    {"memory", {{"total_mib", 15872}}},
                    {"disks", Json::array({{{"name", "nvme0n1"},
                                            {"model", "SAMSUNG"},
                                            {"size_bytes", 256000000000},
                                            {"transport", "nvme"},
                                            {"smart", {{"passed", true}}}}})},
                    {"batteries", Json::array({{{"design_wh", 57.0}, {"full_wh", 44.5}}})},
                    {"firmware", {{"mode", "uefi"}, {"secure_boot", true}}}};
  const Json d = inventory_digest(inv);
  EXPECT_EQ(d["cpu"]["model"], "Intel Core i5-8350U");
  EXPECT_EQ(d["memory_mib"], 15872);
  ASSERT_EQ(d["disks"].size(), 1u);
  EXPECT_EQ(d["disks"][0]["size_bytes"], 256000000000);
  EXPECT_FALSE(d["disks"][0].contains("smart")) << "a digest, not the whole inventory";
  EXPECT_EQ(d["batteries"][0]["health_pct"], 78);
  EXPECT_EQ(inventory_digest(Json()), Json::object());
}

class LaptopPagesTest : public test::DomainTest {
 protected:
  LaptopPages pages{ctx, views};
};

TEST_F(LaptopPagesTest, AFailedTestRetriedAndGradedShowsOnItsPage) {
  const auto dev = enrol("SN01");
  const auto other = enrol("SN02");
  const auto test = advance_to(dev, StepKind::test);  // inventory, wipe (certified) done
  ASSERT_TRUE(lifecycle.add_events(dev, Json::array({{{"kind", "log"}, {"message", "fan spin"}}})));
  ASSERT_TRUE(result(dev, test, StepStatus::failed, {{"tests", {{"cpu", {{"multi_score", 9}}}}}},
                     "grading policy line 1: bad"));

  auto failed = pages.page(dev);
  ASSERT_TRUE(failed) << failed.error().message;
  EXPECT_EQ((*failed)["summary"]["state"], "failed");
  EXPECT_EQ((*failed)["test"]["status"], "failed");
  EXPECT_EQ((*failed)["test"]["error"], "grading policy line 1: bad");
  EXPECT_EQ((*failed)["test"]["tests"]["cpu"]["multi_score"], 9);
  EXPECT_EQ((*failed)["test"]["reason_codes"], Json::array());  // none, as from older agents
  ASSERT_EQ((*failed)["wipe"]["drives"].size(), 1u);
  EXPECT_EQ((*failed)["wipe"]["drives"][0]["serial"], "S1");
  EXPECT_EQ((*failed)["wipe"]["drives"][0]["result"], "passed");
  EXPECT_GE((*failed)["certificates"].size(), 2u) << "a drive and a laptop certificate";
  EXPECT_TRUE((*failed)["deploy"].is_null());
  EXPECT_EQ((*failed)["inventory"]["disks"][0]["serial"], "S1");
  std::vector<std::string> kinds;
  for (const auto& e : (*failed)["timeline"]) kinds.push_back(e["kind"]);
  EXPECT_EQ(kinds.front(), "enrolled");
  EXPECT_EQ(kinds.back(), "step-failed");
  EXPECT_EQ(std::count(kinds.begin(), kinds.end(), "certificate"), 2)
      << "the drive's and the laptop's certificate were issued";
  EXPECT_EQ(std::count(kinds.begin(), kinds.end(), "agent"), 0)
      << "the agent's own log stays in the event log";

  auto listed = pages.list({"failed", "", "", ""});
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0]["id"], dev);
  EXPECT_EQ((*listed)[0]["stage"], "test");

  // Retried by an operator, the test passes with a grade and its reasons.
  ASSERT_TRUE(runs.retry_step(test.id, "alice"));
  auto again = next(dev);
  ASSERT_EQ(again.state, protocol::NextResponse::State::step);
  ASSERT_EQ(again.step->id, test.id);
  const Json graded = {{"tests", {{"cpu", {{"multi_score", 11}}}}},
                       {"grading",
                        {{"grade", "B"},
                         {"reasons", Json::array({"at most B: battery at 78%"})},
                         {"reason_codes", Json::array({{{"code", "battery_worn"}}})},
                         {"windows11", {{"ready", true}}},
                         {"suitable_for", "everyday use"}}}};
  ASSERT_TRUE(result(dev, *again.step, StepStatus::ok, graded));
  auto page = pages.page(dev);
  ASSERT_TRUE(page);
  EXPECT_EQ((*page)["test"]["status"], "ok");
  EXPECT_EQ((*page)["test"]["attempt"], 2);
  EXPECT_EQ((*page)["test"]["grade"], "B");
  EXPECT_EQ((*page)["test"]["reasons"], Json::array({"at most B: battery at 78%"}));
  EXPECT_EQ((*page)["test"]["reason_codes"][0]["code"], "battery_worn");  // the page words it
  bool retry_logged = false;
  for (const auto& e : (*page)["timeline"])
    retry_logged |= e["kind"] == "step-retry" && e["data"].value("operator", "") == "alice";
  EXPECT_TRUE(retry_logged);
  EXPECT_EQ(pages.list({"", "", "B", ""})->size(), 1u);
  EXPECT_EQ(pages.list({"", "", "none", ""})->at(0)["id"], other);

  EXPECT_EQ(pages.page(999).error().code, Errc::not_found);
  EXPECT_EQ(pages.list({"", "", "Z", ""}).error().code, Errc::invalid_input);
}

}  // namespace
}  // namespace revive::server
