#include "revive/image_ops.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstring>
#include <fstream>
#include <thread>

#include "revive/content_cuts.hpp"

#include "revive/file_util.hpp"
#include "temp_dir.hpp"
#include "test_files.hpp"

namespace revive {
namespace {

namespace fs = std::filesystem;

class ImageOps : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = ImageStore::open(dir_ / "store", true);
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
  }

  // Fixed chunks unless asked: the layouts these tests expect are theirs (content-defined
  // chunks have tests of their own below).
  ImportReport import(const fs::path& src, const std::string& name, std::uint64_t chunk = 1 << 20,
                      bool content_defined = false) {
    ImportOptions o;
    o.name = name;
    o.chunk_size = chunk;
    o.content_defined = content_defined;
    o.raw = true;  // odd-sized random test data is no disk; the content checks have own tests
    auto r = import_raw_image(*store_, src, o);
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : ImportReport{};
  }

  void expect_round_trip(const fs::path& src, const std::string& name,
                         std::uint64_t chunk = 1 << 20, bool content_defined = false) {
    import(src, name, chunk, content_defined);
    const fs::path out = dir_ / (name + ".out");
    auto e = export_raw_image(*store_, name, out, {});
    ASSERT_TRUE(e) << e.error().message;
    EXPECT_EQ(fs::file_size(out), fs::file_size(src));
    EXPECT_TRUE(test::same_contents(src, out));
    auto v = verify_image(*store_, name, {});
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->ok());
  }

  Manifest manifest(const std::string& name) {
    auto m = store_->load(name);
    EXPECT_TRUE(m);
    return m ? *m : Manifest{};
  }

  test::TempDir dir_;
  std::unique_ptr<ImageStore> store_;
};

TEST_F(ImageOps, RandomDataNotAMultipleOfTheChunkSize) {
  const auto src = dir_ / "random.img";
  test::write_at(src, test::random_bytes(5 * (1 << 20) + 12345, 7), 0);
  expect_round_trip(src, "random");
  const auto m = manifest("random");
  EXPECT_EQ(m.logical_size, 5u * (1 << 20) + 12345);
  EXPECT_EQ(m.extents.back().length, 12345u);
}

TEST_F(ImageOps, SparseFileWithScatteredData) {
  const auto src = dir_ / "sparse.img";
  test::make_sparse(src, 64u << 20);
  test::write_at(src, test::compressible_bytes(300000, 1), 0);
  test::write_at(src, test::random_bytes(5000, 2), (17u << 20) + 777);
  test::write_at(src, test::compressible_bytes(2 << 20, 3),
                 (40u << 20) - 1000);  // straddles chunks
  test::write_at(src, test::random_bytes(512, 4), (64u << 20) - 512);
  auto r = import(src, "sparse");
  expect_round_trip(src, "sparse2");
  const auto m = manifest("sparse");
  EXPECT_EQ(m.data_chunk_count(), 6u);  // chunks 0, 17, 39-41, 63
  EXPECT_LT(r.bytes_read, 8u << 20);    // holes were skipped via SEEK_DATA, not read
  std::size_t holes = 0;
  for (const auto& e : m.extents) holes += e.is_hole();
  EXPECT_EQ(holes, 3u);  // 1-16, 18-38, 42-62: adjacent zero chunks merge into one extent
}

TEST_F(ImageOps, WrittenZerosBecomeHoles) {
  const auto src = dir_ / "zeros.img";
  std::vector<std::byte> zeros(3 << 20);
  test::write_at(src, zeros, 0);
  test::write_at(src, test::random_bytes(1000, 1), 3 << 20);
  auto r = import(src, "zeros");
  EXPECT_EQ(r.manifest.data_chunk_count(), 1u);
  EXPECT_EQ(r.manifest.extents[0].length, 3u << 20);
  EXPECT_TRUE(r.manifest.extents[0].is_hole());
  expect_round_trip(src, "zeros2");
}

TEST_F(ImageOps, SmallestChunkSizeAndDeduplication) {
  const auto src = dir_ / "dup.img";
  const auto block = test::random_bytes(64 << 10, 9);
  for (int i = 0; i < 8; ++i)
    test::write_at(src, block, static_cast<std::uint64_t>(i) * (64 << 10));
  auto r = import(src, "dup", 64 << 10);
  EXPECT_EQ(r.manifest.data_chunk_count(), 8u);
  // Workers racing on the same new chunk may both write it (same bytes, atomic rename): the
  // store still holds it once.
  EXPECT_EQ(r.chunks_new + r.chunks_reused, 8u);
  std::size_t files = 0;
  ASSERT_TRUE(store_->chunks().for_each([&](const Digest&, std::uint64_t) { ++files; }));
  EXPECT_EQ(files, 1u);
  expect_round_trip(src, "dup2", 64 << 10);
  auto v = verify_image(*store_, "dup", {});
  ASSERT_TRUE(v);
  EXPECT_EQ(v->chunks_checked, 1u);
}

TEST_F(ImageOps, RefusesWhatIsNotARawDiskImage) {
  test::write_at(dir_ / "empty.img", {}, 0);
  std::ofstream(dir_ / "disk.qcow2") << "QFI\xfb" << std::string(1000, '\0');
  std::ofstream(dir_ / "disk.img.xz") << "\xfd"
                                         "7zXZ"
                                      << std::string(1000, 'x');
  fs::create_directories(dir_ / "folder");
  struct Case {
    fs::path path;
    Errc code;
    const char* words;
  } cases[] = {
      {dir_ / "missing.img", Errc::not_found, "No such file"},
      {dir_ / "empty.img", Errc::invalid_input, "empty"},
      {dir_ / "folder", Errc::invalid_input, "directory"},
      {dir_ / "disk.qcow2", Errc::invalid_input, "through qemu-img"},
      {dir_ / "disk.img.xz", Errc::invalid_input, "xz-compressed"},
      {"/dev/null", Errc::invalid_input, "not a regular file or a block device"},
  };
  for (const auto& c : cases) {
    ImportOptions o;
    o.name = "x";
    auto r = import_raw_image(*store_, c.path, o);
    ASSERT_FALSE(r) << c.path;
    EXPECT_EQ(r.error().code, c.code) << r.error().message;
    EXPECT_NE(r.error().message.find(c.words), std::string::npos) << r.error().message;
  }
  EXPECT_TRUE(store_->list()->empty());
}

TEST_F(ImageOps, RefusesBadNamesChunkSizesAndDuplicates) {
  const auto src = dir_ / "a.img";
  test::write_at(src, test::random_bytes(1024, 1), 0);
  ImportOptions o;
  o.name = "../escape";
  EXPECT_EQ(import_raw_image(*store_, src, o).error().code, Errc::invalid_input);
  o.name = "ok";
  o.chunk_size = 3 << 20;
  EXPECT_EQ(import_raw_image(*store_, src, o).error().code, Errc::invalid_input);
  o.chunk_size = 1 << 20;
  ASSERT_TRUE(import_raw_image(*store_, src, o));
  auto dup = import_raw_image(*store_, src, o);
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, Errc::already_exists);
  o.replace = true;
  EXPECT_TRUE(import_raw_image(*store_, src, o));
}

TEST_F(ImageOps, CancelledImportPublishesNothing) {
  const auto src = dir_ / "big.img";
  test::write_at(src, test::random_bytes(8 << 20, 1), 0);
  std::atomic<bool> cancel{true};
  ImportOptions o;
  o.name = "big";
  o.chunk_size = 1 << 20;
  o.cancel = &cancel;
  auto r = import_raw_image(*store_, src, o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::cancelled);
  EXPECT_TRUE(store_->list()->empty());
  EXPECT_TRUE(fs::is_empty(store_->tmp_dir()));
}

// Corruption: each kind of damage is named, verify lists the chunk, export leaves nothing.
class Corruption : public ImageOps {
 protected:
  void SetUp() override {
    ImageOps::SetUp();
    src_ = dir_ / "c.img";
    test::write_at(src_, test::compressible_bytes(4 << 20, 5), 0);
    import(src_, "c");
    m_ = manifest("c");
    ASSERT_EQ(m_.extents.size(), 4u);
    victim_ = m_.extents[2];
    chunk_path_ = store_->chunks().path_for(*victim_.sha256);
  }

  void expect_detected(const std::string& words) {
    auto v = verify_image(*store_, "c", {});
    ASSERT_TRUE(v);
    EXPECT_FALSE(v->ok());
    ASSERT_EQ(v->bad_chunks.size(), 1u);
    EXPECT_EQ(v->bad_chunks[0].offset, victim_.offset);
    EXPECT_EQ(v->bad_chunks[0].sha256, *victim_.sha256);
    EXPECT_NE(v->bad_chunks[0].problem.find(words), std::string::npos) << v->bad_chunks[0].problem;
    const fs::path out = dir_ / "c.out";
    auto e = export_raw_image(*store_, "c", out, {});
    ASSERT_FALSE(e);
    EXPECT_NE(e.error().message.find(digest_hex(*victim_.sha256)), std::string::npos)
        << e.error().message;
    EXPECT_FALSE(fs::exists(out));
    for (const auto& f : fs::directory_iterator(dir_.path())) {
      EXPECT_EQ(f.path().filename().string().find("partial"), std::string::npos) << f.path();
    }
  }

  fs::path src_;
  fs::path chunk_path_;
  Manifest m_;
  Extent victim_;
};

TEST_F(Corruption, FlippedByte) {
  auto bytes = test::read_all(chunk_path_);
  bytes[bytes.size() / 2] ^= std::byte{0x01};
  fs::remove(chunk_path_);
  test::write_at(chunk_path_, bytes, 0);
  auto v = verify_image(*store_, "c", {});
  ASSERT_TRUE(v);
  ASSERT_EQ(v->bad_chunks.size(), 1u);
  // Either zstd notices or the hash does: both name the chunk.
  const auto& p = v->bad_chunks[0].problem;
  EXPECT_TRUE(p.find("does not match its hash") != std::string::npos ||
              p.find("zstd") != std::string::npos)
      << p;
  expect_detected(digest_hex(*victim_.sha256));
}

TEST_F(Corruption, TruncatedChunk) {
  fs::resize_file(chunk_path_, fs::file_size(chunk_path_) / 2);
  expect_detected("truncated");
}

TEST_F(Corruption, DeletedChunk) {
  fs::remove(chunk_path_);
  expect_detected("missing from the store");
}

TEST_F(Corruption, EditedManifest) {
  auto text = *read_small_file(store_->manifest_path("c"));
  const auto pos = text.find("raw:c.img");
  ASSERT_NE(pos, std::string::npos);
  text.replace(pos, 9, "raw:x.img");
  ASSERT_TRUE(write_file_atomic(store_->manifest_path("c"), as_bytes(text), store_->tmp_dir()));
  auto v = verify_image(*store_, "c", {});
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->ok());
  EXPECT_NE(v->signature_problem.find("does not match its content"), std::string::npos);
  auto e = export_raw_image(*store_, "c", dir_ / "c.out", {});
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, Errc::bad_signature);
  EXPECT_FALSE(fs::exists(dir_ / "c.out"));
}

TEST_F(Corruption, ManifestSignedByAnotherKey) {
  auto other = KeyPair::generate();
  ASSERT_TRUE(write_file_atomic(store_->manifest_path("c"), as_bytes(sign_manifest(m_, other)),
                                store_->tmp_dir()));
  auto v = verify_image(*store_, "c", {});
  ASSERT_TRUE(v);
  EXPECT_NE(v->signature_problem.find(key_id(other.public_key())), std::string::npos)
      << v->signature_problem;
  EXPECT_EQ(export_raw_image(*store_, "c", dir_ / "c.out", {}).error().code, Errc::bad_signature);
  // ...and it verifies when the operator explicitly trusts that key.
  VerifyOptions vo;
  vo.trusted = other.public_key();
  EXPECT_TRUE(verify_image(*store_, "c", vo)->ok());
}

TEST_F(ImageOps, ExportRefusesToOverwriteUnlessForced) {
  const auto src = dir_ / "a.img";
  test::write_at(src, test::random_bytes(100000, 1), 0);
  import(src, "a");
  std::ofstream(dir_ / "existing") << "keep me";
  auto e = export_raw_image(*store_, "a", dir_ / "existing", {});
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, Errc::already_exists);
  EXPECT_EQ(test::read_all(dir_ / "existing").size(), 7u);
  ExportOptions o;
  o.overwrite = true;
  ASSERT_TRUE(export_raw_image(*store_, "a", dir_ / "existing", o));
  EXPECT_TRUE(test::same_contents(src, dir_ / "existing"));
  EXPECT_EQ(export_raw_image(*store_, "nope", dir_ / "x", {}).error().code, Errc::not_found);
}

TEST_F(ImageOps, ConcurrentImportsSharingChunks) {
  const auto shared = test::random_bytes(4 << 20, 42);
  for (int i = 0; i < 4; ++i) {
    const auto p = dir_ / ("s" + std::to_string(i) + ".img");
    test::write_at(p, shared, 0);
    test::write_at(p, test::random_bytes(1 << 20, 100 + i), 4 << 20);
  }
  std::vector<std::jthread> threads;
  threads.reserve(4);
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      auto s = ImageStore::open(dir_ / "store", false);  // as separate processes would
      if (!s) return;
      ImportOptions o;
      o.name = "s" + std::to_string(i);
      o.chunk_size = 1 << 20;
      o.content_defined = false;  // the count below is that of fixed chunks
      o.threads = 2;
      if (import_raw_image(**s, dir_ / (o.name + ".img"), o)) ++ok;
    });
  }
  threads.clear();
  EXPECT_EQ(ok.load(), 4);
  auto check = check_store_chunks(*store_, 0, {});
  ASSERT_TRUE(check);
  EXPECT_EQ(check->chunk_files, 8u);  // 4 shared + one own chunk per image
  EXPECT_TRUE(check->bad.empty());
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(verify_image(*store_, "s" + std::to_string(i), {})->ok());
}

TEST_F(ImageOps, ProgressIsReportedToTheEnd) {
  const auto src = dir_ / "p.img";
  test::write_at(src, test::random_bytes(3 << 20, 1), 0);
  std::uint64_t last_done = 0;
  std::uint64_t last_total = 0;
  ImportOptions o;
  o.name = "p";
  o.chunk_size = 1 << 20;
  o.progress = [&](std::uint64_t d, std::uint64_t t) {
    EXPECT_GE(d, last_done);
    last_done = d;
    last_total = t;
  };
  ASSERT_TRUE(import_raw_image(*store_, src, o));
  EXPECT_EQ(last_done, 3u << 20);
  EXPECT_EQ(last_total, 3u << 20);
}

// ---- Content-defined chunks (content_cuts.hpp)

std::vector<std::uint64_t> cut_lengths(const std::vector<std::byte>& disk, std::size_t step) {
  ContentCutter cutter(ContentCutSizes::for_chunk_size(1 << 20));
  std::vector<std::uint64_t> out;
  std::size_t pos = 0;
  std::size_t shown = 0;
  while (pos < disk.size()) {
    shown = std::min(disk.size(), std::max(shown, pos) + step);
    auto piece = cutter.next({disk.data() + pos, shown - pos}, shown == disk.size());
    if (!piece) continue;
    EXPECT_FALSE(piece->hole);
    out.push_back(piece->length);
    pos += piece->length;
  }
  return out;
}

TEST(ContentCutter, PiecesAreWholeBlocksFromTheMinimumToTheMaximumWhateverTheReadSteps) {
  const auto sizes = ContentCutSizes::for_chunk_size(1 << 20);
  const auto disk = test::random_bytes((16 << 20) + 1000, 3);
  const auto cuts = cut_lengths(disk, disk.size());
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < cuts.size(); ++i) {
    total += cuts[i];
    EXPECT_LE(cuts[i], sizes.max_chunk);
    if (i + 1 < cuts.size()) {
      EXPECT_EQ(cuts[i] % kCutBlock, 0u);
      EXPECT_GE(cuts[i], sizes.min_chunk);
    }
  }
  EXPECT_EQ(total, disk.size());
  // Cut by the content (about every 512 KiB past the 64 KiB minimum), not at the maximum.
  EXPECT_GT(cuts.size(), 20u);
  EXPECT_LT(cuts.size(), 60u);
  // Shown the bytes a little at a time, it cuts at the same places.
  EXPECT_EQ(cut_lengths(disk, 100000), cuts);
  EXPECT_EQ(cut_lengths(disk, kCutBlock), cuts);
}

TEST(ContentCutter, DirectoryBlocksArePiecesOfTheirOwn) {
  auto disk = test::random_bytes(96 * kCutBlock, 4);
  const unsigned char tail[8] = {0, 0, 0, 0, 12, 0, 0, 0xde};
  for (std::size_t b = 40; b < 43; ++b) std::memcpy(&disk[(b + 1) * kCutBlock - 12], tail, 8);
  std::vector<std::uint64_t> starts;
  std::uint64_t pos = 0;
  for (auto len : cut_lengths(disk, disk.size())) {
    starts.push_back(pos);
    pos += len;
  }
  const auto at = [&](std::uint64_t off) {
    return std::find(starts.begin(), starts.end(), off) != starts.end();
  };
  EXPECT_TRUE(at(40 * kCutBlock));  // the three directory blocks: one piece
  EXPECT_FALSE(at(41 * kCutBlock));
  EXPECT_TRUE(at(43 * kCutBlock));
}

TEST_F(ImageOps, ContentDefinedChunksAreFoundAgainAfterBlocksAreInserted) {
  // A disk, and the same disk with three blocks more near its start: a filesystem rebuilt with
  // one file more has its other files again, shifted by whole blocks.
  const auto base = test::random_bytes(24 << 20, 11);
  const auto more = test::random_bytes(3 * kCutBlock, 12);
  const auto a = dir_ / "a.img";
  const auto b = dir_ / "b.img";
  test::write_at(a, base, 0);
  test::write_at(b, std::span(base).first(1 << 20), 0);
  test::write_at(b, more, 1 << 20);
  test::write_at(b, std::span(base).subspan(1 << 20), (1 << 20) + more.size());

  import(a, "a", 1 << 20, true);
  const auto again = import(b, "b", 1 << 20, true);
  const auto chunks = again.manifest.data_chunk_count();
  EXPECT_EQ(again.manifest.format_version, kContentDefinedFormatVersion);
  EXPECT_GT(chunks, 30u);
  EXPECT_LE(again.chunks_new, 2u) << "of " << chunks;  // the chunk with the new blocks
  expect_round_trip(b, "b2", 1 << 20, true);

  // Fixed chunks find only the one before the change.
  import(a, "fixed-a", 1 << 20, false);
  const auto fixed = import(b, "fixed-b", 1 << 20, false);
  EXPECT_LE(fixed.chunks_reused, 1u);
}

TEST_F(ImageOps, ContentDefinedChunksSkipLongZeroRunsAndKeepShortOnes) {
  const auto src = dir_ / "z.img";
  test::write_at(src, test::random_bytes(2 << 20, 1), 0);
  test::write_at(src, std::vector<std::byte>(600 << 10), 2 << 20);  // a hole (over 256 KiB)
  test::write_at(src, test::random_bytes(1 << 20, 2), (2 << 20) + (600 << 10));
  test::write_at(src, std::vector<std::byte>(100 << 10), (3 << 20) + (600 << 10));  // data
  test::write_at(src, test::random_bytes((1 << 20) + 100, 3), (3 << 20) + (700 << 10));
  const auto r = import(src, "z", 1 << 20, true);
  EXPECT_EQ(r.bytes_read, fs::file_size(src));  // no SEEK_DATA hole: every byte was read
  std::vector<Extent> holes;
  for (const auto& e : r.manifest.extents) {
    if (e.is_hole()) holes.push_back(e);
  }
  ASSERT_EQ(holes.size(), 1u);
  EXPECT_EQ(holes[0].offset, 2u << 20);
  EXPECT_EQ(holes[0].length, 600u << 10);
  expect_round_trip(src, "z2", 1 << 20, true);
}

TEST_F(ImageOps, ContentDefinedChunksDoNotReadASparseFilesHoles) {
  const auto src = dir_ / "sparse.img";
  test::make_sparse(src, 64u << 20);
  test::write_at(src, test::random_bytes(300000, 1), 0);
  test::write_at(src, test::random_bytes(5000, 2), (17u << 20) + 777);
  test::write_at(src, test::random_bytes(512, 4), (64u << 20) - 512);
  const auto r = import(src, "sparse", 1 << 20, true);
  EXPECT_LT(r.bytes_read, 4u << 20);
  EXPECT_EQ(r.manifest.data_bytes % kCutBlock, 0u);
  expect_round_trip(src, "sparse2", 1 << 20, true);
}

}  // namespace
}  // namespace revive
