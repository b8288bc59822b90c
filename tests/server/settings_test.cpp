// The settings page (issue 16) over the fake repositories: settings checked before anything is
// stored, named recipient profiles (checked, given to a batch, reaching its provision step, not
// removable while a batch uses them) and the preview of an edited grading policy, computed by
// the agents' own grading code from the test figures and inventories on file.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "domain/grading_preview.hpp"
#include "domain/recipient_profiles.hpp"
#include "domain_fixture.hpp"
#include "revive/grading.hpp"

namespace revive::server {
namespace {

using protocol::StepKind;
using protocol::StepStatus;

// A laptop that grades A under the default policy but for what the test changes: one battery
// of this health, this much RAM, a healthy 256 GB NVMe drive (the one wipe_evidence names).
Json laptop_inventory(double battery_pct, long long ram_mib) {
  Json inv = test::test_inventory();
  inv["disks"][0]["size_bytes"] = 256'000'000'000LL;
  inv["disks"][0]["smart"] = {{"available", true}, {"passed", true}};
  inv["batteries"] = Json::array({{{"name", "BAT0"}, {"health_pct", battery_pct}}});
  inv["memory"] = {{"installed_mib", ram_mib}};
  return inv;
}

const Json kTests = {{"memory", {{"errors", 0}}}, {"cpu", {{"single_score", 900.0}}}};

SettingsUpdate policy_and_name(std::optional<std::string> policy,
                               std::optional<std::string> name = std::nullopt) {
  SettingsUpdate u;
  u.grading_policy = std::move(policy);
  u.workshop_name = std::move(name);
  return u;
}

class SettingsTest : public test::DomainTest {
 protected:
  // The blocking pool: work waits here until the test runs it (on a thread of its own).
  SettingsTest()
      : profiles(ctx), preview(ctx, [this](std::function<void()> work, std::function<void()> done) {
          queued.emplace_back(std::move(work), std::move(done));
        }) {
    EXPECT_TRUE(catalog.put_workflow("default",
                                     Json::array({{{"kind", "inventory"}}, {{"kind", "test"}}})));
  }

  // Enrols a laptop and reports its test step as the agent would: graded by the default policy.
  std::int64_t tested(const std::string& serial, const Json& inventory) {
    const std::int64_t dev = enrol(serial, inventory);
    const auto step = advance_to(dev, StepKind::test);
    const Json g = grade(inventory, kTests, *parse_policy(default_policy_toml()));
    EXPECT_TRUE(result(dev, step, StepStatus::ok, {{"tests", kTests}, {"grading", g}}));
    return dev;
  }

  // Runs the queued work as the pool would: off this thread, then `done` back here.
  void run_pool() {
    for (auto& [work, done] : queued) {
      std::thread(work).join();
      done();
    }
    queued.clear();
  }

  std::vector<std::pair<std::function<void()>, std::function<void()>>> queued;
  RecipientProfiles profiles;
  GradingPreview preview;
};

TEST_F(SettingsTest, APreviewRegradesTheLaptopsOnFileAndStoresNothing) {
  const std::int64_t worn = tested("SN01", laptop_inventory(75, 16384));
  tested("SN02", laptop_inventory(95, 16384));
  tested("SN03", laptop_inventory(95, 4096));
  enrol("SN04", laptop_inventory(50, 16384));  // never tested: not in the preview
  ASSERT_TRUE(catalog.update_settings(policy_and_name("[battery]\nb_below_pct = 80\n")));

  auto p = preview.preview("[battery]\nb_below_pct = 70\nc_below_pct = 60\n");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ((*p)["laptops"], 3);
  EXPECT_EQ((*p)["before"], (Json{{"A", 1}, {"B", 2}, {"C", 0}, {"reject", 0}}));
  EXPECT_EQ((*p)["after"], (Json{{"A", 2}, {"B", 1}, {"C", 0}, {"reject", 0}}));
  ASSERT_EQ((*p)["changed"].size(), 1u);
  const Json& c = (*p)["changed"][0];
  EXPECT_EQ(c["id"], worn);
  EXPECT_EQ(c["before"], "B");
  EXPECT_EQ(c["after"], "A");
  EXPECT_EQ(c["reasons"], Json::array());
  EXPECT_NE(c["reasons_before"][0].get<std::string>().find("BAT0 75% of design < 80%"),
            std::string::npos);
  EXPECT_EQ(c["reason_codes_before"][0]["vars"]["pct"], 75);  // the page words it again
  // A stricter policy: the reason the laptop drops is the new rule's.
  auto strict = preview.preview("[memory]\nb_below_mib = 32768\n");
  ASSERT_TRUE(strict);
  EXPECT_EQ((*strict)["after"]["B"], 3);
  ASSERT_EQ((*strict)["changed"].size(), 1u);
  EXPECT_EQ((*strict)["changed"][0]["after"], "B");
  EXPECT_NE((*strict)["changed"][0]["reasons"].dump().find("RAM 16384 MiB < 32768 MiB"),
            std::string::npos);
  EXPECT_EQ((*strict)["changed"][0]["reason_codes"][0]["code"], "ram_small");
  // Only looked: the stored policy is the one set above.
  EXPECT_EQ(storage.data.settings["grading_policy"], "[battery]\nb_below_pct = 80\n");
}

// An agent's figures that grading cannot read (a broken or hostile agent sent them) leave that
// laptop out of the preview; the rest are graded again and the server goes on (the grading runs
// on the blocking pool, where an escaped exception would end the process).
TEST_F(SettingsTest, FiguresGradingCannotReadLeaveThatLaptopOut) {
  tested("SN01", laptop_inventory(75, 16384));
  Json odd = laptop_inventory(75, 16384);
  odd["batteries"][0]["name"] = 5;
  const std::int64_t dev = enrol("SN02", odd);
  const auto step = advance_to(dev, StepKind::test);
  ASSERT_TRUE(
      result(dev, step, StepStatus::ok, {{"tests", kTests}, {"grading", {{"grade", "B"}}}}));
  auto job = preview.start("[battery]\nb_below_pct = 70\n", [](std::uint64_t) {});
  ASSERT_TRUE(job) << job.error().message;
  run_pool();
  auto answer = preview.take(*job);
  ASSERT_TRUE(answer && *answer && **answer);
  EXPECT_EQ((***answer)["laptops"], 1);
  EXPECT_EQ((***answer)["not_regraded"], 1);
  EXPECT_EQ((***answer)["changed"][0]["serial"], "SN01");
}

// The route's way: the figures are read when the preview starts, the grading runs on the pool
// from them alone (a laptop tested meanwhile is not in it), and the answer is handed out once.
TEST_F(SettingsTest, APreviewStartedGradesOnThePoolWhatWasReadAtTheStart) {
  tested("SN01", laptop_inventory(75, 16384));
  tested("SN02", laptop_inventory(95, 4096));
  const std::string policy = "[battery]\nb_below_pct = 70\nc_below_pct = 60\n";  // SN01: B -> A
  auto expected = preview.preview(policy);
  ASSERT_TRUE(expected);
  ASSERT_EQ((*expected)["changed"].size(), 1u);
  std::vector<std::uint64_t> finished;
  auto job = preview.start(policy, [&](std::uint64_t j) { finished.push_back(j); });
  ASSERT_TRUE(job) << job.error().message;
  auto running = preview.take(*job);
  ASSERT_TRUE(running);
  EXPECT_FALSE(*running);
  tested("SN03", laptop_inventory(95, 16384));  // after the start: not in this preview
  ASSERT_EQ(queued.size(), 1u);
  run_pool();
  EXPECT_EQ(finished, std::vector<std::uint64_t>{*job});
  auto answer = preview.take(*job);
  ASSERT_TRUE(answer && *answer && **answer);
  EXPECT_EQ(***answer, *expected);
  EXPECT_EQ((***answer)["laptops"], 2);
  EXPECT_EQ((***answer)["changed"][0]["serial"], "SN01");
  auto again = preview.take(*job);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::not_found);

  // A bad policy is refused at the start; nothing goes to the pool.
  auto bad = preview.start("[memory]\nx = 1\n", [](std::uint64_t) {});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("memory.x"), std::string::npos);
  EXPECT_TRUE(queued.empty());

  // Given up while running (the request timed out): the answer is dropped when it comes.
  auto dropped = preview.start(policy, [&](std::uint64_t j) { finished.push_back(j); });
  ASSERT_TRUE(dropped);
  auto gave_up = preview.take(*dropped, true);
  ASSERT_TRUE(gave_up);
  EXPECT_FALSE(*gave_up);
  run_pool();
  EXPECT_EQ(finished.size(), 1u);
  EXPECT_FALSE(preview.take(*dropped));
}

TEST_F(SettingsTest, APreviewOfABadPolicyNamesTheKey) {
  tested("SN01", laptop_inventory(75, 16384));
  auto p = preview.preview("[battery]\nb_below_pct = 'high'\n");
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, Errc::invalid_input);
  EXPECT_NE(p.error().message.find("battery.b_below_pct"), std::string::npos);
}

TEST_F(SettingsTest, ABadSettingIsRefusedByNameAndNothingIsStored) {
  const auto before = storage.data.settings;
  auto r =
      catalog.update_settings(policy_and_name("[memory]\nc_below_mib = -1\n", "Repair Café Gent"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::invalid_input);
  EXPECT_NE(r.error().message.find("grading_policy"), std::string::npos);
  EXPECT_NE(r.error().message.find("memory.c_below_mib"), std::string::npos);
  EXPECT_EQ(storage.data.settings, before);  // not even the good workshop name
  for (const std::string& bad : {std::string("two\nlines"), std::string("tab\there")}) {
    auto n = catalog.update_settings(policy_and_name(std::nullopt, bad));
    ASSERT_FALSE(n) << bad;
    EXPECT_NE(n.error().message.find("workshop_name"), std::string::npos);
  }
  EXPECT_EQ(storage.data.settings, before);

  ASSERT_TRUE(catalog.update_settings(policy_and_name(std::nullopt, "Repair Café Gent")));
  auto view = catalog.settings();
  ASSERT_TRUE(view);
  EXPECT_EQ((*view)["workshop_name"], "Repair Café Gent");
  EXPECT_EQ((*view)["default_workflow"], "default");
  EXPECT_EQ((*view)["grading_policy"], default_policy_toml());
  EXPECT_EQ((*view)["grading_policy_is_default"], true);
  EXPECT_EQ((*view)["workflows"], Json::array({"default"}));
}

TEST_F(SettingsTest, AWorkflowsOwnGradingPolicyIsCheckedLikeTheWorkshops) {
  const Json bad = Json::array(
      {{{"kind", "test"}, {"params", {{"grading_policy", "[memory]\nc_below_mib = 'lots'\n"}}}}});
  auto r = catalog.put_workflow("strict", bad);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::invalid_input);
  EXPECT_NE(r.error().message.find("memory.c_below_mib"), std::string::npos);
  EXPECT_FALSE(*storage.workflows().find("strict"));
  EXPECT_FALSE(catalog.put_workflow(
      "strict", Json::array({{{"kind", "test"}, {"params", {{"grading_policy", 7}}}}})));
  EXPECT_TRUE(catalog.put_workflow(
      "strict",
      Json::array({{{"kind", "test"},
                    {"params", {{"grading_policy", "[memory]\nb_below_mib = 16384\n"}}}}})));
}

TEST_F(SettingsTest, ANamedProfileReachesTheBatchsProvisionStepAndCannotGoWhileUsed) {
  auto bad = profiles.put("school", {{"timezone", "/etc/passwd"}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::invalid_input);
  EXPECT_NE(bad.error().message.find("timezone"), std::string::npos);
  EXPECT_TRUE(storage.data.recipient_profiles.empty());
  EXPECT_EQ(profiles.put("", Json::object()).error().code, Errc::invalid_input);
  ASSERT_TRUE(profiles.put("school", {{"locale", "nl_BE.UTF-8"}, {"keyboard", "be"}}));

  // The run a new laptop starts is the default workflow's.
  ASSERT_TRUE(catalog.put_workflow(
      "default", Json::array({{{"kind", "inventory"}}, {{"kind", "provision"}}})));
  ASSERT_TRUE(catalog.create_batch("gent-1", "Stad Gent", std::nullopt, std::nullopt));
  BatchUpdate unknown;
  unknown.profile_name = std::optional<std::string>("library");
  EXPECT_EQ(catalog.update_batch("gent-1", unknown).error().code, Errc::not_found);
  BatchUpdate use;
  use.profile = Json{{"locale", "fr_BE.UTF-8"}};  // the batch's own, which the named one beats
  use.profile_name = std::optional<std::string>("school");
  ASSERT_TRUE(catalog.update_batch("gent-1", use));

  auto used = profiles.remove("school");
  ASSERT_FALSE(used);
  EXPECT_EQ(used.error().code, Errc::conflict);
  EXPECT_NE(used.error().message.find("used by batch \"gent-1\""), std::string::npos);
  auto listed = profiles.list();
  ASSERT_TRUE(listed);
  EXPECT_EQ((*listed)[0]["batches"], Json::array({"gent-1"}));

  // An edit after the batch chose the profile reaches the laptops provisioned later.
  ASSERT_TRUE(profiles.put("school", {{"locale", "nl_BE.UTF-8"}, {"keyboard", "be-latin1"}}));
  const std::int64_t dev = enrol("SN01");
  ASSERT_TRUE(catalog.assign_device(dev, "gent-1", std::nullopt));
  auto step = advance_to(dev, StepKind::provision);
  EXPECT_EQ(step.params["profile"], (Json{{"locale", "nl_BE.UTF-8"}, {"keyboard", "be-latin1"}}));

  BatchUpdate none;
  none.profile_name = std::optional<std::string>();
  ASSERT_TRUE(catalog.update_batch("gent-1", none));
  ASSERT_TRUE(profiles.remove("school"));
  EXPECT_EQ(profiles.remove("school").error().code, Errc::not_found);
}

}  // namespace
}  // namespace revive::server
