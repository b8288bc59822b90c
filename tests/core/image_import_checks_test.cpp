// What import refuses before storing anything (content, free space), and imports from a
// stream (the path VM disks and Clonezilla directories take).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>

#include "revive/image_ops.hpp"
#include "temp_dir.hpp"
#include "test_files.hpp"

namespace revive {
namespace {

namespace fs = std::filesystem;

class ImportChecks : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = ImageStore::open(dir_ / "store", true);
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
  }

  // An MBR disk of 4 MiB with one partition from 1 MiB, its first sector `first_sector`.
  fs::path mbr_disk(const std::string& name, std::string_view first_sector) {
    fs::path p = dir_ / name;
    std::vector<std::byte> mbr(512);
    mbr[446 + 4] = std::byte{0x83};
    mbr[446 + 9] = std::byte{0x08};   // start sector 2048
    mbr[446 + 13] = std::byte{0x18};  // 6144 sectors
    mbr[510] = std::byte{0x55};
    mbr[511] = std::byte{0xAA};
    test::write_at(p, mbr, 0);
    test::write_at(p, std::as_bytes(std::span(first_sector.data(), first_sector.size())), 1 << 20);
    test::write_at(p, test::random_bytes(1000, 7), (1 << 20) + 4096);
    fs::resize_file(p, 4 << 20);
    return p;
  }

  test::TempDir dir_;
  std::unique_ptr<ImageStore> store_;
};

TEST_F(ImportChecks, RefusesBadInputNamingTheFile) {
  std::ofstream(dir_ / "notes.txt") << "hello\n";  // the 6-byte text file of issue #17
  test::write_at(dir_ / "luks.img", std::as_bytes(std::span("LUKS\xba\xbe\0\x02", 8)), 0);
  fs::resize_file(dir_ / "luks.img", 1 << 20);
  const fs::path luks_part = mbr_disk("luks-part.img", "LUKS\xba\xbe");
  const fs::path bitlocker_part = mbr_disk("bitlocker-part.img", "\xeb\x58\x90-FVE-FS-");
  struct Case {
    fs::path path;
    const char* words;
  } cases[] = {
      {dir_ / "notes.txt", "no partition table (MBR/GPT), no filesystem signature"},
      {dir_ / "luks.img", "is a LUKS encrypted volume"},
      {luks_part, "partition 1 (at byte 1048576) is a LUKS encrypted volume"},
      {bitlocker_part, "partition 1 (at byte 1048576) is a BitLocker encrypted volume"},
  };
  for (const auto& c : cases) {
    ImportOptions o;
    o.name = "x";
    o.chunk_size = 64 << 10;
    o.replace = true;
    auto r = import_raw_image(*store_, c.path, o);
    ASSERT_FALSE(r) << c.path;
    EXPECT_EQ(r.error().code, Errc::invalid_input) << r.error().message;
    EXPECT_NE(r.error().message.find(c.path.string()), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find(c.words), std::string::npos) << r.error().message;
    // --raw takes the bytes as they are.
    o.raw = true;
    EXPECT_TRUE(import_raw_image(*store_, c.path, o)) << c.path;
  }
  ImportOptions plain;
  plain.name = "plain";
  EXPECT_TRUE(import_raw_image(*store_, mbr_disk("plain.img", "\x53\xef"), plain));
}

TEST_F(ImportChecks, RefusesMoreDataThanTheStoreHasRoomFor) {
  const fs::path src = dir_ / "disk.img";
  test::write_at(src, test::random_bytes(3 << 20, 1), 0);
  ImportOptions o;
  o.name = "big";
  o.raw = true;
  fs::path asked;
  o.free_space = [&](const fs::path& p) -> Result<std::uint64_t> {
    asked = p;
    return std::uint64_t{2 << 20};
  };
  auto r = import_raw_image(*store_, src, o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::no_space);
  EXPECT_EQ(asked, store_->root());
  const std::string& m = r.error().message;
  EXPECT_NE(m.find(src.string()), std::string::npos) << m;
  EXPECT_NE(m.find("(3145728 bytes)"), std::string::npos) << m;
  EXPECT_NE(m.find("(2097152 bytes) free"), std::string::npos) << m;
  for (const auto& f : fs::recursive_directory_iterator(store_->root() / "chunks")) {
    EXPECT_FALSE(f.is_regular_file()) << "refused after writing " << f.path();
  }
  // A sparse file needs only its data: 1 MiB of data in 64 MiB fits in 2 MiB.
  const fs::path sparse = dir_ / "sparse.img";
  test::make_sparse(sparse, 64 << 20);
  test::write_at(sparse, test::random_bytes(1 << 20, 2), 8 << 20);
  o.name = "sparse";
  EXPECT_TRUE(import_raw_image(*store_, sparse, o));
  o.name = "big";
  o.check_free_space = false;
  EXPECT_TRUE(import_raw_image(*store_, src, o));
}

/// A converter's output as the importer sees it: reads of uneven sizes, then a verdict.
class FakeStream : public DiskStream {
 public:
  explicit FakeStream(std::vector<std::byte> bytes) : bytes_(std::move(bytes)) {}
  Result<std::size_t> read(std::span<std::byte> out) override {
    if (pos_ >= fail_at_) return make_error(Errc::io, "the converter's pipe broke");
    const std::size_t n =
        std::min({out.size(), bytes_.size() - pos_, fail_at_ - pos_, std::size_t{40000}});
    std::copy_n(bytes_.data() + pos_, n, out.data());
    pos_ += n;
    return n;
  }
  Result<void> finish() override {
    finished_ = true;
    return verdict_;
  }
  Result<void> verdict_;
  bool finished_ = false;
  std::size_t fail_at_ = SIZE_MAX;  ///< reads from here on fail

 private:
  std::vector<std::byte> bytes_;
  std::size_t pos_ = 0;
};

TEST_F(ImportChecks, StreamImportExportsBitIdentical) {
  const fs::path disk = mbr_disk("stream.img", "\x53\xef");
  test::write_at(disk, test::random_bytes(700000, 3), 2 << 20);
  const auto bytes = test::read_all(disk);
  FakeStream stream(bytes);
  ImportOptions o;
  o.name = "streamed";
  o.chunk_size = 64 << 10;
  o.threads = 3;
  StreamSource src{"vm.qcow2", "qcow2:vm.qcow2", bytes.size(), bytes.size()};
  auto r = import_image_stream(*store_, stream, src, o);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(stream.finished_);
  EXPECT_EQ(r->manifest.source, "qcow2:vm.qcow2");
  EXPECT_EQ(r->manifest.partitions.scheme, "mbr");
  EXPECT_LT(r->manifest.data_bytes, bytes.size());  // the zeros became holes
  ASSERT_TRUE(export_raw_image(*store_, "streamed", dir_ / "out.img", {}));
  EXPECT_EQ(test::read_all(dir_ / "out.img"), bytes);
}

TEST_F(ImportChecks, StreamOfTheWrongLengthOrFailedConverterPublishesNothing) {
  const auto bytes = test::read_all(mbr_disk("s.img", "\x53\xef"));
  ImportOptions o;
  o.name = "s";
  o.chunk_size = 64 << 10;
  struct Case {
    std::uint64_t claimed;
    Result<void> verdict;
    const char* words;
  } cases[] = {
      {bytes.size() + 512, {}, "ended after 4194304 of 4194816 bytes"},
      {bytes.size() - 512, {}, "longer than the 4193792 bytes expected"},
      {bytes.size(), make_error(Errc::io, "`qemu-img` exited with status 1"), "status 1"},
  };
  for (auto& c : cases) {
    FakeStream stream(bytes);
    stream.verdict_ = c.verdict;
    StreamSource src{"vm.vdi", "vdi:vm.vdi", c.claimed, 0};
    auto r = import_image_stream(*store_, stream, src, o);
    ASSERT_FALSE(r) << c.words;
    EXPECT_NE(r.error().message.find(c.words), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("vm.vdi"), std::string::npos) << r.error().message;
    EXPECT_FALSE(fs::exists(store_->manifest_path("s")));
  }
}

TEST_F(ImportChecks, FailureWhileChunksAreFlushedLeavesNoTempFileAndNoImage) {
  // Workers write chunks to temp files; other threads make them durable and visible. A failure
  // with chunks in between discards those, and every chunk that did reach its name is whole.
  const auto bytes = test::compressible_bytes(8 << 20, 4);
  FakeStream stream(bytes);
  stream.fail_at_ = 6 << 20;
  ImportOptions o;
  o.name = "cut";
  o.chunk_size = 64 << 10;
  o.threads = 4;
  o.raw = true;
  StreamSource src{"vm.vdi", "vdi:vm.vdi", bytes.size(), bytes.size()};
  auto r = import_image_stream(*store_, stream, src, o);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("pipe broke"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("no image was published"), std::string::npos);
  EXPECT_FALSE(fs::exists(store_->manifest_path("cut")));
  EXPECT_TRUE(fs::is_empty(store_->tmp_dir()));
  auto check = check_store_chunks(*store_, 0, {});
  ASSERT_TRUE(check) << check.error().message;
  EXPECT_GT(check->chunk_files, 0u);
  EXPECT_TRUE(check->bad.empty());
  EXPECT_TRUE(check->stray_files.empty());
}

}  // namespace
}  // namespace revive
