// Issue 15, finding 7: certificates are signed with a key of their own, not with the image
// store's key that signs manifests and jobs (what the live image pins). Real keys in a real
// state directory, as revive-server lays it out.

#include "app/certificate_key.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "certificate.hpp"
#include "revive/file_util.hpp"
#include "revive/image_store.hpp"
#include "revive/manifest.hpp"
#include "temp_dir.hpp"
#include "test_image.hpp"

namespace revive::server {
namespace {

namespace fs = std::filesystem;

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

std::string certificate_text(const KeyPair& key) {
  const cert::Json body = {{"format", cert::kFormat},
                           {"kind", "laptop"},
                           {"certificate_id", "c-1"},
                           {"result", "passed"}};
  return cert::sign(body, key);
}

TEST(CertificateKey, FirstStartMakesAnOwnerOnlyKeyThatIsNotTheStoreKey) {
  test::TempDir state;
  auto store = ImageStore::open(state / "store", true);
  ASSERT_TRUE(store) << store.error().message;
  auto key = load_certificate_key(state.path(), (*store)->key().public_key());
  ASSERT_TRUE(key) << key.error().message;
  EXPECT_NE(key->public_key(), (*store)->key().public_key());
  EXPECT_EQ(mode_of(certificate_key_dir(state.path()) / "ed25519.key"), 0600u);
  auto pub = load_public_key(certificate_key_dir(state.path()) / "ed25519.pub");
  ASSERT_TRUE(pub) << pub.error().message;
  EXPECT_EQ(*pub, key->public_key());
  auto again = load_certificate_key(state.path(), (*store)->key().public_key());
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->public_key(), key->public_key()) << "the second start loads the same key";
}

TEST(CertificateKey, AnOlderStateDirectoryKeepsItsStoreKeyAndGainsACertificateKey) {
  test::TempDir state;
  PublicKey old_store_key{};
  std::string old_certificate;
  {  // before the split: the store key signed certificates too
    auto store = ImageStore::open(state / "store", true);
    ASSERT_TRUE(store) << store.error().message;
    old_store_key = (*store)->key().public_key();
    old_certificate = certificate_text((*store)->key());
  }
  auto store = ImageStore::open(state / "store", false);
  ASSERT_TRUE(store) << store.error().message;
  EXPECT_EQ((*store)->key().public_key(), old_store_key) << "the manifest key is kept";
  auto key = load_certificate_key(state.path(), (*store)->key().public_key());
  ASSERT_TRUE(key) << key.error().message;
  EXPECT_NE(key->public_key(), old_store_key);
  // An old certificate still verifies, with the key that signed it (GET /api/v1/public-key).
  EXPECT_TRUE(cert::verify_json(old_certificate, old_store_key));
  EXPECT_FALSE(cert::verify_json(old_certificate, key->public_key()));
}

TEST(CertificateKey, AKeyOthersCanReadIsRefused) {
  test::TempDir state;
  auto store = ImageStore::open(state / "store", true);
  ASSERT_TRUE(store) << store.error().message;
  ASSERT_TRUE(load_certificate_key(state.path(), (*store)->key().public_key()));
  const auto secret = certificate_key_dir(state.path()) / "ed25519.key";
  ASSERT_EQ(::chmod(secret.c_str(), 0644), 0);
  auto key = load_certificate_key(state.path(), (*store)->key().public_key());
  ASSERT_FALSE(key);
  EXPECT_NE(key.error().message.find("certificate key"), std::string::npos) << key.error().message;
}

TEST(CertificateKey, ACopyOfTheStoreKeyIsRefused) {
  test::TempDir state;
  auto store = ImageStore::open(state / "store", true);
  ASSERT_TRUE(store) << store.error().message;
  const auto dir = certificate_key_dir(state.path());
  fs::create_directories(dir);
  fs::copy_file(state / "store" / "keys" / "ed25519.key", dir / "ed25519.key");
  auto key = load_certificate_key(state.path(), (*store)->key().public_key());
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().code, Errc::invalid_input);
  EXPECT_NE(key.error().message.find("different keys"), std::string::npos) << key.error().message;
}

TEST(CertificateKey, SignaturesDoNotCrossBetweenTheTwoKeys) {
  test::TempDir state;
  auto img = test::make_test_image(state.path(), 2, 7);  // the store lands in STATE/store
  ASSERT_TRUE(img) << img.error().message;
  const KeyPair& manifest_key = img->store->key();
  auto cert_key = load_certificate_key(state.path(), manifest_key.public_key());
  ASSERT_TRUE(cert_key) << cert_key.error().message;

  const std::string certificate = certificate_text(*cert_key);
  EXPECT_TRUE(cert::verify_json(certificate, cert_key->public_key()));
  auto c = cert::verify_json(certificate, manifest_key.public_key());
  ASSERT_FALSE(c) << "a certificate must not verify with the manifest key";
  EXPECT_EQ(c.error().code, Errc::bad_signature);

  const std::string manifest = sign_manifest(img->manifest, manifest_key);
  EXPECT_TRUE(open_signed_manifest(manifest, manifest_key.public_key()));
  auto m = open_signed_manifest(manifest, cert_key->public_key());
  ASSERT_FALSE(m) << "a manifest must not verify with the certificate key";
  EXPECT_EQ(m.error().code, Errc::bad_signature);
}

}  // namespace
}  // namespace revive::server
