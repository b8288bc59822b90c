// The rules the server adds to a step's parameters: the drives a wipe names, the batch's image
// for a deploy, the workshop's grading policy for a test; the workflow's own values win.
#include <gtest/gtest.h>

#include "domain/step_params.hpp"

namespace revive::server {
namespace {

Json inventory() {
  return {{"disks",
           Json::array({
               {{"name", "nvme0n1"}, {"serial", "S1"}, {"model", "SSD"}, {"transport", "nvme"}},
               {{"name", "sda"}, {"serial", "USB1"}, {"transport", "USB"}},
               {{"name", "mmcblk0"}, {"serial", "SD1"}, {"removable", true}},
               {{"name", "sdb"}, {"serial", 42}},
               {{"serial", "nameless"}},
               "junk",
           })}};
}

TEST(StepParams, AWipeNamesInternalDrivesOnlyNeverUsbOrRemovable) {
  const Json t = wipe_targets(inventory());
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0], (Json{{"name", "nvme0n1"}, {"serial", "S1"}, {"model", "SSD"}}));
  EXPECT_EQ(t[1], (Json{{"name", "sdb"}, {"serial", ""}, {"model", ""}}));  // no usable serial
  EXPECT_EQ(wipe_targets(std::nullopt), Json::array());
  EXPECT_EQ(wipe_targets(Json("not an object")), Json::array());
}

TEST(StepParams, TheServerFillsInWhatTheWorkflowLeftOut) {
  StepParamSources in;
  in.batch_image = "debian-desktop";
  in.grading_policy = "[grade]";
  int inventory_reads = 0;
  in.inventory = [&]() -> Result<std::optional<Json>> {
    ++inventory_reads;
    return std::optional<Json>(inventory());
  };
  EXPECT_EQ(*step_parameters(StepKind::deploy, Json::object(), in),
            (Json{{"image", "debian-desktop"}}));
  EXPECT_EQ(*step_parameters(StepKind::deploy, Json{{"image", "mine"}}, in),
            (Json{{"image", "mine"}}));
  EXPECT_EQ(*step_parameters(StepKind::test, Json{{"cpu_ms", 5}}, in),
            (Json{{"cpu_ms", 5}, {"grading_policy", "[grade]"}}));
  EXPECT_EQ(*step_parameters(StepKind::finish, Json::object(), in), Json::object());
  EXPECT_EQ(inventory_reads, 0);  // only a wipe reads the inventory
  EXPECT_EQ((*step_parameters(StepKind::wipe, Json{{"pattern", "prng"}}, in))["drives"].size(), 2u);
  EXPECT_EQ(inventory_reads, 1);
  EXPECT_EQ(*step_parameters(StepKind::wipe, Json{{"drives", "mine"}}, in),
            (Json{{"drives", "mine"}}));
  in.batch_image.reset();
  EXPECT_EQ(*step_parameters(StepKind::deploy, Json::object(), in), Json::object());
}

// The batches page sets a batch's recipient profile; a provision step gets it unless its
// workflow names its own (whole: its first user too), and a profile that cannot be read fails
// the hand-out.
TEST(StepParams, AProvisionStepGetsItsBatchsProfileUnlessTheWorkflowHasOne) {
  StepParamSources in;
  int reads = 0;
  in.batch_profile = [&]() -> Result<std::optional<Json>> {
    ++reads;
    return std::optional<Json>(
        Json{{"locale", "nl_BE.UTF-8"}, {"first_user", {{"name", "ontvanger"}}}});
  };
  EXPECT_EQ(
      *step_parameters(StepKind::provision, Json::object(), in),
      (Json{{"profile", {{"locale", "nl_BE.UTF-8"}, {"first_user", {{"name", "ontvanger"}}}}}}));
  EXPECT_EQ(*step_parameters(StepKind::provision, Json{{"profile", {{"keyboard", "us"}}}}, in),
            (Json{{"profile", {{"keyboard", "us"}}}}));
  EXPECT_EQ(*step_parameters(StepKind::deploy, Json::object(), in), Json::object());
  EXPECT_EQ(reads, 1);
  in.batch_profile = []() -> Result<std::optional<Json>> { return std::optional<Json>(); };
  EXPECT_EQ(*step_parameters(StepKind::provision, Json::object(), in), Json::object());
  in.batch_profile = []() -> Result<std::optional<Json>> { return make_error(Errc::io, "boom"); };
  EXPECT_EQ(step_parameters(StepKind::provision, Json::object(), in).error().code, Errc::io);
}

TEST(StepParams, AnInventoryThatCannotBeReadIsAnErrorNotAnEmptyDriveList) {
  StepParamSources in;
  in.inventory = []() -> Result<std::optional<Json>> { return make_error(Errc::io, "boom"); };
  auto p = step_parameters(StepKind::wipe, Json::object(), in);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, Errc::io);
}

// A workflow chooses how long the laptop counts down (within 5..300 s), but cannot switch the
// countdown off or tell the laptop another workshop or batch than the server's.
TEST(StepParams, AWorkflowSetsTheCountdownsLengthWithinBoundsButNotWhatItSays) {
  StepParamSources in;
  in.confirm = []() -> Result<ConfirmFacts> { return ConfirmFacts{false, "Repair Café", "b-7"}; };
  auto confirm_of = [&](const Json& workflow) {
    return (*step_parameters(StepKind::deploy, workflow, in))["confirm"];
  };
  EXPECT_EQ(
      confirm_of(Json::object()),
      (Json{{"countdown_s", kConfirmCountdownS}, {"workshop", "Repair Café"}, {"batch", "b-7"}}));
  EXPECT_EQ(confirm_of({{"confirm", {{"countdown_s", 8}}}})["countdown_s"], 8);
  EXPECT_EQ(confirm_of({{"confirm", {{"countdown_s", 0}}}})["countdown_s"],
            kShortestConfirmCountdownS);
  EXPECT_EQ(confirm_of({{"confirm", {{"countdown_s", 100000}}}})["countdown_s"],
            kLongestConfirmCountdownS);
  EXPECT_EQ(confirm_of({{"confirm", false}})["countdown_s"], kConfirmCountdownS);
  EXPECT_EQ(confirm_of({{"confirm", {{"countdown_s", 8}, {"workshop", "elsewhere"}}}})["workshop"],
            "Repair Café");
  // Done before on this device: no countdown, whatever the workflow says.
  in.confirm = []() -> Result<ConfirmFacts> { return ConfirmFacts{true, "Repair Café", {}}; };
  const Json retry = {{"drives", Json::array()}, {"confirm", {{"countdown_s", 8}}}};
  EXPECT_FALSE(step_parameters(StepKind::wipe, retry, in)->contains("confirm"));
  EXPECT_FALSE(step_parameters(StepKind::test, retry, in)->contains("confirm"));
}

}  // namespace
}  // namespace revive::server
