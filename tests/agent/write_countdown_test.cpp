// The countdown before the first write on a machine (issue 15, finding 2): what the laptop's
// own screen and serial log show, second by second, and that N or Esc stops it before anything
// is written; through the runner, a wipe job carrying `confirm` on a simulated laptop with a
// scripted keyboard.

#include "revive/agent/write_countdown.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <fstream>

#include <fmt/core.h>

#include "fake_screen.hpp"
#include "fake_server_api.hpp"
#include "revive/agent/checks/keyboard_layout.hpp"
#include "revive/agent/runner.hpp"
#include "revive/agent/screen/status_screen.hpp"
#include "temp_dir.hpp"

namespace revive::agent {
namespace {

using namespace std::chrono_literals;
using protocol::Json;
using protocol::StepKind;
using screen::Colour;
using test::FakeServerApi;
using test::ScriptedInput;

WriteNotice notice() {
  WriteNotice n;
  n.workshop = "Repair Café Gent";
  n.batch = "school-2026";
  n.drives = {drive_line("nvme0n1", "SAMSUNG MZVLB256", 256060514304LL),
              drive_line("sda", "", std::nullopt)};
  return n;
}

class WriteCountdownTest : public ::testing::Test {
 protected:
  test::TempDir dir_;
  MachineRoot root_{dir_.path()};
  test::FakeDisplay display_;
  screen::StatusScreen screen_{display_, root_, "http://10.0.0.1:8080"};
  ScriptedInput input_;
  std::atomic<bool> stop_{false};
  std::vector<std::string> lines_;

  CountdownIo io() {
    CountdownIo c;
    c.input = &input_;
    c.screen = &screen_;
    c.stop = &stop_;
    c.log = [this](const std::string& l) { lines_.push_back(l); };
    return c;
  }
  // The frames the countdown drew (frame 0 is the status screen from before).
  std::vector<screen::Frame> countdown_frames() const {
    std::vector<screen::Frame> out;
    for (const auto& f : display_.frames)
      if (f.background == Colour::blue) out.push_back(f);
    return out;
  }
};

TEST_F(WriteCountdownTest, NobodyAtTheLaptopTheCountRunsOutAndTheWriteGoesAhead) {
  EXPECT_EQ(count_down_before_writing(io(), notice(), 5s), CountdownEnd::elapsed);
  EXPECT_EQ(input_.elapsed, 5s);
  // One frame per second, counting down, saying what is about to happen and how to stop it.
  const auto frames = countdown_frames();
  ASSERT_EQ(frames.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(frames[i].shows(std::to_string(5 - i) + "s left")) << i;
  EXPECT_TRUE(frames[0].shows("THE DISKS OF THIS LAPTOP ARE ABOUT TO BE ERASED"));
  EXPECT_TRUE(frames[0].shows("Workshop: Repair Café Gent"));
  EXPECT_TRUE(frames[0].shows("Batch: school-2026"));
  EXPECT_TRUE(frames[0].shows("nvme0n1  SAMSUNG MZVLB256  238 GiB"));
  EXPECT_TRUE(frames[0].shows("Press N or Esc: nothing will be written."));
  // The status screen is back afterwards.
  EXPECT_NE(display_.last().background, Colour::blue);
  // The serial console counts down too.
  ASSERT_EQ(lines_.size(), 7u);
  EXPECT_EQ(lines_[0],
            "countdown: erasing nvme0n1  SAMSUNG MZVLB256  238 GiB; sda (workshop Repair Café "
            "Gent, batch school-2026) in 5 s; N or Esc on this laptop stops it");
  for (int i = 0; i < 5; ++i) EXPECT_EQ(lines_[1 + i], fmt::format("countdown: {} s", 5 - i));
  EXPECT_EQ(lines_[6], "countdown over: nobody stopped it, writing");
}

TEST_F(WriteCountdownTest, NOrEscAtTheLaptopStopsItAndOtherKeysDoNot) {
  input_.press(1500ms, checks::keys::kY);
  input_.press(2500ms, checks::keys::kN);
  EXPECT_EQ(count_down_before_writing(io(), notice(), 30s), CountdownEnd::cancelled);
  EXPECT_EQ(input_.elapsed, 2500ms);
  EXPECT_EQ(lines_.back(), "countdown: stopped by a person at the laptop; nothing was written");

  ScriptedInput esc;
  esc.press(100ms, checks::keys::kEsc);
  CountdownIo c = io();
  c.input = &esc;
  EXPECT_EQ(count_down_before_writing(c, notice(), 30s), CountdownEnd::cancelled);
}

TEST_F(WriteCountdownTest, TheAgentStoppingEndsItWithoutWriting) {
  input_.at(3s, [this] { stop_ = true; });
  EXPECT_EQ(count_down_before_writing(io(), notice(), 30s), CountdownEnd::stopped);
  EXPECT_LE(input_.elapsed, 4s);
}

TEST_F(WriteCountdownTest, ADeployInDutchSaysSo) {
  CountdownIo c = io();
  c.words = &screen::strings_for(screen::Lang::nl);
  WriteNotice n = notice();
  n.deploy = true;
  n.batch.clear();
  EXPECT_EQ(count_down_before_writing(c, n, 1s), CountdownEnd::elapsed);
  const auto frames = countdown_frames();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_TRUE(frames[0].shows("ER WORDT ZO EEN NIEUW SYSTEEM OP DE SCHIJF VAN DEZE LAPTOP GEZET"));
  EXPECT_TRUE(frames[0].shows("1s te gaan"));
  EXPECT_FALSE(frames[0].shows("Partij"));  // no batch, no label
}

// ---- through the runner

const std::string kDiskContent(std::size_t{64} * 1024, 'D');

class CountdownRunnerTest : public WriteCountdownTest {
 protected:
  MachineRoot laptop_{std::string(REVIVE_TEST_DATA) + "/laptops/thinkpad-t480"};
  RecordedExec exec_{laptop_.path()};
  FakeServerApi server_;
  test::TempDir disk_dir_;

  int run_wipe(const Json& params) {
    std::ofstream(disk_dir_ / "disk.img", std::ios::binary) << kDiskContent;
    server_.next_answers = {FakeServerApi::step(1, StepKind::inventory),
                            FakeServerApi::step(2, StepKind::wipe, params), FakeServerApi::done()};
    RunnerOptions o;
    o.server = "http://server.invalid";
    o.server_api = &server_;
    o.root = &laptop_;
    o.exec = &exec_;
    o.simulate = true;
    o.disk = disk_dir_ / "disk.img";
    o.log = [this](const std::string& l) { lines_.push_back(l); };
    o.stop = &stop_;
    o.server_key = server_.job_key.public_key();
    o.screen = &screen_;
    o.input = &input_;
    return run_workflow(o);
  }
  std::string disk() const {
    std::ifstream in(disk_dir_ / "disk.img", std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
};

TEST_F(CountdownRunnerTest, AWipeStoppedAtTheLaptopFailsAndWritesNothing) {
  input_.press(2s, checks::keys::kN);
  EXPECT_EQ(run_wipe({{"confirm", {{"countdown_s", 10}, {"workshop", "W"}, {"batch", "B"}}}}), 0);
  ASSERT_EQ(server_.results.size(), 2u);
  const auto& wipe = server_.results[1].second;
  EXPECT_EQ(wipe.status, protocol::StepStatus::failed);
  EXPECT_EQ(wipe.error,
            "stopped by a person at the laptop during the countdown before the first write: "
            "nothing was written");
  EXPECT_EQ(disk(), kDiskContent);
  // The server heard why the step waited.
  EXPECT_EQ(server_.stages_of(2),
            std::vector<std::string>{"countdown of 10 s at the laptop before writing"});
}

TEST_F(CountdownRunnerTest, AWipeNobodyStopsRunsAfterTheCountAndOneWithoutConfirmAtOnce) {
  EXPECT_EQ(run_wipe({{"confirm", {{"countdown_s", 10}, {"workshop", "W"}, {"batch", nullptr}}}}),
            0);
  ASSERT_EQ(server_.results.size(), 2u);
  EXPECT_EQ(server_.results[1].second.status, protocol::StepStatus::ok)
      << server_.results[1].second.error;
  EXPECT_EQ(input_.elapsed, 10s);
  EXPECT_NE(disk(), kDiskContent);
  EXPECT_NE(std::find(lines_.begin(), lines_.end(), "  countdown: 1 s"), lines_.end());

  input_.elapsed = 0ms;
  lines_.clear();
  server_.results.clear();
  EXPECT_EQ(run_wipe(Json::object()), 0);  // a laptop processed before: no countdown
  EXPECT_EQ(input_.elapsed, 0ms);
  EXPECT_TRUE(std::none_of(lines_.begin(), lines_.end(), [](const std::string& l) {
    return l.find("countdown") != std::string::npos;
  }));
}

TEST_F(CountdownRunnerTest, AConfirmTheAgentCannotHonourWritesNothing) {
  EXPECT_EQ(run_wipe({{"confirm", "yes"}}), 0);
  ASSERT_EQ(server_.results.size(), 2u);
  EXPECT_EQ(server_.results[1].second.error,
            "the job's \"confirm\" is not an object; nothing was written");
  server_.results.clear();
  EXPECT_EQ(run_wipe({{"confirm", {{"countdown_s", 0}}}}), 0);
  ASSERT_EQ(server_.results.size(), 2u);
  EXPECT_EQ(server_.results[1].second.error,
            "the job's countdown of 0 s is not between 1 and 3600 s; nothing was written");
  // Not a number (it threw out of the step before): refused in words.
  for (const Json& bad : {Json("30"), Json(2.5), Json(nullptr)}) {
    server_.results.clear();
    EXPECT_EQ(run_wipe({{"confirm", {{"countdown_s", bad}}}}), 0) << bad.dump();
    ASSERT_EQ(server_.results.size(), 2u);
    EXPECT_EQ(server_.results[1].second.error,
              "the job's countdown is not a whole number of seconds; nothing was written");
  }
  EXPECT_EQ(disk(), kDiskContent);
}

// On its battery below the job's minimum, a laptop does not start a wipe, countdown or not.
TEST_F(CountdownRunnerTest, ALaptopOnANearlyEmptyBatteryDoesNotStartAWipe) {
  test::TempDir tree;
  std::filesystem::copy(
      laptop_.path(), tree.path(),
      std::filesystem::copy_options::recursive | std::filesystem::copy_options::copy_symlinks);
  std::ofstream(tree / "sys/class/power_supply/AC/online") << "0\n";
  std::ofstream(tree / "sys/class/power_supply/BAT0/energy_now") << "1500000\n";  // of 17.45 Wh
  std::ofstream(tree / "sys/class/power_supply/BAT1/energy_now") << "1000000\n";  // of 23.x
  laptop_ = MachineRoot(tree.path());
  EXPECT_EQ(run_wipe({{"confirm", {{"countdown_s", 10}}}}), 0);
  ASSERT_EQ(server_.results.size(), 2u);
  const std::string error = server_.results[1].second.error;
  EXPECT_TRUE(
      error.starts_with("the laptop runs on its battery at 6% (below 25%): plug in the "
                        "charger, then retry; nothing was written"))
      << error;
  EXPECT_EQ(input_.elapsed, 0ms) << "refused before the countdown";
  EXPECT_EQ(disk(), kDiskContent);
  server_.results.clear();
  EXPECT_EQ(run_wipe({{"min_battery_pct", 5}}), 0);
  EXPECT_NE(disk(), kDiskContent) << "a lower minimum lets it run";
}

}  // namespace
}  // namespace revive::agent
