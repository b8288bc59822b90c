// The checks a volunteer does by hand, driven by scripted key presses on a virtual clock: what
// each part records, that an unanswered check is "not checked" (never passed), what the
// screen showed meanwhile, and how the grade counts it (also through the runner: a checks
// step, then a test step in the same boot).

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <span>

#include "fake_screen.hpp"
#include "fake_server_api.hpp"
#include "revive/agent/checks/checks.hpp"
#include "revive/agent/checks/keyboard_layout.hpp"
#include "revive/agent/runner.hpp"
#include "revive/grading.hpp"
#include "revive/grading_reasons.hpp"
#include "temp_dir.hpp"

namespace revive::agent::checks {
namespace {

using namespace std::chrono_literals;
using screen::Colour;
using test::ScriptedInput;

// Plays the tones "for real" as far as the check can tell, and records what was asked.
class ToneExec : public Exec {
 public:
  std::vector<std::vector<std::string>> calls;
  int exit_code = 0;
  Result<ExecResult> run(const std::vector<std::string>& argv, int) override {
    calls.push_back(argv);
    return ExecResult{exit_code, "", exit_code == 0 ? "" : "ALSA lib: cannot find card '0'"};
  }
};

class ChecksTest : public ::testing::Test {
 protected:
  test::TempDir dir_;
  MachineRoot root_{dir_.path()};
  test::FakeDisplay display_;
  screen::StatusScreen screen_{display_, root_, "http://10.0.0.1:8080"};
  ScriptedInput input_;
  ToneExec exec_;

  CheckIo io(const screen::Strings& words = screen::strings_for(screen::Lang::en)) {
    CheckIo c;
    c.input = &input_;
    c.screen = &screen_;
    c.exec = &exec_;
    c.root = &root_;
    c.words = &words;
    return c;
  }
  void file(const std::string& rel, const std::string& text) {
    std::filesystem::create_directories((dir_ / rel).parent_path());
    std::ofstream(dir_ / rel) << text << "\n";
  }
  // Every key of the layout but those labelled in `except`, 200 ms apart from `from`.
  void press_all_but(const std::set<std::string>& except, std::chrono::milliseconds from = 0ms) {
    auto t = from;
    for (const auto& k : laptop_layout()) {
      if (except.contains(k.label)) continue;
      input_.press(t += 200ms, k.code);
    }
  }
};

TEST_F(ChecksTest, KeyboardRecordsTheKeysThatNeverCameAndTheGradeNamesThem) {
  press_all_but({"F5", ";"});
  const Json r = keyboard_check(io(), 180s, 20s, {});
  EXPECT_EQ(r["status"], "failed");
  EXPECT_EQ(r["missing"], Json({"F5", ";"}));
  EXPECT_EQ(r["pressed"], laptop_layout().size() - 2);
  // It ended after the idle pause, not at the limit.
  EXPECT_LT(input_.elapsed, 60s);
  // The screen drew the layout with the pressed keys lit: F4 green, F5 still blue.
  const auto& last = display_.last();
  ASSERT_NE(last.find("F4"), nullptr);
  EXPECT_EQ(last.find("F4")->bg, Colour::green);
  EXPECT_EQ(last.find("F5")->bg, Colour::blue);

  const Json graded =
      grade(Json::object(), {{"checks", {{"parts", {{"keyboard", r}}}}}}, GradingPolicy{});
  EXPECT_EQ(graded["grade"], "reject");  // the empty inventory has no RAM and no disk...
  EXPECT_NE(std::find(graded["reasons"].begin(), graded["reasons"].end(),
                      "at most C: keys not working: F5, ;"),
            graded["reasons"].end())
      << graded.dump(2);
}

TEST_F(ChecksTest, KeyboardPassesWhenEveryKeyCameAndEndsAtOnce) {
  press_all_but({"RCtrl"});
  const Json r = keyboard_check(io(), 180s, 20s, {"RCtrl"});  // a MacBook has none
  EXPECT_EQ(r["status"], "passed");
  EXPECT_EQ(r["missing"], Json::array());
  EXPECT_EQ(input_.elapsed, 200ms * (laptop_layout().size() - 1));
}

TEST_F(ChecksTest, AKeyboardNobodyTouchesIsNotChecked) {
  const Json r = keyboard_check(io(), 30s, 20s, {});
  EXPECT_EQ(r["status"], "not_checked");
  EXPECT_EQ(input_.elapsed, 30s);
  // The countdown moved on screen (frame 0 is the status screen from before the check).
  EXPECT_TRUE(display_.frames.at(1).shows("30s left"));
  EXPECT_TRUE(display_.last().shows("1s left"));
}

TEST_F(ChecksTest, ScreenColoursThenTheVolunteersAnswerInTheirLanguage) {
  // Two colours skipped by a key, the others time out; then "J" (ja) in Dutch.
  input_.press(1s, keys::kSpace);
  input_.press(2s, keys::kSpace);
  input_.press(20s, keys::kJ);
  const Json r = screen_check(io(screen::strings_for(screen::Lang::nl)), 4s, 30s);
  EXPECT_EQ(r["status"], "passed");
  std::vector<Colour> shown;
  for (const auto& f : std::span(display_.frames).subspan(1)) {  // after the status screen
    if (shown.empty() || shown.back() != f.background) shown.push_back(f.background);
  }
  EXPECT_EQ(shown, (std::vector<Colour>{Colour::red, Colour::green, Colour::blue, Colour::white,
                                        Colour::black, Colour::blue}));
  EXPECT_TRUE(display_.last().shows("J = ja    N = nee"));
}

TEST_F(ChecksTest, AScreenNobodyAnswersIsNotCheckedAndAFaultCapsTheGrade) {
  const Json silent = screen_check(io(), 1s, 10s);
  EXPECT_EQ(silent["status"], "not_checked");
  input_.press(input_.elapsed + 6s, keys::kN);
  const Json fault = screen_check(io(), 1s, 10s);
  EXPECT_EQ(fault["status"], "failed");
  const Json g =
      grade(Json::object(), {{"checks", {{"parts", {{"screen", fault}, {"speakers", silent}}}}}},
            GradingPolicy{});
  const auto has = [&](const std::string& reason) {
    return std::find(g["reasons"].begin(), g["reasons"].end(), reason) != g["reasons"].end();
  };
  EXPECT_TRUE(has("at most C: screen: the volunteer saw a fault")) << g.dump(2);
  EXPECT_TRUE(has("not checked: speakers (nobody answered in time)")) << g.dump(2);
  // Each reason by code as well, for the operator pages' languages: the check's own inside
  // the grading's.
  EXPECT_EQ(silent["reason_code"], "no_answer");
  EXPECT_EQ(fault["reason_code"], "volunteer_saw_fault");
  std::set<std::string> check_codes;
  for (const auto& coded : g["reason_codes"]) {
    if (coded["vars"].contains("why_code")) check_codes.insert(coded["vars"]["why_code"]);
  }
  EXPECT_EQ(check_codes, (std::set<std::string>{"no_answer", "volunteer_saw_fault"})) << g.dump(2);
}

TEST(CheckReasons, EachCodeIsWordedOnceAndFillsItsValues) {
  std::set<std::string_view> codes, wordings;
  for (const auto& w : check_reason_wordings()) {
    EXPECT_TRUE(codes.insert(w.code).second) << w.code;
    EXPECT_TRUE(wordings.insert(w.english).second) << w.english;
  }
  EXPECT_EQ(worded(check_reason_wordings(), "tone_not_played", {{"why", "no {card}"}}),
            "no tone could be played: no {card}");
}

TEST_F(ChecksTest, SpeakersLeftThenRightEachAnswered) {
  input_.press(3s, keys::kY);
  input_.press(6s, keys::kN);
  const Json r = speaker_check(io(), 30s);
  EXPECT_EQ(r["status"], "failed");
  EXPECT_EQ(r["left"], "heard");
  EXPECT_EQ(r["not_heard"], Json({"right"}));
  ASSERT_EQ(exec_.calls.size(), 2u);
  EXPECT_EQ(exec_.calls[0][0], "speaker-test");
  EXPECT_EQ(exec_.calls[0][8], "1");
  EXPECT_EQ(exec_.calls[1][8], "2");
  const Json g =
      grade(Json::object(), {{"checks", {{"parts", {{"speakers", r}}}}}}, GradingPolicy{});
  EXPECT_NE(g.dump().find("at most C: speakers not heard: right"), std::string::npos);
}

TEST_F(ChecksTest, NoSoundCardMeansNotChecked) {
  exec_.exit_code = 1;
  const Json r = speaker_check(io(), 30s);
  EXPECT_EQ(r["status"], "not_checked");
  EXPECT_NE(r["reason"].get<std::string>().find("cannot find card"), std::string::npos);
}

TEST_F(ChecksTest, UsbPortsAreTheSticksPluggedInMeanwhile) {
  file("sys/bus/usb/devices/1-1:1.0/bInterfaceClass", "03");  // the keyboard, there before
  input_.at(5s, [&] { file("sys/bus/usb/devices/1-2:1.0/bInterfaceClass", "08"); });
  input_.at(12s, [&] { file("sys/bus/usb/devices/2-1:1.0/bInterfaceClass", "08"); });
  input_.press(15s, keys::kEnter);  // done: ends before the limit
  const Json r = usb_check(io(), 60s);
  EXPECT_EQ(r["status"], "passed");
  EXPECT_EQ(r["ports"], Json({"1-2", "2-1"}));
  EXPECT_LT(input_.elapsed, 20s);
  EXPECT_TRUE(display_.last().shows("USB: 1-2  2-1"));
  EXPECT_EQ(usb_check(io(), 5s)["status"], "not_checked");
}

TEST_F(ChecksTest, WebcamTouchpadAndWifiAreDetectedFromSysfs) {
  EXPECT_EQ(webcam_check(root_)["status"], "not_found");
  EXPECT_EQ(touchpad_check(root_)["status"], "not_found");
  EXPECT_EQ(wifi_check(root_)["status"], "not_found");
  file("sys/class/video4linux/video0/name", "Integrated Camera: Integrated C");
  file("sys/class/input/input5/name", "AT Translated Set 2 keyboard");
  file("sys/class/input/input5/properties", "0");
  file("sys/class/input/input9/name", "Elan Touchpad");
  file("sys/class/net/wlp3s0/phy80211/name", "phy0");
  EXPECT_EQ(webcam_check(root_)["devices"], Json({"Integrated Camera: Integrated C"}));
  EXPECT_EQ(touchpad_check(root_)["name"], "Elan Touchpad");
  EXPECT_EQ(wifi_check(root_)["interfaces"], Json({"wlp3s0"}));
  // Without their drivers: a USB video interface, a PCI network controller of class 0x0280.
  test::TempDir bare;
  MachineRoot no_drivers{bare.path()};
  const auto put = [&](const std::string& rel, const std::string& text) {
    std::filesystem::create_directories((bare / rel).parent_path());
    std::ofstream(bare / rel) << text << "\n";
  };
  put("sys/bus/usb/devices/1-5/product", "Integrated_Webcam_HD");
  put("sys/bus/usb/devices/1-5:1.0/bInterfaceClass", "0e");
  put("sys/bus/usb/devices/1-5:1.1/bInterfaceClass", "0e");
  put("sys/bus/pci/devices/0000:02:00.0/class", "0x028000");
  put("sys/bus/pci/devices/0000:00:1f.6/class", "0x020000");  // the wired NIC
  EXPECT_EQ(webcam_check(no_drivers)["devices"], Json({"Integrated_Webcam_HD"}));
  EXPECT_EQ(wifi_check(no_drivers)["interfaces"], Json({"pci 0000:02:00.0"}));
  const Json g =
      grade(Json::object(), {{"checks", {{"parts", {{"webcam", {{"status", "not_found"}}}}}}}},
            GradingPolicy{});
  EXPECT_NE(g.dump().find("at most B: no webcam found"), std::string::npos);
}

// The battery under load, on a virtual clock: the "load" drains the battery file as firmware
// would report it. 3 Wh in 60 s is 180 W... so here 0.5 Wh in 60 s: 30 W, a 45 Wh battery
// lasts 90 min under load.
TEST_F(ChecksTest, TheBatteryUnderLoadIsMeasuredOnlyOnBatteryPower) {
  CheckIo c = io();
  EXPECT_EQ(battery_check(c, 60s, 60)["reason"], "the laptop has no battery");
  file("sys/class/power_supply/AC/type", "Mains");
  file("sys/class/power_supply/AC/online", "1");
  file("sys/class/power_supply/BAT0/type", "Battery");
  file("sys/class/power_supply/BAT0/energy_full", "45000000");
  file("sys/class/power_supply/BAT0/energy_now", "40000000");
  int loads = 0;
  c.cpu_load = [&](std::chrono::seconds s) {
    ++loads;
    input_.elapsed += s;
    file("sys/class/power_supply/BAT0/energy_now", "39500000");
  };
  EXPECT_EQ(battery_check(c, 60s, 60)["reason"],
            "on the charger: unplug it to measure the battery");
  EXPECT_EQ(loads, 0) << "nothing is drained on the charger";
  file("sys/class/power_supply/AC/online", "0");
  const Json r = battery_check(c, 60s, 60);
  EXPECT_EQ(loads, 1);
  EXPECT_EQ(r["status"], "passed") << r.dump();
  EXPECT_EQ(r["drain_w"], 30.0);
  EXPECT_EQ(r["runtime_full_min"], 90);
  EXPECT_EQ(r["remaining_min"], 79);
  const Json weak = battery_check(c, 60s, 120);  // the file is already at 39.5 Wh: refill it
  EXPECT_EQ(weak["status"], "not_checked") << "no drop seen: " << weak.dump();
  file("sys/class/power_supply/BAT0/energy_now", "40000000");
  const Json failed = battery_check(c, 60s, 120);
  EXPECT_EQ(failed["status"], "failed");
  EXPECT_EQ(failed["reason"], "a full charge lasts 90 min under load (30 W), 120 wanted");
  EXPECT_EQ(failed["reason_code"], "runtime_short");
  EXPECT_EQ(failed["reason_vars"], Json({{"minutes", 90}, {"watts", 30}, {"wanted", 120}}));
  Json tests = {{"checks", {{"parts", {{"battery", failed}}}}}};
  const Json g = grade(Json::object(), tests, GradingPolicy{});
  EXPECT_NE(g.dump().find("battery: a full charge lasts 90 min under load"), std::string::npos)
      << g.dump();
}

TEST_F(ChecksTest, RunChecksRunsTheChosenPartsAndRefusesUnknownOnes) {
  file("sys/class/net/wlp3s0/wireless/x", "");
  auto r = run_checks(io(), {{"parts", {"wifi", "keyboard"}}, {"keyboard_s", 5}});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ((*r)["parts"]["wifi"]["status"], "found");
  EXPECT_EQ((*r)["parts"]["keyboard"]["status"], "not_checked");
  EXPECT_FALSE((*r)["parts"].contains("screen"));
  // The status screen is back afterwards.
  EXPECT_EQ(display_.last().background, Colour::black);
  auto bad = run_checks(io(), {{"parts", {"smell"}}});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("unknown check \"smell\""), std::string::npos);
}

TEST_F(ChecksTest, NoKeyboardMeansTheAnsweredChecksAreNotChecked) {
  CheckIo none = io();
  none.input = nullptr;
  EXPECT_EQ(keyboard_check(none, 5s, 5s, {})["status"], "not_checked");
  EXPECT_EQ(screen_check(none, 1s, 1s)["status"], "not_checked");
  EXPECT_EQ(speaker_check(none, 1s)["status"], "not_checked");
  // Every part by default, but the battery (it drains it for a minute): asked for by name.
  none.cpu_load = [](std::chrono::seconds) { ADD_FAILURE() << "the battery was drained"; };
  file("sys/class/power_supply/BAT0/type", "Battery");
  auto all = run_checks(none, {{"usb_s", 1}});
  ASSERT_TRUE(all) << all.error().message;
  EXPECT_EQ((*all)["parts"].size(), check_part_names().size() - 1);
  EXPECT_FALSE((*all)["parts"].contains("battery"));
}

// Through the runner: the checks step's result goes to the server, and the test step that
// follows in the same boot grades with it.
TEST_F(ChecksTest, TheRunnerGradesWithTheChecksOfThisBoot) {
  MachineRoot laptop{std::string(REVIVE_TEST_DATA) + "/laptops/thinkpad-t480"};
  RecordedExec recorded{laptop.path()};
  test::FakeServerApi server;
  server.language = "fr";
  server.workshop = "Atelier Liège";
  server.label = "…R2D7X";
  const Json quick = {{"cpu_ms", 10}, {"memory_ms", 10}, {"memory_mib", 1}};
  server.next_answers = {
      test::FakeServerApi::step(1, protocol::StepKind::checks,
                                {{"parts", {"keyboard"}}, {"keyboard_idle_s", 5}}),
      test::FakeServerApi::step(2, protocol::StepKind::test, quick), test::FakeServerApi::done()};
  press_all_but({"F5", ";"});
  std::vector<std::string> lines;
  RunnerOptions o;
  o.server = "http://server.invalid";
  o.server_api = &server;
  o.root = &laptop;
  o.exec = &recorded;
  o.simulate = true;
  o.log = [&](const std::string& l) { lines.push_back(l); };
  o.server_key = server.job_key.public_key();
  o.screen = &screen_;
  o.input = &input_;
  ASSERT_EQ(run_workflow(o), 0);
  ASSERT_EQ(server.results.size(), 2u);
  // Each part was reported before it ran (progress also keeps the stall deadline away).
  EXPECT_EQ(server.stages_of(1), std::vector<std::string>{"check keyboard"});
  const Json checks = server.results[0].second.result;
  EXPECT_EQ(checks["parts"]["keyboard"]["missing"], Json({"F5", ";"}));
  const Json grading = server.results[1].second.result["grading"];
  EXPECT_NE(grading.dump().find("at most C: keys not working: F5, ;"), std::string::npos)
      << grading.dump(2);
  EXPECT_NE(std::find(lines.begin(), lines.end(), "  check keyboard: failed (missing keys: F5 ;)"),
            lines.end());
  // The screen spoke French, named the workshop and the label, and ended green.
  EXPECT_EQ(display_.last().background, Colour::green);
  EXPECT_TRUE(display_.last().shows("TERMINÉ"));
  EXPECT_TRUE(display_.last().shows("Atelier Liège"));
  EXPECT_TRUE(display_.last().shows("[ ...R2D7X ]"));
  EXPECT_TRUE(display_.last().shows("Classe C"));
}

}  // namespace
}  // namespace revive::agent::checks
