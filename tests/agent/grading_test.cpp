#include "revive/grading.hpp"
#include "revive/grading_reasons.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "revive/agent/hwtests.hpp"
#include "revive/agent/inventory.hpp"
#include "temp_dir.hpp"

#include <fstream>
#include <set>

namespace revive::agent {
namespace {

Json inventory_of(const std::string& model) {
  MachineRoot root(std::string(REVIVE_TEST_DATA) + "/laptops/" + model);
  RecordedExec exec(root.path());
  return collect_inventory(root, exec);
}

bool has_reason(const Json& g, const std::string& words) {
  for (const auto& r : g["reasons"]) {
    if (r.get<std::string>().find(words) != std::string::npos) return true;
  }
  return false;
}

const Json kCleanTests = {{"memory", {{"errors", 0}}}, {"cpu", {{"single_score", 100.0}}}};

TEST(Grading, ThinkPadT480) {
  const auto policy = *parse_policy(default_policy_toml());
  const Json g = grade(inventory_of("thinkpad-t480"), kCleanTests, policy);
  EXPECT_EQ(g["grade"], "C");
  EXPECT_TRUE(has_reason(g, "BAT0 73% of design < 80%")) << g.dump(1);
  EXPECT_TRUE(has_reason(g, "NVMe media errors 4360570")) << g.dump(1);
  EXPECT_TRUE(g["windows11"]["ready"].get<bool>()) << g.dump(1);
}

TEST(Grading, Latitude7490) {
  const Json g =
      grade(inventory_of("latitude-7490"), kCleanTests, *parse_policy(default_policy_toml()));
  EXPECT_EQ(g["grade"], "C");
  EXPECT_TRUE(has_reason(g, "BAT0 64% of design < 80%")) << g.dump(1);
  EXPECT_TRUE(has_reason(g, "SMART reallocated sectors 23")) << g.dump(1);
  EXPECT_TRUE(has_reason(g, "SMART attribute 187 = 4151")) << g.dump(1);
  EXPECT_TRUE(g["windows11"]["ready"].get<bool>());
}

TEST(Grading, HpStream11) {
  const Json g =
      grade(inventory_of("hp-stream-11"), kCleanTests, *parse_policy(default_policy_toml()));
  EXPECT_EQ(g["grade"], "C");
  EXPECT_TRUE(has_reason(g, "RAM 4096 MiB < 8192 MiB")) << g.dump(1);
  EXPECT_TRUE(has_reason(g, "mmcblk0 is 31 GB < 100 GB")) << g.dump(1);
  EXPECT_TRUE(has_reason(g, "SMART unavailable")) << g.dump(1);
  EXPECT_FALSE(g["windows11"]["ready"].get<bool>());
  EXPECT_NE(g["windows11"]["reasons"].dump().find("Celeron"), std::string::npos);
  EXPECT_EQ(g["suitable_for"],
            "light use, or with a replaced part (see reasons); Linux (e.g. Debian) or Windows 10 "
            "with ESU");
}

// SMART does not reach an eMMC: its own wear estimates stand in, where it gives them.
TEST(Grading, AnEmmcIsGradedByItsOwnWear) {
  const GradingPolicy policy = *parse_policy(default_policy_toml());
  Json inv = inventory_of("hp-stream-11");
  ASSERT_EQ(inv["disks"][0]["name"], "mmcblk0");
  Json& health = inv["disks"][0]["emmc_health"];
  health = {{"life_time_a", 1}, {"life_time_b", 2}, {"pre_eol", 1}};
  Json g = grade(inv, kCleanTests, policy);
  EXPECT_FALSE(has_reason(g, "SMART unavailable")) << g.dump(1);
  EXPECT_EQ(g["grade"], "C") << "31 GB < 100 GB, and 4 GiB of RAM, still";
  EXPECT_EQ(g["reasons"].dump().find("eMMC"), std::string::npos) << g.dump(1);
  health = {{"life_time_a", 10}, {"pre_eol", 2}};
  g = grade(inv, kCleanTests, policy);
  EXPECT_TRUE(has_reason(g, "at most C: mmcblk0 eMMC 90-100% of rated life used")) << g.dump(1);
  EXPECT_TRUE(has_reason(g, "at most C: mmcblk0 eMMC spare blocks 80% used")) << g.dump(1);
  health = {{"life_time_b", 11}};
  EXPECT_EQ(grade(inv, kCleanTests, policy)["grade"], "reject");
  health = {{"pre_eol", 3}};
  EXPECT_EQ(grade(inv, kCleanTests, policy)["grade"], "reject");
  health = Json();  // an older card, which gives none: unknown health, as before
  EXPECT_TRUE(has_reason(grade(inv, kCleanTests, policy), "SMART unavailable"));
}

TEST(Grading, EliteBook840G5IsAGradeA) {
  const Json g =
      grade(inventory_of("elitebook-840-g5"), kCleanTests, *parse_policy(default_policy_toml()));
  EXPECT_EQ(g["grade"], "A") << g.dump(1);
  EXPECT_TRUE(g["reasons"].empty());
  EXPECT_TRUE(g["windows11"]["ready"].get<bool>());
  EXPECT_EQ(g["suitable_for"], "school and office work, video calls; Windows 11 ready");
}

TEST(Grading, MacBookAir2015) {
  const Json inv = inventory_of("macbook-air-7-2");
  EXPECT_TRUE(inv["warnings"].empty()) << inv["warnings"].dump();
  EXPECT_EQ(identity_of(inv)["model"], "MacBookAir7,2");
  EXPECT_TRUE(inv["smbios"]["system"]["sku"].is_null());                     // "System SKU#"
  EXPECT_TRUE(inv["smbios"]["memory_devices"][0]["part_number"].is_null());  // "0x000...0"
  EXPECT_DOUBLE_EQ(inv["batteries"][0]["design_wh"].get<double>(), 54.34);   // charge units
  const Json g = grade(inv, kCleanTests, *parse_policy(default_policy_toml()));
  EXPECT_EQ(g["grade"], "B") << g.dump(1);
  EXPECT_TRUE(has_reason(g, "BAT0 71% of design < 80%")) << g.dump(1);
  EXPECT_FALSE(g["windows11"]["ready"].get<bool>());
  EXPECT_NE(g["windows11"]["reasons"].dump().find("no TPM 2.0"), std::string::npos);
}

TEST(Grading, RejectsAndPolicyChanges) {
  Json inv = inventory_of("thinkpad-t480");
  EXPECT_EQ(grade(inv, {{"memory", {{"errors", 3}}}}, GradingPolicy{})["grade"], "reject");
  inv["disks"][0]["smart"]["passed"] = false;
  const Json g = grade(inv, kCleanTests, GradingPolicy{});
  EXPECT_EQ(g["grade"], "reject");
  EXPECT_TRUE(has_reason(g, "SMART overall health FAILED"));
  // A workshop that tolerates worn batteries and media errors:
  auto lenient = parse_policy(
      "[battery]\nb_below_pct = 50\nc_below_pct = 30\n[disk]\nuncorrectable_c_above = 10000000\n");
  ASSERT_TRUE(lenient) << lenient.error().message;
  EXPECT_EQ(grade(inventory_of("thinkpad-t480"), kCleanTests, *lenient)["grade"], "A");
}

TEST(Grading, BadPoliciesAreRefusedByName) {
  EXPECT_NE(
      parse_policy("[battery]\nb_below_pct = 'x'\n").error().message.find("battery.b_below_pct"),
      std::string::npos);
  EXPECT_NE(
      parse_policy("[disk]\ncolour = 1\n").error().message.find("unknown setting disk.colour"),
      std::string::npos);
  EXPECT_FALSE(parse_policy("this is not toml"));
  EXPECT_TRUE(parse_policy(""));  // empty: all defaults
}

TEST(Grading, PoliciesOutOfRangeAreRefusedByName) {
  const std::pair<const char*, const char*> bad[] = {
      {"[battery]\nb_below_pct = 120\n", "battery.b_below_pct"},
      {"[battery]\nb_below_pct = 50\nc_below_pct = 70\n", "battery.c_below_pct"},
      {"[memory]\nreject_below_mib = -1\n", "memory.reject_below_mib"},
      {"[memory]\nb_below_mib = 1024\n", "memory.b_below_mib"},
      {"[disk]\nmin_bytes = -5\n", "disk.min_bytes"},
      {"[disk]\nreallocated_b_above = 60\n", "disk.reallocated_c_above"},
      {"[cpu]\nc_below_score = -1\n", "cpu.c_below_score"}};
  for (const auto& [text, key] : bad) {
    auto p = parse_policy(text);
    ASSERT_FALSE(p) << text;
    EXPECT_NE(p.error().message.find(key), std::string::npos) << p.error().message;
  }
  EXPECT_TRUE(parse_policy("[battery]\nb_below_pct = 50\nc_below_pct = 50\n"));
}

// Two laptops that between them fail every rule: each reason grade() gives, the grade's and
// Windows 11's, once.
std::vector<std::pair<Json, Json>> every_fault() {
  const Json parts = {{"keyboard", {{"status", "failed"}, {"missing", {"a", "b"}}}},
                      {"speakers", {{"status", "failed"}, {"not_heard", {"left"}}}},
                      {"webcam", {{"status", "failed"}, {"reason", "the volunteer saw a fault"}}},
                      {"touchpad", {{"status", "not_found"}}},
                      {"wifi", {{"status", "not_checked"}, {"reason", "nobody answered in time"}}}};
  const Json worst = {
      {"batteries", {{{"name", "BAT0"}, {"health_pct", 50.2}}, {{"name", "BAT1"}}}},
      {"memory", {{"installed_mib", 1024}}},
      {"disks",
       {{{"name", "sda"},
         {"size_bytes", 50'000'000'000LL},
         {"smart",
          {{"available", true}, {"passed", false}, {"ata_attributes", {{"5", 100}, {"187", 5}}}}}},
        {{"name", "nvme0n1"},
         {"size_bytes", 50'000'000'000LL},
         {"smart",
          {{"available", true},
           {"nvme", {{"critical_warning", 4}, {"media_errors", 2}, {"percentage_used", 95}}}}}},
        {{"name", "sdb"},
         {"size_bytes", 30'000'000'000LL},
         {"smart", {{"available", false}, {"error", "no answer"}}}},
        {{"name", "sdc"}, {"size_bytes", 30'000'000'000LL}, {"smart", {{"available", false}}}},
        {{"name", "mmcblk0"},
         {"size_bytes", 30'000'000'000LL},
         {"smart", {{"available", false}}},
         {"emmc_health", {{"life_time_a", 11}, {"pre_eol", 3}}}},
        {{"name", "mmcblk1"},
         {"size_bytes", 30'000'000'000LL},
         {"smart", {{"available", false}}},
         {"emmc_health", {{"life_time_a", 1}, {"life_time_b", 10}, {"pre_eol", 2}}}}}},
      {"cpu", {{"vendor", "GenuineIntel"}, {"family", 6}, {"model_id", 1}, {"model", "Pentium"}}},
      {"tpm", {{"version", 1}}},
      {"firmware", {{"mode", "bios"}}}};
  const Json worst_tests = {
      {"memory", {{"errors", 3}}},
      {"cpu", {{"single_score", 10.0}}},
      {"smart_selftest", {{{"result", "failed"}, {"device", "sda"}, {"detail", "read failure"}}}},
      {"checks", {{"parts", parts}}}};
  const Json bare = {{"batteries", Json::array()}, {"disks", Json::array()}};
  return {{worst, worst_tests}, {bare, Json::object()}};
}

TEST(GradingReasons, EachComesWithItsCodeAndEveryCodeIsGivenAndWorded) {
  GradingPolicy policy;
  policy.cpu_c_below_score = 50;
  std::set<std::string> given;
  for (const auto& [inventory, tests] : every_fault()) {
    const Json g = grade(inventory, tests, policy);
    for (const Json* part : {&g, &g["windows11"]}) {
      const Json& sentences = (*part)["reasons"];
      const Json& codes = (*part)["reason_codes"];
      ASSERT_EQ(sentences.size(), codes.size()) << g.dump(1);
      for (std::size_t i = 0; i < codes.size(); ++i) {
        const std::string sentence = sentences[i].get<std::string>();
        const std::string at_most = codes[i].value("at_most", std::string());
        const std::string prefix = at_most.empty()       ? ""
                                   : at_most == "reject" ? "reject: "
                                                         : "at most " + at_most + ": ";
        EXPECT_EQ(sentence.rfind(prefix, 0), 0u) << sentence << " | " << codes[i].dump();
        given.insert(codes[i]["code"].get<std::string>());
      }
    }
  }
  std::set<std::string> worded;
  for (const auto& w : reason_wordings()) worded.insert(std::string(w.code));
  EXPECT_EQ(given, worded);
}

TEST(GradingReasons, TheValuesFillTheWordingOnceAndNamedPartsStayNames) {
  GradingPolicy policy;
  const auto [inventory, tests] = every_fault().front();
  const Json g = grade(inventory, tests, policy);
  EXPECT_EQ(g["reasons"][0], "at most C: BAT0 50% of design < 60%");
  EXPECT_EQ(g["reason_codes"][0], (Json{{"code", "battery_worn"},
                                        {"at_most", "C"},
                                        {"vars", {{"name", "BAT0"}, {"pct", 50}, {"limit", 60}}}}));
  EXPECT_TRUE(has_reason(g, "at most C: keys not working: a, b")) << g.dump(1);
  EXPECT_TRUE(has_reason(g, "not checked: wifi (nobody answered in time)")) << g.dump(1);
  EXPECT_TRUE(has_reason(g, "reject: nvme0n1 NVMe critical warning 0x04")) << g.dump(1);
  EXPECT_EQ(g["windows11"]["reasons"][0], "CPU Pentium is not on the Windows 11 list");
  // A battery that names itself with braces is shown as named, not read as a placeholder.
  Json odd = inventory;
  odd["batteries"][0]["name"] = "{pct} {limit}";
  EXPECT_EQ(grade(odd, tests, policy)["reasons"][0],
            "at most C: {pct} {limit} 50% of design < 60%");
}

}  // namespace
}  // namespace revive::agent

namespace revive::agent {
namespace {

TEST(SmartSelftest, PassedUnsupportedAndFailed) {
  auto no_wait = [](std::chrono::seconds) {};
  MachineRoot hp(std::string(REVIVE_TEST_DATA) + "/laptops/elitebook-840-g5");
  RecordedExec hp_exec(hp.path());
  const Json ok = smart_selftest(hp_exec, "nvme0n1", std::chrono::seconds(10), no_wait);
  EXPECT_EQ(ok["result"], "passed") << ok.dump();
  EXPECT_EQ(ok["detail"], "Completed without error");

  MachineRoot t480(std::string(REVIVE_TEST_DATA) + "/laptops/thinkpad-t480");
  RecordedExec t480_exec(t480.path());
  EXPECT_EQ(smart_selftest(t480_exec, "nvme0n1", std::chrono::seconds(10), no_wait)["result"],
            "not supported");

  // An ATA disk whose short self-test ends in a read failure.
  test::TempDir dir;
  std::filesystem::create_directories(dir / "exec");
  std::ofstream(dir / "exec" / "smartctl -t short _dev_sda") << "exit 0\nTesting has begun.\n";
  std::ofstream(dir / "exec" / "smartctl -j -l selftest _dev_sda")
      << "exit "
         "0\n{\"ata_smart_self_test_log\":{\"standard\":{\"table\":[{\"type\":{\"string\":\"Short "
         "offline\"},"
         "\"status\":{\"value\":121,\"string\":\"Completed: read "
         "failure\",\"remaining_percent\":0,\"passed\":false},"
         "\"lifetime_hours\":31000,\"lba\":89649984}]}}}\n";
  RecordedExec bad_exec(dir.path());
  const Json bad = smart_selftest(bad_exec, "sda", std::chrono::seconds(10), no_wait);
  EXPECT_EQ(bad["result"], "failed");
  const Json g = grade(inventory_of("elitebook-840-g5"), {{"smart_selftest", Json::array({bad})}},
                       GradingPolicy{});
  EXPECT_EQ(g["grade"], "reject");
  EXPECT_TRUE(has_reason(g, "sda SMART short self-test failed: Completed: read failure"));
  // A missing tool answer is an error, not a pass.
  EXPECT_EQ(smart_selftest(bad_exec, "sdz", std::chrono::seconds(1), no_wait)["result"], "error");
}

}  // namespace
}  // namespace revive::agent
