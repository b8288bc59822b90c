#include "revive/agent/wipe.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <utility>

#include "revive/parallel.hpp"
#include "temp_dir.hpp"
#include "test_files.hpp"

namespace revive::agent {
namespace {

using sanitize::AtaIdentity;
using sanitize::NvmeController;

std::vector<WipeMethod> methods(const std::vector<PlannedMethod>& p) {
  std::vector<WipeMethod> m;
  m.reserve(p.size());
  for (const auto& x : p) m.push_back(x.method);
  return m;
}

TEST(WipePlan, NvmeStrongestFirst) {
  NvmeController c;
  c.sanitize_crypto = c.sanitize_block = c.format_supported = c.format_crypto_erase = true;
  auto p = plan_wipe({"nvme", false, c, std::nullopt, std::nullopt});
  EXPECT_EQ(methods(p), (std::vector<WipeMethod>{
                            WipeMethod::nvme_sanitize_crypto, WipeMethod::nvme_sanitize_block,
                            WipeMethod::nvme_format_crypto, WipeMethod::nvme_format_user_data,
                            WipeMethod::overwrite}));
  EXPECT_EQ(p[0].level, NistLevel::purge);
  EXPECT_EQ(p[2].level, NistLevel::purge);
  EXPECT_EQ(p[3].level, NistLevel::clear);
  EXPECT_EQ(p[4].level, NistLevel::clear);
  EXPECT_NE(p[0].why.find("SANICAP"), std::string::npos);
}

TEST(WipePlan, NvmeCapabilityMatrix) {
  NvmeController c;
  EXPECT_EQ(methods(plan_wipe({"nvme", false, c, std::nullopt, std::nullopt})),
            (std::vector<WipeMethod>{WipeMethod::overwrite}));
  c.format_supported = true;  // QEMU's controller: Format NVM, no Sanitize, no crypto
  EXPECT_EQ(methods(plan_wipe({"nvme", false, c, std::nullopt, std::nullopt})),
            (std::vector<WipeMethod>{WipeMethod::nvme_format_user_data, WipeMethod::overwrite}));
  c.format_supported = false;
  c.sanitize_block = true;
  EXPECT_EQ(methods(plan_wipe({"nvme", false, c, std::nullopt, std::nullopt})),
            (std::vector<WipeMethod>{WipeMethod::nvme_sanitize_block, WipeMethod::overwrite}));
  c.format_crypto_erase = true;  // FNA says crypto, but OACS says no Format at all: not planned
  EXPECT_EQ(methods(plan_wipe({"nvme", false, c, std::nullopt, std::nullopt})),
            (std::vector<WipeMethod>{WipeMethod::nvme_sanitize_block, WipeMethod::overwrite}));
}

TEST(WipePlan, SataSsdFrozenAndHddOverwrite) {
  AtaIdentity ssd;
  ssd.rotational = false;
  ssd.sanitize = ssd.sanitize_block = true;
  ssd.sanitize_overwrite = true;  // not planned on flash (wear, no benefit over block erase)
  ssd.security_supported = ssd.enhanced_erase = ssd.security_frozen = true;
  auto p = plan_wipe({"sata", false, std::nullopt, ssd, std::nullopt});
  EXPECT_EQ(methods(p), (std::vector<WipeMethod>{
                            WipeMethod::ata_sanitize_block, WipeMethod::ata_security_erase_enhanced,
                            WipeMethod::ata_security_erase, WipeMethod::overwrite}));
  EXPECT_EQ(p[1].level, NistLevel::clear);
  EXPECT_TRUE(p[1].needs_unfreeze);
  EXPECT_FALSE(p[0].needs_unfreeze);

  AtaIdentity hdd;
  hdd.rotational = true;
  hdd.sanitize = hdd.sanitize_overwrite = true;
  hdd.security_supported = hdd.enhanced_erase = true;
  p = plan_wipe({"sata", true, std::nullopt, hdd, std::nullopt});
  EXPECT_EQ(methods(p),
            (std::vector<WipeMethod>{WipeMethod::ata_sanitize_overwrite,
                                     WipeMethod::ata_security_erase_enhanced,
                                     WipeMethod::ata_security_erase, WipeMethod::overwrite}));
  EXPECT_EQ(p[1].level, NistLevel::purge);

  hdd.security_locked = true;  // a password someone else set: security commands are not planned
  EXPECT_EQ(methods(plan_wipe({"sata", true, std::nullopt, hdd, std::nullopt})),
            (std::vector<WipeMethod>{WipeMethod::ata_sanitize_overwrite, WipeMethod::overwrite}));
}

TEST(WipePlan, NeverThroughUsbBridges) {
  AtaIdentity a;
  a.sanitize = a.sanitize_block = a.security_supported = a.enhanced_erase = true;
  auto p = plan_wipe({"usb", false, std::nullopt, a, std::nullopt});
  ASSERT_EQ(methods(p), (std::vector<WipeMethod>{WipeMethod::overwrite}));
  EXPECT_NE(p[0].why.find("USB"), std::string::npos);
  EXPECT_EQ(methods(plan_wipe({"virtual", false, std::nullopt, std::nullopt, std::nullopt})),
            (std::vector<WipeMethod>{WipeMethod::overwrite}));
}

TEST(WipePlan, EmmcSanitizeThenSecureEraseThenOverwrite) {
  sanitize::MmcExtCsd e;
  e.revision = 8;
  e.sanitize = e.secure_erase = true;
  auto p = plan_wipe({"mmc", false, std::nullopt, std::nullopt, e});
  ASSERT_EQ(methods(p),
            (std::vector<WipeMethod>{WipeMethod::emmc_sanitize, WipeMethod::emmc_secure_erase,
                                     WipeMethod::overwrite}));
  EXPECT_EQ(p[0].level, NistLevel::purge);
  EXPECT_EQ(p[1].level, NistLevel::clear);
  e.sanitize = e.secure_erase = false;  // an eMMC 4.41 part without secure erase
  EXPECT_EQ(methods(plan_wipe({"mmc", false, std::nullopt, std::nullopt, e})),
            (std::vector<WipeMethod>{WipeMethod::overwrite}));
}

TEST(WipePattern, ZerosAndAnAddressablePrngStream) {
  std::vector<std::byte> a(4096), b(1000);
  fill_pattern(a, 0, false, 1);
  EXPECT_EQ(a, std::vector<std::byte>(4096));
  fill_pattern(a, 0, true, 42);
  fill_pattern(b, 13, true, 42);  // any offset, also unaligned, gives the same bytes
  EXPECT_EQ(0, std::memcmp(a.data() + 13, b.data(), b.size()));
  std::vector<std::byte> c(4096);
  fill_pattern(c, 0, true, 43);
  EXPECT_NE(a, c);
  std::size_t zeros = 0;
  for (auto x : a) zeros += x == std::byte{0};
  EXPECT_LT(zeros, 64u);  // looks random, not mostly zeros
}

// A device with injected faults on top of a file.
class FaultyDevice : public BlockDevice {
 public:
  explicit FaultyDevice(std::unique_ptr<BlockDevice> d) : d_(std::move(d)) {}
  std::uint64_t size() const override { return d_->size(); }
  Result<void> write_at(std::uint64_t off, std::span<const std::byte> data) override {
    if (hits(bad_write, off, data.size())) return make_error(Errc::io, "injected write error");
    if (dead_from && off + data.size() > *dead_from)
      return make_error(Errc::io, "injected write error (the drive died)");
    return d_->write_at(off, data);
  }
  Result<void> read_at(std::uint64_t off, std::span<std::byte> out) override {
    if (hits(bad_read, off, out.size())) return make_error(Errc::io, "injected read error");
    REVIVE_TRY(d_->read_at(off, out));
    // A sector that silently kept its old data.
    for (const auto at : stale) {
      if (at >= off && at < off + out.size()) out[at - off] ^= std::byte{0xff};
    }
    return {};
  }
  Result<void> flush() override {
    if (bad_flush) return make_error(Errc::io, "injected flush error");
    return d_->flush();
  }
  Result<void> zero_range(std::uint64_t o, std::uint64_t l) override {
    return d_->zero_range(o, l);
  }

  std::optional<std::uint64_t> bad_write, bad_read;
  std::vector<std::uint64_t> stale;        ///< bytes that silently kept their old data
  std::optional<std::uint64_t> dead_from;  ///< every write reaching past this offset fails
  bool bad_flush = false;

 private:
  static bool hits(const std::optional<std::uint64_t>& at, std::uint64_t off, std::size_t len) {
    return at && *at >= off && *at < off + len;
  }
  std::unique_ptr<BlockDevice> d_;
};

// Records what the wipe does to a device, in order: every write's range, the flushes, and
// whether anything was read back before the writes were flushed.
class RecordingDevice : public BlockDevice {
 public:
  explicit RecordingDevice(std::unique_ptr<BlockDevice> d) : d_(std::move(d)) {}
  std::uint64_t size() const override { return d_->size(); }
  Result<void> write_at(std::uint64_t off, std::span<const std::byte> data) override {
    std::lock_guard lock(mu_);
    writes.emplace_back(off, data.size());
    if (flushes > 0) ++writes_after_flush;
    return d_->write_at(off, data);
  }
  Result<void> read_at(std::uint64_t off, std::span<std::byte> out) override {
    std::lock_guard lock(mu_);
    if (flushes == 0) ++reads_before_flush;
    return d_->read_at(off, out);
  }
  Result<void> flush() override {
    std::lock_guard lock(mu_);
    ++flushes;
    return d_->flush();
  }
  Result<void> zero_range(std::uint64_t o, std::uint64_t l) override {
    return d_->zero_range(o, l);
  }

  std::vector<std::pair<std::uint64_t, std::uint64_t>> writes;  ///< (offset, length)
  unsigned flushes = 0, writes_after_flush = 0, reads_before_flush = 0;

 private:
  std::mutex mu_;
  std::unique_ptr<BlockDevice> d_;
};

class Overwrite : public ::testing::Test {
 protected:
  std::unique_ptr<BlockDevice> disk(std::uint64_t size) {
    path_ = dir_ / "disk";
    test::write_at(path_, std::vector<std::byte>(size, std::byte{0x5a}), 0);  // old data everywhere
    auto d = open_block_device(path_);
    EXPECT_TRUE(d);
    return std::move(*d);
  }
  test::TempDir dir_;
  std::filesystem::path path_;
};

TEST_F(Overwrite, ZerosWrittenEverywhereAndSampledVerificationCoversTenPercent) {
  auto dev = disk(64 << 20);
  OverwriteOptions o;
  o.verify_seed = 7;
  auto r = overwrite_device(*dev, o);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->result, "passed") << r->reason;
  EXPECT_EQ(r->bytes_written, 64u << 20);
  EXPECT_EQ(r->verify.method, "sampled");
  EXPECT_GE(r->verify.samples, 1000u);
  EXPECT_GE(r->verify.coverage, 0.10);
  EXPECT_EQ(r->verify.seed, 7u);
  EXPECT_EQ(test::read_all(path_), std::vector<std::byte>(64 << 20));
}

TEST_F(Overwrite, PrngPatternWithFullVerification) {
  auto dev = disk((8 << 20) + 8192);  // not a multiple of the write block
  OverwriteOptions o;
  o.random_pattern = true;
  o.seed = 99;
  o.full_verify = true;
  auto r = overwrite_device(*dev, o);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->result, "passed") << r->reason;
  EXPECT_EQ(r->verify.method, "full");
  EXPECT_DOUBLE_EQ(r->verify.coverage, 1.0);
  std::vector<std::byte> want((8 << 20) + 8192);
  fill_pattern(want, 0, true, 99);
  EXPECT_EQ(test::read_all(path_), want);
}

TEST_F(Overwrite, AnUnwritableSectorFailsTheWipeNamingItsOffsetAndTheRestIsWritten) {
  FaultyDevice dev(disk(16 << 20));
  dev.bad_write = (5 << 20) + 12345;
  OverwriteOptions o;
  o.full_verify = true;
  auto r = overwrite_device(dev, o);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->result, "failed");
  ASSERT_EQ(r->write_errors.size(), 1u);
  EXPECT_EQ(r->write_errors[0].offset, (5u << 20) + 12288);  // its 4 KiB sector
  EXPECT_EQ(r->write_errors[0].length, 4096u);
  EXPECT_NE(r->reason.find(std::to_string((5 << 20) + 12288)), std::string::npos) << r->reason;
  EXPECT_EQ(r->bytes_written, (16u << 20) - 4096);
  // Everything but that sector is zero now; the sector kept its old data.
  const auto data = test::read_all(path_);
  EXPECT_EQ(data[0], std::byte{0});
  EXPECT_EQ(data[(5 << 20) + 12288], std::byte{0x5a});
  EXPECT_EQ(data[(5 << 20) + 16384], std::byte{0});
  EXPECT_EQ(r->verify.mismatch_count, 1u);  // verification sees it too
}

TEST_F(Overwrite, AReadErrorOrStaleDataDuringVerificationFailsIt) {
  {
    FaultyDevice dev(disk(8 << 20));
    dev.bad_read = 3 << 20;
    OverwriteOptions o;
    o.full_verify = true;
    auto r = overwrite_device(dev, o);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->result, "failed");
    ASSERT_EQ(r->verify.read_errors.size(), 1u);
    EXPECT_EQ(r->verify.read_errors[0].offset, 3u << 20);
    EXPECT_NE(r->reason.find("unreadable"), std::string::npos);
  }
  FaultyDevice dev(disk(8 << 20));
  dev.stale = {(7 << 20) + 1};
  OverwriteOptions o;
  o.full_verify = true;
  auto r = overwrite_device(dev, o);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result, "failed");
  EXPECT_EQ(r->verify.mismatch_count, 1u);
  EXPECT_EQ(r->verify.mismatches[0], 4u << 20);  // the 4 MiB block that holds it
}

TEST_F(Overwrite, EveryByteIsWrittenOnceAndFlushedBeforeItIsReadBack) {
  const std::uint64_t size = (8 << 20) + 12288;  // not a multiple of any write size below
  struct Shape {
    unsigned writers;
    std::size_t block;
    bool random;
  };
  for (const Shape shape : {Shape{1, 12288, false}, Shape{4, 64 << 10, true},
                            Shape{8, 1 << 20, false}, Shape{3, 4 << 20, true}}) {
    SCOPED_TRACE(std::to_string(shape.writers) + " writers of " + std::to_string(shape.block));
    RecordingDevice dev(disk(size));
    OverwriteOptions o;
    o.writers = shape.writers;
    o.block = shape.block;
    o.random_pattern = shape.random;
    o.seed = 5;
    o.full_verify = true;
    auto r = overwrite_device(dev, o);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->result, "passed") << r->reason;
    EXPECT_EQ(r->bytes_written, size);
    std::sort(dev.writes.begin(), dev.writes.end());
    std::uint64_t end = 0;  // the writes tile the device: no gap, no overlap, nothing past it
    for (const auto& [off, len] : dev.writes) {
      ASSERT_EQ(off, end);
      end += len;
    }
    EXPECT_EQ(end, size);
    EXPECT_EQ(dev.flushes, 1u);
    EXPECT_EQ(dev.writes_after_flush, 0u);
    EXPECT_EQ(dev.reads_before_flush, 0u);
    std::vector<std::byte> want(size);
    fill_pattern(want, 0, shape.random, 5);
    EXPECT_EQ(test::read_all(path_), want);
  }
}

TEST_F(Overwrite, AFailedFlushFailsTheWipe) {
  FaultyDevice dev(disk(8 << 20));
  dev.bad_flush = true;
  auto r = overwrite_device(dev, OverwriteOptions{});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->result, "failed");
  EXPECT_NE(r->reason.find("flush: injected flush error"), std::string::npos) << r->reason;
}

TEST_F(Overwrite, ADriveThatDiesMidWipeFailsClosedAndSaysSo) {
  FaultyDevice dev(disk(32 << 20));
  dev.dead_from = 9 << 20;
  OverwriteOptions o;
  o.max_bad_ranges = 16;
  auto r = overwrite_device(dev, o);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->result, "failed");
  EXPECT_NE(r->reason.find("the drive is failing"), std::string::npos) << r->reason;
  ASSERT_FALSE(r->write_errors.empty());
  EXPECT_EQ(r->write_errors.front().offset, 9u << 20);  // the first sector it refused
  EXPECT_LT(r->bytes_written, 32u << 20);
  const auto data = test::read_all(path_);
  EXPECT_EQ(data[(9 << 20) - 1], std::byte{0});  // written up to where it died
  EXPECT_EQ(data[9 << 20], std::byte{0x5a});
}

TEST_F(Overwrite, RefusesAWriteSizeDirectIoCannotTake) {
  auto dev = disk(1 << 20);
  OverwriteOptions o;
  o.block = 1000;
  auto r = overwrite_device(*dev, o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::invalid_input);
  o.block = 4096;
  o.writers = 0;
  r = overwrite_device(*dev, o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::invalid_input);
  EXPECT_EQ(test::read_all(path_), std::vector<std::byte>(1 << 20, std::byte{0x5a}));
}

TEST_F(Overwrite, ReadersInParallelReportWhatOneReaderWouldInDeviceOrder) {
  FaultyDevice dev(disk(64 << 20));
  OverwriteOptions o;
  o.verify_seed = 11;
  o.readers = 1;
  auto first = overwrite_device(dev, o);
  ASSERT_TRUE(first);
  ASSERT_EQ(first->result, "passed") << first->reason;
  // Stale bytes in the first and last samples (pinned to the device's ends) and maybe in one
  // between; the first sample's second sector unreadable.
  auto samples = [&](unsigned readers) {
    o.readers = readers;
    return verify_device(dev, o, [](std::span<const std::byte> got, std::uint64_t) {
      return detail::all_zero(got);
    });
  };
  const auto clean = samples(1);
  ASSERT_EQ(clean.mismatch_count, 0u);
  ASSERT_GE(clean.samples, 1000u);
  dev.stale = {100, (32u << 20) + 5, (64u << 20) - 1};
  dev.bad_read = 4096;
  const auto one = samples(1);
  ASSERT_GE(one.mismatch_count, 2u);
  ASSERT_EQ(one.read_errors.size(), 1u);
  EXPECT_EQ(one.read_errors[0].offset, 4096u);
  for (const unsigned readers : {2u, 4u, 16u}) {
    const auto many = samples(readers);
    EXPECT_EQ(many.samples, one.samples);
    EXPECT_EQ(many.bytes_checked, one.bytes_checked);
    EXPECT_EQ(many.mismatches, one.mismatches);
    EXPECT_EQ(many.mismatch_count, one.mismatch_count);
    ASSERT_EQ(many.read_errors.size(), one.read_errors.size());
    for (std::size_t i = 0; i < one.read_errors.size(); ++i)
      EXPECT_EQ(many.read_errors[i].offset, one.read_errors[i].offset);
  }
  EXPECT_TRUE(std::is_sorted(one.mismatches.begin(), one.mismatches.end()));
  EXPECT_EQ(one.mismatches.front(), 0u);  // the first sample starts at 0
}

TEST_F(Overwrite, StopsWhenAskedAndSaysSo) {
  auto dev = disk(16 << 20);
  std::atomic<bool> stop{true};
  OverwriteOptions o;
  o.stop = &stop;
  auto r = overwrite_device(*dev, o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::cancelled);
}

}  // namespace
}  // namespace revive::agent
