// Jobs: a step signed for one agent's request, refused in every way it could be misused.
#include "revive/signed_job.hpp"

#include <gtest/gtest.h>

#include "revive/manifest.hpp"
#include "revive/signed_document.hpp"

namespace revive::protocol {
namespace {

Job wipe_job() {
  Job j;
  j.device = 17;
  j.step.id = 93;
  j.step.kind = StepKind::wipe;
  j.step.attempt = 1;
  j.step.params = {{"drives", {{{"name", "nvme0n1"}, {"serial", "S1"}}}}};
  j.nonce = "a1b2";
  j.issued_at = 1000;
  j.expires_at = 1300;
  return j;
}

const JobExpectations kMine{17, "a1b2", 1000};

TEST(SignedJob, RoundTripsEveryFieldTheAgentActsOn) {
  const auto key = KeyPair::generate();
  Job j = wipe_job();
  j.step.resumed = true;
  j.step.checkpoint = Json{{"done", Json::array()}};
  auto back = open_job(sign_job(j, key), key.public_key());
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->device, 17);
  EXPECT_EQ(back->step.id, 93);
  EXPECT_EQ(back->step.kind, StepKind::wipe);
  EXPECT_EQ(back->step.attempt, 1);
  EXPECT_EQ(back->step.params, j.step.params);
  EXPECT_TRUE(back->step.resumed);
  EXPECT_EQ(back->step.checkpoint, j.step.checkpoint);
  EXPECT_EQ(back->nonce, "a1b2");
  EXPECT_EQ(back->expires_at, 1300);
  EXPECT_TRUE(back->unknown_kind.empty());
  EXPECT_TRUE(check_job(*back, kMine));
}

TEST(SignedJob, UnsignedOrSignedByAnotherKeyIsRefused) {
  const auto key = KeyPair::generate();
  const auto rogue = KeyPair::generate();
  auto r = open_job(sign_job(wipe_job(), rogue), key.public_key());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::bad_signature);
  EXPECT_NE(r.error().message.find(key_id(rogue.public_key())), std::string::npos);
  // A body with no signature at all.
  r = open_job("{\"job\":" + job_canonical(wipe_job()) + "}\n", key.public_key());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::bad_signature);
}

TEST(SignedJob, AnEditedJobIsRefused) {
  const auto key = KeyPair::generate();
  std::string doc = sign_job(wipe_job(), key);
  doc.replace(doc.find("nvme0n1"), 7, "nvme1n1");
  auto r = open_job(doc, key.public_key());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::bad_signature);
}

TEST(SignedJob, ADocumentOfAnotherKindIsRefused) {
  // The server's key also signs manifests and certificates: neither may pass as a job.
  const auto key = KeyPair::generate();
  const std::string body = job_canonical(wipe_job());
  for (const std::string kind : {"manifest", "certificate"}) {
    std::string doc = sign_canonical(kind, body, key);
    doc.replace(doc.find("{\"" + kind + "\":"), kind.size() + 4, "{\"job\":");
    auto r = open_job(doc, key.public_key());
    ASSERT_FALSE(r) << kind;
    EXPECT_EQ(r.error().code, Errc::bad_signature);
  }
}

TEST(SignedJob, ForAnotherDeviceAnotherRequestOrExpiredIsRefused) {
  const Job j = wipe_job();
  auto other_device = check_job(j, {18, "a1b2", 1000});
  ASSERT_FALSE(other_device);
  EXPECT_NE(other_device.error().message.find("for device 17"), std::string::npos);
  auto replayed = check_job(j, {17, "ffff", 1000});
  ASSERT_FALSE(replayed);
  EXPECT_NE(replayed.error().message.find("replayed"), std::string::npos);
  auto expired = check_job(j, {17, "a1b2", 1301});
  ASSERT_FALSE(expired);
  EXPECT_NE(expired.error().message.find("expired 1 s ago"), std::string::npos);
  EXPECT_TRUE(check_job(j, {17, "a1b2", 1300}));
  Job backwards = j;
  backwards.expires_at = 999;
  EXPECT_FALSE(check_job(backwards, {17, "a1b2", 0}));
}

TEST(SignedJob, AnUnknownKindIsKeptByName) {
  const auto key = KeyPair::generate();
  Job j = wipe_job();
  j.unknown_kind = "firmware_update";
  auto back = open_job(sign_job(j, key), key.public_key());
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->unknown_kind, "firmware_update");
}

TEST(SignedJob, BadFieldsAreRefusedNotThrown) {
  const auto key = KeyPair::generate();
  for (
      const char* body :
      {R"({"attempt":1,"device":0,"expires_at":1,"issued_at":0,"kind":"wipe","nonce":"","params":{},"resumed":false,"step":1})",
       R"({"attempt":1,"device":1,"expires_at":1,"issued_at":0,"kind":"wipe","nonce":"","params":3,"resumed":false,"step":1})",
       R"({"attempt":1,"device":1,"expires_at":1,"issued_at":0,"kind":"wipe","nonce":5,"params":{},"resumed":false,"step":1})",
       R"({"attempt":1,"device":1,"issued_at":0,"kind":"wipe","nonce":"","params":{},"resumed":false,"step":1})",
       R"([])"}) {
    auto r = open_job(sign_canonical("job", body, key), key.public_key());
    EXPECT_FALSE(r) << body;
  }
}

}  // namespace
}  // namespace revive::protocol
