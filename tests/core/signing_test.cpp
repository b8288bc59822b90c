#include "revive/signing.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "revive/file_util.hpp"
#include "temp_dir.hpp"

namespace revive {
namespace {

std::span<const std::uint8_t> msg(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

TEST(Signing, SignAndVerify) {
  auto kp = KeyPair::generate();
  auto sig = kp.sign(msg("manifest"));
  EXPECT_TRUE(verify_signature(kp.public_key(), msg("manifest"), sig));
  EXPECT_FALSE(verify_signature(kp.public_key(), msg("manifesT"), sig));
  auto other = KeyPair::generate();
  EXPECT_FALSE(verify_signature(other.public_key(), msg("manifest"), sig));
}

TEST(Signing, PublicKeyTextRoundTrip) {
  auto kp = KeyPair::generate();
  auto text = public_key_to_text(kp.public_key());
  EXPECT_TRUE(text.starts_with("revive-ed25519 "));
  auto back = public_key_from_text("  " + text + "\n");
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, kp.public_key());
  EXPECT_EQ(key_id(kp.public_key()).size(), 16u);
  EXPECT_FALSE(public_key_from_text("ssh-ed25519 AAAA"));
  EXPECT_FALSE(public_key_from_text("revive-ed25519 AQ=="));
}

TEST(Signing, LoadOrCreatePersistsThePair) {
  test::TempDir dir;
  auto a = KeyPair::load_or_create(dir / "keys");
  ASSERT_TRUE(a) << a.error().message;
  struct stat st {};
  ASSERT_EQ(::stat((dir / "keys" / "ed25519.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto b = KeyPair::load_or_create(dir / "keys");
  ASSERT_TRUE(b);
  EXPECT_EQ(a->public_key(), b->public_key());
  auto pub = load_public_key(dir / "keys" / "ed25519.pub");
  ASSERT_TRUE(pub);
  EXPECT_EQ(*pub, a->public_key());
}

TEST(Signing, RefusesToReplaceALostSecretKey) {
  test::TempDir dir;
  ASSERT_TRUE(KeyPair::load_or_create(dir.path()));
  std::filesystem::remove(dir / "ed25519.key");
  auto r = KeyPair::load_or_create(dir.path());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("refusing"), std::string::npos);
}

TEST(Signing, DamagedSecretKeyIsCorrupt) {
  test::TempDir dir;
  ASSERT_TRUE(KeyPair::load_or_create(dir.path()));
  ASSERT_TRUE(write_file_atomic(dir / "ed25519.key", as_bytes("short"), dir.path()));
  ASSERT_EQ(::chmod((dir / "ed25519.key").c_str(), 0600), 0);
  auto r = KeyPair::load_or_create(dir.path());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::corrupt);
}

// Issue 15: a secret key other users could read is refused, with what to do about it.
TEST(Signing, ASecretKeyOthersCanReadIsRefused) {
  test::TempDir dir;
  ASSERT_TRUE(KeyPair::load_or_create(dir.path()));
  ASSERT_EQ(::chmod((dir / "ed25519.key").c_str(), 0644), 0);
  auto r = KeyPair::load_or_create(dir.path());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::forbidden);
  EXPECT_NE(r.error().message.find("chmod 600"), std::string::npos) << r.error().message;
  ASSERT_EQ(::chmod((dir / "ed25519.key").c_str(), 0600), 0);
  EXPECT_TRUE(KeyPair::load_or_create(dir.path())) << "owner-only again: used";
}

}  // namespace
}  // namespace revive
