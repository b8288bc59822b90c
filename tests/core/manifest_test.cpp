#include "revive/manifest.hpp"

#include <gtest/gtest.h>

namespace revive {
namespace {

Digest digest_of(std::uint8_t v) {
  Digest d{};
  d.fill(v);
  return d;
}

Manifest sample() {
  Manifest m;
  m.image_id = "0b7b1c4e-1111-4222-8333-444455556666";
  m.name = "debian-12-desktop";
  m.source = "raw:disk.img";
  m.chunk_size = 1 << 20;
  m.logical_size = 5 * (1 << 20) + 4096;  // not a multiple of the chunk size
  m.min_disk_size = m.logical_size;
  m.created_at = "2026-11-22T10:00:00Z";
  m.extents = {Extent{0, 1 << 20, digest_of(1), 1000}, Extent{1 << 20, 3 << 20, std::nullopt, 0},
               Extent{4 << 20, 1 << 20, digest_of(2), 2000},
               Extent{5 << 20, 4096, digest_of(3), 30}};
  m.data_bytes = (2 << 20) + 4096;
  m.stored_bytes = 3030;
  m.partitions.scheme = "gpt";
  m.partitions.partitions.push_back(PartitionEntry{
      1, 2048, 4095, "C12A7328-F81F-11D2-BA4B-00A0C93EC93B", "EFI System", "EFI", "", 0});
  return m;
}

TEST(Manifest, CanonicalJsonIsSortedAndCompact) {
  const auto text = canonical_json(sample());
  EXPECT_EQ(text.find(' '), text.find("EFI System") + 3);  // only space is inside a string
  EXPECT_LT(text.find("\"chunk_size\""), text.find("\"created_at\""));
  EXPECT_LT(text.find("\"created_at\""), text.find("\"extents\""));
  EXPECT_EQ(canonical_json(sample()), text);
}

TEST(Manifest, RoundTrip) {
  auto back = manifest_from_json(canonical_json(sample()));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(canonical_json(*back), canonical_json(sample()));
  EXPECT_EQ(back->extents.size(), 4u);
  EXPECT_TRUE(back->extents[1].is_hole());
  EXPECT_EQ(back->data_chunk_count(), 3u);
}

TEST(Manifest, SignedFileVerifiesOnlyWithTheRightKey) {
  auto kp = KeyPair::generate();
  const auto file = sign_manifest(sample(), kp);
  auto ok = open_signed_manifest(file, kp.public_key());
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->name, "debian-12-desktop");

  auto other = KeyPair::generate();
  auto wrong = open_signed_manifest(file, other.public_key());
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, Errc::bad_signature);
  EXPECT_NE(wrong.error().message.find(key_id(kp.public_key())), std::string::npos);
  EXPECT_NE(wrong.error().message.find(key_id(other.public_key())), std::string::npos);
}

TEST(Manifest, EditedFieldBreaksTheSignature) {
  auto kp = KeyPair::generate();
  auto file = sign_manifest(sample(), kp);
  const auto pos = file.find("raw:disk.img");
  ASSERT_NE(pos, std::string::npos);
  file.replace(pos, 12, "raw:evil.img");
  auto r = open_signed_manifest(file, kp.public_key());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::bad_signature);
  EXPECT_NE(r.error().message.find("does not match its content"), std::string::npos);
}

TEST(Manifest, ResignedByAnotherKeyIsRefused) {
  auto kp = KeyPair::generate();
  auto attacker = KeyPair::generate();
  auto m = sample();
  m.extents[0].sha256 = digest_of(9);
  auto r = open_signed_manifest(sign_manifest(m, attacker), kp.public_key());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::bad_signature);
}

TEST(Manifest, MissingOrMalformedSignature) {
  auto kp = KeyPair::generate();
  EXPECT_EQ(open_signed_manifest("{\"manifest\":" + canonical_json(sample()) + "}", kp.public_key())
                .error()
                .code,
            Errc::bad_signature);
  EXPECT_EQ(open_signed_manifest(
                "{\"manifest\":" + canonical_json(sample()) + ",\"signature\":{\"alg\":\"rsa\"}}",
                kp.public_key())
                .error()
                .code,
            Errc::bad_signature);
  EXPECT_EQ(open_signed_manifest("not json", kp.public_key()).error().code, Errc::corrupt);
  EXPECT_EQ(open_signed_manifest("", kp.public_key()).error().code, Errc::corrupt);
}

struct LayoutCase {
  const char* what;
  void (*edit)(Manifest&);
};

TEST(Manifest, LayoutErrorsAreRejected) {
  const LayoutCase cases[] = {
      {"gap", [](Manifest& m) { m.extents[1].length -= 4096; }},
      {"unaligned",
       [](Manifest& m) {
         m.extents[0].length = 4096;
         m.extents[1].offset = 4096;
       }},
      {"short coverage", [](Manifest& m) { m.extents.pop_back(); }},
      {"data_bytes", [](Manifest& m) { m.data_bytes += 1; }},
      {"stored_bytes", [](Manifest& m) { m.stored_bytes += 1; }},
      {"chunk size", [](Manifest& m) { m.chunk_size = 3 << 20; }},
      {"tiny chunk size", [](Manifest& m) { m.chunk_size = 4096; }},
      {"zero size", [](Manifest& m) { m.logical_size = 0; }},
      {"min disk", [](Manifest& m) { m.min_disk_size = m.logical_size + 1; }},
      {"bad name", [](Manifest& m) { m.name = "../etc"; }},
      {"version", [](Manifest& m) { m.format_version = 3; }},
      {"data shorter than a chunk in version 1",
       [](Manifest& m) {
         m.extents[0].length = 512 << 10;
         m.extents[1].offset = 512 << 10;
         m.extents[1].length += 512 << 10;
       }},
  };
  for (const auto& c : cases) {
    auto m = sample();
    c.edit(m);
    auto r = manifest_from_json(canonical_json(m));
    EXPECT_FALSE(r) << c.what;
  }
}

// Version 2: chunks cut where the content says, any whole number of 4 KiB blocks up to a chunk.
Manifest content_defined_sample() {
  Manifest m = sample();
  m.format_version = kContentDefinedFormatVersion;
  m.extents = {Extent{0, 200 * kCutBlock, digest_of(1), 1000},
               Extent{200 * kCutBlock, 5 * kCutBlock, std::nullopt, 0},
               Extent{205 * kCutBlock, kCutBlock, digest_of(2), 20},
               Extent{206 * kCutBlock, m.logical_size - 206 * kCutBlock, std::nullopt, 0}};
  m.data_bytes = 201 * kCutBlock;
  m.stored_bytes = 1020;
  return m;
}

TEST(Manifest, ContentDefinedExtentsAreWholeBlocksUpToAChunk) {
  auto back = manifest_from_json(canonical_json(content_defined_sample()));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->format_version, kContentDefinedFormatVersion);
  EXPECT_EQ(back->extents.size(), 4u);
  EXPECT_EQ(back->extents[2].length, 4096u);

  const LayoutCase cases[] = {
      {"not whole blocks",
       [](Manifest& m) {
         m.extents[0].length -= 512;
         m.extents[1].offset -= 512;
         m.extents[1].length += 512;
         m.data_bytes -= 512;
       }},
      {"longer than a chunk", [](Manifest& m) { m.chunk_size = 512 << 10; }},
      {"hole not whole blocks",
       [](Manifest& m) {
         m.extents[1].length -= 100;
         m.extents[2].offset -= 100;
       }},
  };
  for (const auto& c : cases) {
    auto m = content_defined_sample();
    c.edit(m);
    auto r = manifest_from_json(canonical_json(m));
    ASSERT_FALSE(r) << c.what;
    EXPECT_EQ(r.error().code, Errc::corrupt) << c.what;
  }
}

TEST(Manifest, WrongTypesAreRejectedNotThrown) {
  auto text = canonical_json(sample());
  for (const char* field : {"\"logical_size\":", "\"name\":", "\"extents\":"}) {
    auto t = text;
    const auto pos = t.find(field) + std::string(field).size();
    t.insert(pos, "[\"x\"],\"junk\":");
    auto r = manifest_from_json(t);
    EXPECT_FALSE(r) << field;
  }
  EXPECT_FALSE(manifest_from_json("[]"));
  EXPECT_FALSE(manifest_from_json("{\"format_version\":-1}"));
}

TEST(Manifest, ImageNames) {
  EXPECT_TRUE(validate_image_name("debian-12_desktop+nl.v2"));
  EXPECT_FALSE(validate_image_name(""));
  EXPECT_FALSE(validate_image_name(".hidden"));
  EXPECT_FALSE(validate_image_name("-opt"));
  EXPECT_FALSE(validate_image_name("a/b"));
  EXPECT_FALSE(validate_image_name("a b"));
  EXPECT_FALSE(validate_image_name(std::string(129, 'a')));
}

}  // namespace
}  // namespace revive
