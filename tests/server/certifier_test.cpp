// The certifier and the deploy gate over fake repositories: evidence becomes certificates
// before anything is stored, a retried result signs nothing, and no deploy without a passed
// laptop certificate.
#include "domain/certificates.hpp"
#include "domain/deploy_gate.hpp"
#include "domain_fixture.hpp"

namespace revive::server::test {
namespace {

using protocol::NextResponse;
using protocol::StepKind;
using protocol::StepStatus;

class CertifierTest : public DomainTest {};

TEST_F(CertifierTest, PassingEvidenceEarnsADriveAndALaptopCertificate) {
  const auto dev = enrol("CE01");
  auto wipe = advance_to(dev, StepKind::wipe);
  auto ack = result(dev, wipe, StepStatus::ok, wipe_evidence());
  ASSERT_TRUE(ack);
  EXPECT_TRUE(ack->recorded);
  ASSERT_EQ(storage.data.certificates.size(), 2u);
  EXPECT_EQ(storage.data.certificates[0].kind, "drive");
  EXPECT_EQ(storage.data.certificates[1].kind, "laptop");
  EXPECT_EQ(storage.data.certificates[1].result, "passed");
  EXPECT_EQ(storage.data.certificates[1].step_id, wipe.id);
  EXPECT_EQ(signatures, 2);
  EXPECT_EQ(storage.events_of("certificate").size(), 2u);
}

TEST_F(CertifierTest, ARetriedDuplicateResultSignsNothing) {
  const auto dev = enrol("CE02");
  auto wipe = advance_to(dev, StepKind::wipe);
  ASSERT_TRUE(result(dev, wipe, StepStatus::ok, wipe_evidence()));
  const int signed_before = signatures;
  auto again = result(dev, wipe, StepStatus::ok, wipe_evidence());
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(signatures, signed_before);  // was: two fresh signatures, then thrown away
  EXPECT_EQ(storage.data.certificates.size(), 2u);
}

TEST_F(CertifierTest, EvidenceThatDoesNotHoldUpFailsTheStepAndItsRetryIsStillADuplicate) {
  const auto dev = enrol("CE03");
  auto wipe = advance_to(dev, StepKind::wipe);
  Json bad = wipe_evidence();
  bad["drives"][0]["verification"]["mismatches"] = 3;
  ASSERT_TRUE(result(dev, wipe, StepStatus::ok, bad));
  ASSERT_EQ(storage.data.results.back().status, StepStatus::failed);
  EXPECT_NE(storage.data.results.back().error.find("did not pass"), std::string::npos);
  EXPECT_EQ(storage.data.certificates.back().result, "failed");
  // The agent never saw the answer and sends "ok" again: the same answer, not a conflict.
  const int signed_before = signatures;
  auto again = result(dev, wipe, StepStatus::ok, bad);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(signatures, signed_before);
  EXPECT_EQ(next(dev).state, NextResponse::State::waiting);
}

TEST_F(CertifierTest, MalformedEvidenceIsRefusedButStillCertifiedAsFailed) {
  const auto dev = enrol("CE04");
  auto wipe = advance_to(dev, StepKind::wipe);
  ASSERT_TRUE(result(dev, wipe, StepStatus::ok, Json{{"drives", "all of them"}}));
  EXPECT_NE(storage.data.results.back().error.find("refused"), std::string::npos);
  ASSERT_EQ(storage.data.certificates.size(), 1u);  // the laptop's, failed: no drive
  EXPECT_EQ(storage.data.certificates[0].result, "failed");
}

TEST_F(CertifierTest, AssessSignsNothingAndTellsTheStatus) {
  CertificateFacts facts;
  facts.device = {{"device_id", 1}, {"serial", "S"}};
  facts.job_drives = Json::array({{{"name", "nvme0n1"}, {"serial", "S1"}, {"model", "TEST SSD"}}});
  facts.inventory = test_inventory();
  auto a = certifier.assess(facts, CertifierSettings{}, wipe_evidence(), StepStatus::ok, "");
  EXPECT_EQ(signatures, 0);
  EXPECT_EQ(a.status, StepStatus::ok);
  EXPECT_EQ(a.drives.size(), 1u);
  EXPECT_EQ(a.laptop["result"], "passed");
  auto none = certifier.assess(facts, CertifierSettings{}, Json{{"drives", Json::array()}},
                               StepStatus::ok, "");
  EXPECT_EQ(none.status, StepStatus::failed);
  EXPECT_EQ(certifier.sign(a).size(), 2u);
  EXPECT_EQ(signatures, 2);
}

TEST_F(CertifierTest, NoDeployWithoutAPassedLaptopCertificate) {
  const auto dev = enrol("CE05");
  auto wipe = advance_to(dev, StepKind::wipe);
  ASSERT_TRUE(runs.skip_step(wipe.id, "alice"));
  auto test = next(dev);
  ASSERT_EQ(test.step->kind, StepKind::test);
  ASSERT_TRUE(result(dev, *test.step));
  auto w = next(dev);
  ASSERT_EQ(w.state, NextResponse::State::waiting);
  EXPECT_EQ(w.waiting->kind, StepKind::deploy);
  EXPECT_EQ(w.waiting->state, protocol::StepState::pending);
  EXPECT_NE(w.reason.find("passed erasure certificate"), std::string::npos);
}

TEST_F(CertifierTest, ADisputedReverificationBlocksTheDeploy) {
  const auto dev = enrol("CE06");
  auto wipe = advance_to(dev, StepKind::wipe);
  ASSERT_TRUE(result(dev, wipe, StepStatus::ok, wipe_evidence()));
  storage.data.certificates.push_back(
      CertificateRow{"later", dev, wipe.id, "laptop", "failed", "{}", now, std::nullopt});
  ASSERT_TRUE(result(dev, *next(dev).step));  // test
  EXPECT_EQ(next(dev).state, NextResponse::State::waiting);
}

TEST(DeployGate, OnlyDeployStepsAreGatedAndEveryWipeStepCounts) {
  auto step = [](std::int64_t id, StepKind kind) {
    StepRow s;
    s.id = id;
    s.kind = kind;
    return s;
  };
  const StepRow wipe1 = step(1, StepKind::wipe);
  const StepRow wipe2 = step(2, StepKind::wipe);
  const StepRow deploy = step(3, StepKind::deploy);
  const StepRow test = step(4, StepKind::test);
  std::map<std::int64_t, std::string> results{{1, "passed"}};
  NewestLaptopResult lookup = [&](std::int64_t id) -> Result<std::optional<std::string>> {
    auto it = results.find(id);
    if (it == results.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  };
  EXPECT_FALSE(*deploy_blocked(test, {wipe1, wipe2, deploy, test}, lookup));
  EXPECT_FALSE(*deploy_blocked(deploy, {wipe1, deploy}, lookup));
  EXPECT_TRUE(*deploy_blocked(deploy, {wipe1, wipe2, deploy}, lookup));  // wipe2 has none
  results[2] = "unverified";
  EXPECT_TRUE(*deploy_blocked(deploy, {wipe1, wipe2, deploy}, lookup));
  results[2] = "passed";
  EXPECT_FALSE(*deploy_blocked(deploy, {wipe1, wipe2, deploy}, lookup));
  EXPECT_FALSE(*deploy_blocked(deploy, {deploy}, lookup));  // a workflow without a wipe
  NewestLaptopResult broken = [](std::int64_t) -> Result<std::optional<std::string>> {
    return make_error(Errc::io, "disk gone");
  };
  EXPECT_FALSE(deploy_blocked(deploy, {wipe1, deploy}, broken));  // errors are not a yes
}

}  // namespace
}  // namespace revive::server::test
