// Signed documents: the signature covers the kind, and only the canonical text is accepted.
#include "revive/signed_document.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "revive/encoding.hpp"
#include "revive/manifest.hpp"

namespace revive {
namespace {

using nlohmann::json;

const std::string kBody = R"({"a":1,"b":"two"})";

std::string replace_once(std::string s, const std::string& from, const std::string& to) {
  const auto at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

Result<void> open(std::string_view text, std::string_view kind, const PublicKey& key) {
  auto d = parse_signed_document(text, kind, 1 << 20);
  if (!d) return d.error();
  return check_document(*d, key, kind);
}

// A document as signatures were made before they covered the kind: over the body alone.
std::string legacy_document(std::string_view kind, const std::string& body, const KeyPair& key) {
  const auto sig = key.sign({reinterpret_cast<const std::uint8_t*>(body.data()), body.size()});
  json s = {{"alg", "ed25519"},
            {"key_id", key_id(key.public_key())},
            {"public_key", to_base64(key.public_key())},
            {"sig", to_base64(sig)}};
  return "{\"" + std::string(kind) + "\":" + body + ",\"signature\":" + s.dump() + "}\n";
}

TEST(SignedDocument, VerifiesAsTheKindItWasSignedAs) {
  const auto key = KeyPair::generate();
  const std::string doc = sign_canonical("job", kBody, key);
  EXPECT_TRUE(open(doc, "job", key.public_key()));
  EXPECT_NE(doc.find("\"covers\":\"kind,body\""), std::string::npos);
}

TEST(SignedDocument, AManifestSignatureCannotBeReplayedAsAJobOrACertificate) {
  // The same body and signature under another kind's name: with signatures over the body alone
  // (before revive-signed-document/2) this verified as a job.
  const auto key = KeyPair::generate();
  const std::string manifest = sign_canonical("manifest", kBody, key);
  for (const std::string kind : {"job", "certificate"}) {
    const std::string replayed = replace_once(manifest, "{\"manifest\":", "{\"" + kind + "\":");
    auto r = open(replayed, kind, key.public_key());
    ASSERT_FALSE(r) << kind;
    EXPECT_EQ(r.error().code, Errc::bad_signature);
    EXPECT_NE(r.error().message.find("does not match"), std::string::npos) << r.error().message;
  }
}

TEST(SignedDocument, DuplicateKeysAreRefused) {
  // Readers disagree on which duplicate wins; nlohmann keeps one of them, and the body it
  // re-serialises is the signed one, so before the canonical check this verified.
  const auto key = KeyPair::generate();
  const std::string doc = sign_canonical("job", kBody, key);
  for (const std::string dup : {R"({"a":9,"a":1,"b":"two"})", R"({"a":1,"a":9,"b":"two"})"}) {
    auto r = open(replace_once(doc, kBody, dup), "job", key.public_key());
    ASSERT_FALSE(r) << dup;
    EXPECT_EQ(r.error().code, Errc::bad_signature);
    EXPECT_NE(r.error().message.find("canonical"), std::string::npos) << r.error().message;
  }
  // Also a second "signature" or a second body next to the first.
  auto twice = replace_once(doc, "{\"job\":", "{\"job\":{\"a\":7},\"job\":");
  EXPECT_FALSE(open(twice, "job", key.public_key()));
}

TEST(SignedDocument, ReorderedKeysAndWhitespaceAreRefused) {
  const auto key = KeyPair::generate();
  const std::string doc = sign_canonical("job", kBody, key);
  const std::string variants[] = {
      replace_once(doc, kBody, R"({"b":"two","a":1})"),
      replace_once(doc, kBody, R"({"a": 1,"b":"two"})"),
      replace_once(doc, "{\"job\":", "{ \"job\":"),
      doc + "\n",                                     // two trailing newlines
      replace_once(doc, "\"two\"", "\"\\u0074wo\""),  // an escape for a plain letter
      json::parse(doc).dump(2),                       // pretty-printed
  };
  for (const auto& v : variants) {
    auto r = open(v, "job", key.public_key());
    ASSERT_FALSE(r) << v;
    EXPECT_EQ(r.error().code, Errc::bad_signature) << v;
  }
  // The one canonical text, with or without its final newline, is accepted.
  EXPECT_TRUE(open(doc.substr(0, doc.size() - 1), "job", key.public_key()));
}

TEST(SignedDocument, ExtraMembersAreRefused) {
  const auto key = KeyPair::generate();
  const std::string doc = sign_canonical("job", kBody, key);
  auto r =
      open(replace_once(doc, "{\"job\":", "{\"a_note\":\"hi\",\"job\":"), "job", key.public_key());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::bad_signature);
}

TEST(SignedDocument, LegacySignaturesAreAcceptedForCertificatesOnly) {
  // Certificates issued before signatures covered the kind stay verifiable; nothing else
  // signed the old way is accepted.
  const auto key = KeyPair::generate();
  EXPECT_TRUE(open(legacy_document("certificate", kBody, key), "certificate", key.public_key()));
  for (const std::string kind : {"job", "manifest"}) {
    auto r = open(legacy_document(kind, kBody, key), kind, key.public_key());
    ASSERT_FALSE(r) << kind;
    EXPECT_NE(r.error().message.find("does not cover its kind"), std::string::npos)
        << r.error().message;
  }
  // A current signature cannot be downgraded by dropping "covers": it is over another message.
  const std::string current = sign_canonical("certificate", kBody, key);
  EXPECT_FALSE(open(replace_once(current, "\"covers\":\"kind,body\",", ""), "certificate",
                    key.public_key()));
}

TEST(SignedDocument, AnotherKeyOrAnUnknownCoverageIsRefused) {
  const auto key = KeyPair::generate();
  const auto other = KeyPair::generate();
  const std::string doc = sign_canonical("job", kBody, key);
  auto r = open(doc, "job", other.public_key());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find(key_id(key.public_key())), std::string::npos);
  EXPECT_FALSE(open(replace_once(doc, "\"kind,body\"", "\"body\""), "job", key.public_key()));
}

TEST(SignedDocument, ManifestsSignedByTheirStoreKeyStillOpen) {
  Manifest m;
  m.image_id = "id";
  m.name = "tiny";
  m.source = "raw:x";
  m.logical_size = 4u << 20;
  m.min_disk_size = m.logical_size;
  m.created_at = "2026-01-01T00:00:00Z";
  m.partitions.scheme = "none";
  m.partitions.sector_size = 512;
  m.extents.push_back({0, 4u << 20, std::nullopt, 0});
  const auto key = KeyPair::generate();
  EXPECT_TRUE(open_signed_manifest(sign_manifest(m, key), key.public_key()));
  auto legacy = parse_signed_manifest(legacy_document("manifest", canonical_json(m), key));
  ASSERT_TRUE(legacy);
  EXPECT_TRUE(legacy->legacy);
  EXPECT_FALSE(check_signature(*legacy, key.public_key()));
}

}  // namespace
}  // namespace revive
