#include "revive/image_store.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "revive/encoding.hpp"
#include "revive/file_util.hpp"
#include "revive/image_ops.hpp"
#include "temp_dir.hpp"
#include "test_files.hpp"

namespace revive {
namespace {

namespace fs = std::filesystem;

std::size_t count_chunk_files(const ImageStore& s) {
  std::size_t n = 0;
  EXPECT_TRUE(s.chunks().for_each([&](const Digest&, std::uint64_t) { ++n; }));
  return n;
}

TEST(ChunkStore, OpenChunkGivesTheStoredFrameAsItIs) {
  test::TempDir dir;
  auto cs = ChunkStore::open(dir / "chunks", dir / "tmp");
  ASSERT_TRUE(cs) << cs.error().message;
  const std::string frame = "not really zstd, but stored as it is";
  const Digest d = sha256(as_bytes(std::string_view("the uncompressed bytes")));
  ASSERT_TRUE(cs->put(d, as_bytes(frame)));
  auto opened = cs->open_chunk(d);
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_EQ(opened->size, frame.size());
  std::string back(frame.size(), '\0');
  ASSERT_TRUE(pread_exact(opened->fd.get(), std::as_writable_bytes(std::span(back)), 0, "chunk"));
  EXPECT_EQ(back, frame);
  const Digest absent = sha256(as_bytes(std::string_view("never stored")));
  auto missing = cs->open_chunk(absent);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::not_found);
}

TEST(ChunkStore, AStagedChunkIsInvisibleUntilCommittedAndDiscardLeavesNothing) {
  test::TempDir dir;
  auto cs = ChunkStore::open(dir / "chunks", dir / "tmp");
  ASSERT_TRUE(cs) << cs.error().message;
  const std::string frame = "staged frame";
  const Digest d = sha256(as_bytes(std::string_view("staged")));
  auto staged = cs->stage(d, as_bytes(frame));
  ASSERT_TRUE(staged) << staged.error().message;
  EXPECT_EQ(staged->size, frame.size());
  EXPECT_FALSE(fs::exists(cs->path_for(d)));  // written, not yet durable: no name yet
  EXPECT_EQ(cs->stored_size(d).error().code, Errc::not_found);
  auto committed = cs->commit(*staged);
  ASSERT_TRUE(committed) << committed.error().message;
  EXPECT_TRUE(*committed);
  EXPECT_EQ(*cs->stored_size(d), frame.size());
  EXPECT_TRUE(fs::is_empty(dir / "tmp"));

  // The same chunk staged twice: the second commit finds it stored and drops its temp file.
  auto again = cs->stage(d, as_bytes(frame));
  ASSERT_TRUE(again);
  auto second = cs->commit(*again);
  ASSERT_TRUE(second);
  EXPECT_FALSE(*second);
  EXPECT_TRUE(fs::is_empty(dir / "tmp"));

  const Digest other = sha256(as_bytes(std::string_view("dropped")));
  auto dropped = cs->stage(other, as_bytes(frame));
  ASSERT_TRUE(dropped);
  EXPECT_FALSE(fs::is_empty(dir / "tmp"));
  cs->discard(*dropped);
  EXPECT_TRUE(fs::is_empty(dir / "tmp"));
  EXPECT_FALSE(fs::exists(cs->path_for(other)));
}

TEST(ImageStore, CreatesLayoutAndKey) {
  test::TempDir dir;
  auto s = ImageStore::open(dir / "store", true);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_TRUE(fs::exists(dir / "store" / "revive-store"));
  EXPECT_TRUE(fs::exists(dir / "store" / "keys" / "ed25519.pub"));
  EXPECT_TRUE(fs::is_directory(dir / "store" / "chunks" / "ff"));
  auto again = ImageStore::open(dir / "store", false);
  ASSERT_TRUE(again);
  EXPECT_EQ((*again)->key().public_key(), (*s)->key().public_key());
}

TEST(ImageStore, RefusesMissingStoreAndForeignDirectories) {
  test::TempDir dir;
  auto missing = ImageStore::open(dir / "nope", false);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::not_found);
  fs::create_directories(dir / "home");
  std::ofstream(dir / "home" / "thesis.odt") << "precious";
  auto foreign = ImageStore::open(dir / "home", true);
  ASSERT_FALSE(foreign);
  EXPECT_NE(foreign.error().message.find("not a Revive store"), std::string::npos);
  EXPECT_TRUE(fs::exists(dir / "home" / "thesis.odt"));
  EXPECT_FALSE(fs::exists(dir / "home" / "chunks"));
}

TEST(ImageStore, PublishIsExclusiveUnlessReplacing) {
  test::TempDir dir;
  auto s = ImageStore::open(dir / "store", true);
  ASSERT_TRUE(s);
  Manifest m;
  m.image_id = "id";
  m.name = "img";
  m.logical_size = 1 << 20;
  m.min_disk_size = m.logical_size;
  m.chunk_size = 1 << 20;
  m.extents = {Extent{0, 1 << 20, std::nullopt, 0}};
  ASSERT_TRUE((*s)->publish(m, false));
  auto again = (*s)->publish(m, false);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::already_exists);
  m.source = "second";
  ASSERT_TRUE((*s)->publish(m, true));
  auto loaded = (*s)->load("img");
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->source, "second");
  EXPECT_EQ((*s)->list()->size(), 1u);
  ASSERT_TRUE((*s)->remove("img"));
  EXPECT_EQ((*s)->remove("img").error().code, Errc::not_found);
  EXPECT_EQ((*s)->load("img").error().code, Errc::not_found);
  EXPECT_TRUE((*s)->list()->empty());
}

TEST(ImageStore, ManifestsSignedBeforeKindsWereCoveredAreResignedByTheirOwnKey) {
  // A store written by an earlier version: its manifests' signatures cover the body alone,
  // which agents now refuse. The store's own key re-signs them; another key's are left alone.
  test::TempDir dir;
  auto s = ImageStore::open(dir / "store", true);
  ASSERT_TRUE(s);
  Manifest m;
  m.image_id = "id";
  m.name = "old";
  m.logical_size = 1 << 20;
  m.min_disk_size = m.logical_size;
  m.chunk_size = 1 << 20;
  m.extents = {Extent{0, 1 << 20, std::nullopt, 0}};
  auto legacy = [](const Manifest& man, const KeyPair& key) {
    const std::string body = canonical_json(man);
    const auto sig = key.sign({reinterpret_cast<const std::uint8_t*>(body.data()), body.size()});
    return "{\"manifest\":" + body + ",\"signature\":{\"alg\":\"ed25519\",\"key_id\":\"" +
           key_id(key.public_key()) + "\",\"public_key\":\"" + to_base64(key.public_key()) +
           "\",\"sig\":\"" + to_base64(sig) + "\"}}\n";
  };
  ASSERT_TRUE(write_file_atomic((*s)->manifest_path("old"), as_bytes(legacy(m, (*s)->key())),
                                (*s)->tmp_dir()));
  m.name = "foreign";
  const auto stranger = KeyPair::generate();
  ASSERT_TRUE(write_file_atomic((*s)->manifest_path("foreign"), as_bytes(legacy(m, stranger)),
                                (*s)->tmp_dir()));
  auto refused = (*s)->load("old");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::bad_signature);

  auto resigned = (*s)->resign_legacy_manifests();
  ASSERT_TRUE(resigned) << resigned.error().message;
  EXPECT_EQ(*resigned, std::vector<std::string>{"old"});
  auto loaded = (*s)->load("old");
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->image_id, "id");
  EXPECT_FALSE((*s)->load("foreign"));
  EXPECT_TRUE((*s)->resign_legacy_manifests()->empty());  // nothing left to do
}

TEST(ImageStore, GcRemovesOnlyUnreferencedChunksAndTempFiles) {
  test::TempDir dir;
  auto s = ImageStore::open(dir / "store", true);
  ASSERT_TRUE(s);
  const auto shared = test::random_bytes(1 << 20, 1);
  // a: [shared, A-only]; b: [shared, B-only]
  test::write_at(dir / "a.img", shared, 0);
  test::write_at(dir / "a.img", test::random_bytes(1 << 20, 2), 1 << 20);
  test::write_at(dir / "b.img", shared, 0);
  test::write_at(dir / "b.img", test::random_bytes(1 << 20, 3), 1 << 20);
  ImportOptions o;
  o.chunk_size = 1 << 20;
  o.name = "a";
  ASSERT_TRUE(import_raw_image(**s, dir / "a.img", o));
  o.name = "b";
  auto rb = import_raw_image(**s, dir / "b.img", o);
  ASSERT_TRUE(rb);
  EXPECT_EQ(rb->chunks_reused, 1u);  // the shared chunk is stored once
  EXPECT_EQ(count_chunk_files(**s), 3u);
  std::ofstream((*s)->tmp_dir() / "leftover.123.tmp") << "x";

  ASSERT_TRUE((*s)->remove("a"));
  auto lock = (*s)->lock_exclusive(false);
  ASSERT_TRUE(lock);
  auto dry = (*s)->gc(true);
  ASSERT_TRUE(dry);
  EXPECT_EQ(dry->chunks_removed, 1u);
  EXPECT_EQ(count_chunk_files(**s), 3u);
  auto r = (*s)->gc(false);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->chunks_removed, 1u);
  EXPECT_EQ(r->chunks_kept, 2u);
  EXPECT_EQ(r->temp_files_removed, 1u);
  EXPECT_EQ(count_chunk_files(**s), 2u);
  lock = StoreLock();
  VerifyOptions vo;
  auto v = verify_image(**s, "b", vo);
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->ok());
}

TEST(ImageStore, GcFailsClosedOnAnUnreadableManifest) {
  test::TempDir dir;
  auto s = ImageStore::open(dir / "store", true);
  ASSERT_TRUE(s);
  test::write_at(dir / "a.img", test::random_bytes(1 << 20, 1), 0);
  ImportOptions o;
  o.chunk_size = 1 << 20;
  o.name = "a";
  ASSERT_TRUE(import_raw_image(**s, dir / "a.img", o));
  test::write_at(dir / "b.img", test::random_bytes(1 << 20, 2), 0);
  o.name = "b";
  ASSERT_TRUE(import_raw_image(**s, dir / "b.img", o));
  std::ofstream((*s)->manifest_path("b"), std::ios::trunc) << "{broken";
  ASSERT_TRUE((*s)->remove("a"));
  auto r = (*s)->gc(false);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("nothing removed"), std::string::npos);
  EXPECT_EQ(count_chunk_files(**s), 2u);
}

TEST(ImageStore, GcWaitsForReaders) {
  test::TempDir dir;
  auto s = ImageStore::open(dir / "store", true);
  ASSERT_TRUE(s);
  auto shared = (*s)->lock_shared();
  ASSERT_TRUE(shared);
  auto ex = (*s)->lock_exclusive(false);
  ASSERT_FALSE(ex);
  EXPECT_EQ(ex.error().code, Errc::busy);
  shared = StoreLock();
  EXPECT_TRUE((*s)->lock_exclusive(false));
}

}  // namespace
}  // namespace revive
