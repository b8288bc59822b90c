// The workflow runner against a scripted fake server, on a simulated laptop (its machine tree
// and recorded tool answers). Steps that need a disk and an image (deploy, wipe, provision)
// are run for real by the integration tests; here they are checked up to the point where they
// would touch a disk.

#include "revive/agent/runner.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <fstream>

#include "fake_server_api.hpp"
#include "revive/signed_document.hpp"
#include "revive/signed_job.hpp"
#include "revive/signing.hpp"
#include "temp_dir.hpp"

namespace revive::agent {
namespace {

namespace proto = revive::protocol;
using proto::Json;
using proto::StepKind;
using test::FakeServerApi;

const std::string kData = REVIVE_TEST_DATA;
// The test step in milliseconds rather than seconds.
const Json kQuickTest = {{"cpu_ms", 10}, {"memory_ms", 10}, {"memory_mib", 1}};
// A simulated disk's bytes: a refused job must leave every one of them.
const std::string kDiskContent(std::size_t{64} * 1024, 'D');

void write_disk(const std::filesystem::path& p) {
  std::ofstream(p, std::ios::binary) << kDiskContent;
}
std::string read_disk(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class RunnerTest : public ::testing::Test {
 protected:
  MachineRoot root_{kData + "/laptops/thinkpad-t480"};
  RecordedExec exec_{root_.path()};
  FakeServerApi server_;
  std::vector<std::string> lines_;
  std::atomic<bool> stop_{false};
  RunnerOptions opts_ = [this] {
    RunnerOptions o;
    o.server = "http://server.invalid";
    o.server_api = &server_;
    o.root = &root_;
    o.exec = &exec_;
    o.simulate = true;
    o.long_poll_s = 7;
    o.log = [this](const std::string& line) { lines_.push_back(line); };
    o.stop = &stop_;
    o.server_key = server_.job_key.public_key();  // the live image pins the server's key
    return o;
  }();

  int run() { return run_workflow(opts_); }

  bool logged(std::string_view text) const {
    return std::any_of(lines_.begin(), lines_.end(),
                       [&](const std::string& l) { return l.find(text) != std::string::npos; });
  }
  std::size_t times_logged(std::string_view text) const {
    return static_cast<std::size_t>(
        std::count_if(lines_.begin(), lines_.end(),
                      [&](const std::string& l) { return l.find(text) != std::string::npos; }));
  }
  std::string log_text() const {
    std::string all;
    for (const auto& l : lines_) all += l + "\n";
    return all;
  }
};

TEST_F(RunnerTest, EnrolsThenRunsTheStepsInOrder) {
  server_.next_answers = {FakeServerApi::step(1, StepKind::inventory),
                          FakeServerApi::step(2, StepKind::test, kQuickTest),
                          FakeServerApi::step(3, StepKind::finish), FakeServerApi::done()};
  EXPECT_EQ(run(), 0) << log_text();

  ASSERT_EQ(server_.enrolments.size(), 1u);
  const proto::EnrolRequest& e = server_.enrolments[0];
  EXPECT_EQ(e.identity.serial, "PF1R2D7X");
  EXPECT_EQ(e.identity.system_uuid, "8B3C71E2-5A4F-11E8-9C2D-FA7AE01BBEBC");
  EXPECT_EQ(e.macs.size(), 2u);
  EXPECT_TRUE(e.inventory.is_object());
  EXPECT_TRUE(logged("enrolled as device 17"));

  ASSERT_EQ(server_.results.size(), 3u);
  EXPECT_EQ(server_.results[0].first, 1);
  EXPECT_EQ(server_.results[1].first, 2);
  EXPECT_EQ(server_.results[2].first, 3);
  for (const auto& [step, r] : server_.results) {
    EXPECT_EQ(r.status, proto::StepStatus::ok) << step << ": " << r.error;
    EXPECT_EQ(r.attempt, 1);
  }
  EXPECT_EQ(server_.results[0].second.result["inventory"]["disks"][0]["transport"], "NVMe");
  EXPECT_TRUE(server_.results[1].second.result["grading"].contains("grade"));
  EXPECT_EQ(server_.results[2].second.result["action"], "poweroff");
  EXPECT_TRUE(logged("workflow finished: done"));
  for (auto wait : server_.next_waits) EXPECT_EQ(wait, std::chrono::seconds(7));
}

TEST_F(RunnerTest, ProgressReportsReachTheServer) {
  server_.next_answers = {FakeServerApi::step(1, StepKind::inventory),
                          FakeServerApi::step(2, StepKind::test, kQuickTest),
                          FakeServerApi::done()};
  EXPECT_EQ(run(), 0) << log_text();
  EXPECT_EQ(server_.stages_of(1),
            std::vector<std::string>{"reading firmware tables, sysfs and SMART"});
  // The test step's bar moves by each phase's time budget (kQuickTest: 10 ms for each CPU
  // phase and for the memory test; no disk here), so it is past zero through the CPU test.
  EXPECT_EQ(server_.stages_of(2),
            (std::vector<std::string>{"CPU test, one core", "CPU test, all cores", "memory test"}));
  std::vector<std::pair<double, double>> bar;
  for (const auto& p : server_.progress_reports) {
    if (p.step == 2)
      bar.emplace_back(p.progress.bytes_done.value_or(-1), p.progress.bytes_total.value_or(-1));
  }
  EXPECT_EQ(bar, (std::vector<std::pair<double, double>>{{0, 30}, {10, 30}, {20, 30}}));
}

TEST_F(RunnerTest, AStepHandedOutAgainAfterItsResultWasLostIsNotRunTwice) {
  // The server restarted before it stored the result and hands the step out again, resumed.
  server_.next_answers = {FakeServerApi::step(5, StepKind::test, kQuickTest),
                          FakeServerApi::step(5, StepKind::test, kQuickTest, 1, true),
                          FakeServerApi::done()};
  EXPECT_EQ(run(), 0) << log_text();
  EXPECT_EQ(server_.stages_of(5).size(), 3u) << "the test ran twice";
  const auto results = server_.results_of(5);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[1].status, results[0].status);
  EXPECT_EQ(results[1].result, results[0].result);
  EXPECT_TRUE(logged("already done in this boot"));
}

TEST_F(RunnerTest, ANewAttemptOfAFailedStepRunsAgain) {
  server_.next_answers = {FakeServerApi::step(4, StepKind::finish, {{"action", "explode"}}),
                          FakeServerApi::waiting("finish failed"),
                          FakeServerApi::step(4, StepKind::finish, {{"action", "reboot"}}, 2),
                          FakeServerApi::done()};
  EXPECT_EQ(run(), 0) << log_text();
  const auto results = server_.results_of(4);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].status, proto::StepStatus::failed);
  EXPECT_EQ(results[1].status, proto::StepStatus::ok);
  EXPECT_EQ(results[1].attempt, 2);
  EXPECT_EQ(results[1].result["action"], "reboot");
}

TEST_F(RunnerTest, AnUnauthorizedAnswerMakesItEnrolAgain) {
  server_.next_answers = {FakeServerApi::step(1, StepKind::inventory),
                          make_error(Errc::unauthorized, "server answered 401: token replaced"),
                          FakeServerApi::step(2, StepKind::finish), FakeServerApi::done()};
  EXPECT_EQ(run(), 0) << log_text();
  EXPECT_EQ(server_.enrolments.size(), 2u);
  EXPECT_EQ(server_.results.size(), 2u);
}

TEST_F(RunnerTest, AResultRefusedWith401IsSentAgainAfterEnrollingAgain) {
  // The result's answer says the token is gone; after enrolling again the server hands the
  // step out again, and the agent sends the same result instead of running the step again.
  server_.result_answers = {make_error(Errc::unauthorized, "server answered 401: token replaced")};
  server_.next_answers = {FakeServerApi::step(3, StepKind::test, kQuickTest),
                          FakeServerApi::step(3, StepKind::test, kQuickTest, 1, true),
                          FakeServerApi::done()};
  EXPECT_EQ(run(), 0) << log_text();
  EXPECT_EQ(server_.enrolments.size(), 2u);
  EXPECT_EQ(server_.stages_of(3).size(), 3u) << "the test ran twice";
  ASSERT_EQ(server_.results_of(3).size(), 2u);
  EXPECT_TRUE(logged("result of test not accepted (server answered 401: token replaced)"));
}

TEST_F(RunnerTest, WaitingKeepsPollingAndSaysWhyOnce) {
  server_.next_answers = {FakeServerApi::waiting("wipe failed: operator must decide"),
                          FakeServerApi::waiting("wipe failed: operator must decide"),
                          FakeServerApi::waiting("deploy blocked"), FakeServerApi::done()};
  EXPECT_EQ(run(), 0) << log_text();
  EXPECT_EQ(server_.next_waits.size(), 4u);
  EXPECT_EQ(times_logged("WAITING for an operator: wipe failed: operator must decide"), 1u);
  EXPECT_EQ(times_logged("WAITING for an operator: deploy blocked"), 1u);
  EXPECT_TRUE(server_.results.empty());
}

TEST_F(RunnerTest, CancelledByAnOperatorExits3) {
  server_.next_answers = {FakeServerApi::step(1, StepKind::inventory), FakeServerApi::cancelled()};
  EXPECT_EQ(run(), 3) << log_text();
  EXPECT_TRUE(logged("workflow cancelled by an operator"));
}

TEST_F(RunnerTest, StoppedExits4) {
  server_.next_answers = {FakeServerApi::waiting("someone must look")};
  server_.on_next = [this](int) { stop_.store(true); };
  EXPECT_EQ(run(), 4) << log_text();
}

TEST_F(RunnerTest, AnUnknownStepKindFailsLoudlyAndIsNeverReportedDone) {
  server_.next_answers = {FakeServerApi::unknown_step(9, "firmware_update"), FakeServerApi::done()};
  EXPECT_EQ(run(), 0) << log_text();
  const auto results = server_.results_of(9);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, proto::StepStatus::failed);
  EXPECT_NE(results[0].error.find("does not know the step \"firmware_update\""), std::string::npos)
      << results[0].error;
  EXPECT_TRUE(logged("FAILED: firmware_update"));
}

TEST_F(RunnerTest, BadStepParametersFailTheStepWithAClearMessage) {
  server_.next_answers = {FakeServerApi::step(2, StepKind::test, {{"cpu_ms", "fast"}}),
                          FakeServerApi::step(3, StepKind::finish, {{"action", "explode"}}),
                          FakeServerApi::step(4, StepKind::wipe, {{"pattern", "ones"}}),
                          FakeServerApi::done()};
  EXPECT_EQ(run(), 0) << log_text();
  ASSERT_EQ(server_.results.size(), 3u);
  for (const auto& [step, r] : server_.results) EXPECT_EQ(r.status, proto::StepStatus::failed);
  EXPECT_TRUE(server_.results[0].second.error.starts_with("bad step parameters: "))
      << server_.results[0].second.error;
  EXPECT_EQ(server_.results[1].second.error, "finish action must be \"poweroff\" or \"reboot\"");
  EXPECT_EQ(server_.results[2].second.error, "wipe pattern must be \"zeros\" or \"prng\"");
  EXPECT_TRUE(logged("FAILED: test: bad step parameters"));
}

TEST_F(RunnerTest, EnrolmentRefusedIsFatal) {
  server_.enrol_error = make_error(Errc::unauthorized, "server answered 401: unknown boot token");
  opts_.boot_token = "stale";
  EXPECT_EQ(run(), 1) << log_text();
  ASSERT_EQ(server_.enrolments.size(), 1u);
  EXPECT_EQ(server_.enrolments[0].boot_token, "stale");
  EXPECT_TRUE(logged("ERROR: enrolment refused: server answered 401: unknown boot token"));
}

TEST_F(RunnerTest, AServerErrorThatIsNotRetriedIsFatal) {
  server_.next_answers = {make_error(Errc::not_found, "server answered 404: no such device")};
  EXPECT_EQ(run(), 1) << log_text();
  EXPECT_TRUE(logged("ERROR: server answered 404: no such device"));
}

TEST_F(RunnerTest, CertifyNeedsAPassedLaptopCertificate) {
  server_.certificate_list = {{"c-drive", "drive", "passed", 1, 10},
                              {"c-new", "laptop", "passed", 1, 9},
                              {"c-old", "laptop", "failed", 1, 8}};
  server_.next_answers = {FakeServerApi::step(6, StepKind::certify), FakeServerApi::done()};
  EXPECT_EQ(run(), 0) << log_text();
  ASSERT_EQ(server_.results.size(), 1u);
  const auto& r = server_.results[0].second;
  EXPECT_EQ(r.status, proto::StepStatus::ok) << r.error;
  EXPECT_EQ(r.result["laptop_certificate"], "c-new");
  EXPECT_EQ(r.result["certificates"].size(), 3u);
}

TEST_F(RunnerTest, CertifyFailsWithoutALaptopCertificate) {
  server_.certificate_list = {{"c-drive", "drive", "passed", 1, 10}};
  server_.next_answers = {FakeServerApi::step(6, StepKind::certify), FakeServerApi::done()};
  EXPECT_EQ(run(), 0) << log_text();
  ASSERT_EQ(server_.results.size(), 1u);
  EXPECT_EQ(server_.results[0].second.status, proto::StepStatus::failed);
  EXPECT_NE(server_.results[0].second.error.find("needs a wipe step first"), std::string::npos);
}

TEST_F(RunnerTest, DeployRefusesAManifestTheServerKeyDidNotSignBeforeTouchingTheDisk) {
  test::TempDir dir;
  opts_.disk = dir / "disk.img";  // never created: the step must stop before opening it
  server_.manifests["office"] = R"({"manifest": {}, "signature": "nonsense"})";
  server_.next_answers = {FakeServerApi::step(7, StepKind::deploy, {{"image", "office"}}),
                          FakeServerApi::step(8, StepKind::deploy, {{"image", "missing"}}),
                          FakeServerApi::step(9, StepKind::deploy), FakeServerApi::done()};
  EXPECT_EQ(run(), 0) << log_text();
  ASSERT_EQ(server_.results.size(), 3u);
  for (const auto& [step, r] : server_.results) EXPECT_EQ(r.status, proto::StepStatus::failed);
  EXPECT_TRUE(server_.results[0].second.error.starts_with("manifest of office refused: "))
      << server_.results[0].second.error;
  EXPECT_EQ(server_.results[1].second.error, "manifest of missing: server answered 404: no image");
  EXPECT_TRUE(server_.results[2].second.error.starts_with("no image assigned"));
  EXPECT_FALSE(std::filesystem::exists(opts_.disk));
}

TEST_F(RunnerTest, WithoutAPinnedKeyNoJobIsTaken) {
  test::TempDir dir;
  opts_.disk = dir / "disk.img";
  write_disk(opts_.disk);
  opts_.server_key.reset();
  server_.next_answers = {FakeServerApi::step(7, StepKind::wipe),
                          FakeServerApi::step(8, StepKind::wipe),
                          FakeServerApi::step(9, StepKind::wipe), FakeServerApi::done()};
  EXPECT_EQ(run(), 1) << log_text();  // three jobs in a row refused: the agent gives up
  ASSERT_EQ(server_.results.size(), 3u);
  for (const auto& [step, r] : server_.results) {
    EXPECT_EQ(r.status, proto::StepStatus::failed);
    EXPECT_NE(r.error.find("no pinned server key"), std::string::npos) << r.error;
  }
  EXPECT_TRUE(logged("3 jobs in a row could not be trusted"));
  EXPECT_EQ(read_disk(opts_.disk), kDiskContent);
}

// A wipe job as a stranger on the LAN would send it: each variant is refused, reported, and
// the (simulated) disk keeps every byte.
class RogueJobTest : public RunnerTest {
 protected:
  void SetUp() override {
    opts_.disk = dir_ / "disk.img";
    write_disk(opts_.disk);
    server_.next_answers = {FakeServerApi::step(5, StepKind::wipe), FakeServerApi::done()};
  }
  // Runs the workflow; the console line that refuses the job.
  std::string refusal() {
    EXPECT_EQ(run(), 0) << log_text();
    EXPECT_EQ(read_disk(opts_.disk), kDiskContent) << "the disk was written";
    EXPECT_TRUE(server_.progress_reports.empty()) << "the refused step started";
    // A job that names its step is answered with the refusal (an operator sees why).
    for (const auto& r : server_.results_of(5)) {
      EXPECT_EQ(r.status, proto::StepStatus::failed);
      EXPECT_TRUE(r.error.starts_with("the agent refused the job: ")) << r.error;
    }
    for (const auto& l : lines_) {
      if (l.find("REFUSED a job from the server: ") != std::string::npos) return l;
    }
    ADD_FAILURE() << "no refusal on the console:\n" << log_text();
    return "";
  }
  test::TempDir dir_;
};

TEST_F(RogueJobTest, SignedByAnotherKey) {
  const auto rogue = KeyPair::generate();
  server_.serve_job = [&](const proto::Job& j) { return proto::sign_job(j, rogue); };
  EXPECT_NE(refusal().find("not by the trusted key"), std::string::npos);
}

TEST_F(RogueJobTest, Unsigned) {
  server_.serve_job = [](const proto::Job& j) {
    return "{\"job\":" + proto::job_canonical(j) + "}\n";
  };
  EXPECT_NE(refusal().find("no signature"), std::string::npos);
}

TEST_F(RogueJobTest, EditedAfterSigning) {
  server_.serve_job = [&](const proto::Job& j) {
    std::string doc = proto::sign_job(j, server_.job_key);
    doc.replace(doc.find("\"attempt\":1"), 11, "\"attempt\":2");
    return doc;
  };
  EXPECT_NE(refusal().find("does not match its content"), std::string::npos);
}

TEST_F(RogueJobTest, SignedForAnotherDevice) {
  server_.serve_job = [&](proto::Job j) {
    j.device = 99;
    return proto::sign_job(j, server_.job_key);
  };
  EXPECT_NE(refusal().find("it is for device 99"), std::string::npos);
}

TEST_F(RogueJobTest, ReplayedFromAnotherRequest) {
  server_.serve_job = [&](proto::Job j) {
    j.nonce = "00000000000000000000000000000000";
    return proto::sign_job(j, server_.job_key);
  };
  EXPECT_NE(refusal().find("replayed"), std::string::npos);
}

TEST_F(RogueJobTest, Expired) {
  // The answer took longer than the job lives (held back on the way): its age is known from
  // the agent's own clock since the request left.
  server_.answer_age = std::chrono::seconds(server_.job_lifetime_s + 1);
  EXPECT_NE(refusal().find("expired 1 s ago"), std::string::npos);
}

TEST_F(RogueJobTest, AnotherKindOfDocumentSignedByTheServer) {
  // A manifest signature (the same key signs manifests) over a job-shaped body.
  server_.serve_job = [&](const proto::Job& j) {
    std::string doc = sign_canonical("manifest", proto::job_canonical(j), server_.job_key);
    return doc.replace(0, std::string("{\"manifest\":").size(), "{\"job\":");
  };
  EXPECT_NE(refusal().find("signed as another kind"), std::string::npos);
}

TEST_F(RunnerTest, AGenuineJobAfterARefusedOneStillRuns) {
  const auto rogue = KeyPair::generate();
  int served = 0;
  server_.serve_job = [&](const proto::Job& j) {
    return proto::sign_job(j, ++served == 1 ? rogue : server_.job_key);
  };
  server_.next_answers = {FakeServerApi::step(1, StepKind::finish),
                          FakeServerApi::step(2, StepKind::finish), FakeServerApi::done()};
  EXPECT_EQ(run(), 0) << log_text();
  ASSERT_EQ(server_.results.size(), 2u);
  EXPECT_EQ(server_.results[0].second.status, proto::StepStatus::failed);
  EXPECT_EQ(server_.results[1].second.status, proto::StepStatus::ok)
      << server_.results[1].second.error;
  // Every request carried a fresh nonce.
  ASSERT_EQ(server_.next_nonces.size(), 3u);
  EXPECT_NE(server_.next_nonces[0], server_.next_nonces[1]);
  EXPECT_EQ(server_.next_nonces[0].size(), 32u);
}

TEST_F(RunnerTest, AWipeJobNamingAUsbDriveIsRefusedOnARealLaptop) {
  // Not a simulation: the job's drives are checked against this (fake) sysfs. The names do
  // not exist on the test machine, so a broken check could not reach a real disk either.
  test::TempDir sys;
  const std::string usb = "pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0/host1/target1:0:0/1:0:0:0";
  std::filesystem::create_directories(sys / "sys/devices" / usb / "block/sdzz");
  std::filesystem::create_directories(sys / "sys/block");
  std::filesystem::create_symlink(std::filesystem::path("../devices") / usb / "block/sdzz",
                                  sys / "sys/block/sdzz");
  MachineRoot system(sys.path());
  opts_.system = &system;
  opts_.simulate = false;
  opts_.disk = "/dev/sdzz-not-used";
  server_.next_answers = {
      FakeServerApi::step(5, StepKind::wipe, {{"drives", {{{"name", "sdzz"}, {"serial", "S1"}}}}}),
      FakeServerApi::done()};
  EXPECT_EQ(run(), 0) << log_text();
  const auto results = server_.results_of(5);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, proto::StepStatus::failed);
  EXPECT_NE(results[0].error.find("/dev/sdzz is attached through USB"), std::string::npos)
      << results[0].error;
  EXPECT_NE(results[0].error.find("nothing was written"), std::string::npos);
}

}  // namespace
}  // namespace revive::agent
