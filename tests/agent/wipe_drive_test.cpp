// wipe_drive against a fake NVMe drive (a file named like a namespace, with admin commands
// answered by a model that erases — or lies): method choice and fallback, the serial
// interlock, canaries catching a drive that reports success without erasing.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "revive/agent/wipe_drive.hpp"
#include "temp_dir.hpp"
#include "test_files.hpp"

using namespace revive::agent;
using revive::Errc;
using revive::make_error;
using revive::Result;

namespace {

// What the fake drive does.
struct FakeDrive {
  std::filesystem::path file;
  bool oacs_format = true;
  bool fna_crypto = false;
  bool sanicap_block = false;
  bool reject_format = false;             // Invalid Field in Command
  bool lie = false;                       // report success, erase nothing (FOG's NVMe "wipe")
  int sanitize_polls = 0;                 // how long the sanitize runs
  std::vector<std::uint8_t> formats_ses;  // every Format NVM SES seen
  int sanitizes = 0;
};

class FakeAdmin final : public NvmeAdmin {
 public:
  explicit FakeAdmin(FakeDrive& d) : d_(d) {}
  Result<void> admin(const NvmeAdminCommand& c) override {
    std::fill(c.data.begin(), c.data.end(), 0);
    switch (c.opcode) {
      case 0x06:
        if (c.cdw10 == 1) {  // Identify Controller
          std::memcpy(c.data.data() + 4, "FAKE0001            ", 20);
          std::memcpy(c.data.data() + 24, "Revive Fake NVMe                        ", 40);
          c.data[256] = d_.oacs_format ? 0x02 : 0;
          c.data[524] = d_.fna_crypto ? 0x04 : 0;
          c.data[328] = d_.sanicap_block ? 0x02 : 0;
        } else {  // Identify Namespace: NSZE, FLBAS 0, LBAF0 LBADS 9
          const std::uint64_t blocks = std::filesystem::file_size(d_.file) / 512;
          std::memcpy(c.data.data(), &blocks, 8);
          c.data[128 + 2] = 9;
        }
        return {};
      case 0x80: {
        d_.formats_ses.push_back(static_cast<std::uint8_t>((c.cdw10 >> 9) & 7));
        if (d_.reject_format)
          return make_error(Errc::unsupported,
                            "the controller rejected admin command 0x80 with status 0x2");
        if (!d_.lie) erase();
        return {};
      }
      case 0x84:
        ++d_.sanitizes;
        polls_left_ = d_.sanitize_polls;
        if (!d_.lie) erase();
        return {};
      case 0x02: {                                              // Sanitize Status log
        const std::uint16_t sstat = polls_left_-- > 0 ? 2 : 1;  // in progress, then succeeded
        const std::uint16_t sprog = polls_left_ > 0 ? 0x8000 : 0xffff;
        std::memcpy(c.data.data(), &sprog, 2);
        std::memcpy(c.data.data() + 2, &sstat, 2);
        return {};
      }
      default:
        return make_error(Errc::unsupported, "opcode");
    }
  }
  Result<std::uint32_t> namespace_id() override { return 1u; }

 private:
  void erase() {
    revive::test::write_at(d_.file, std::vector<std::byte>(std::filesystem::file_size(d_.file)), 0);
  }
  FakeDrive& d_;
  int polls_left_ = 0;
};

class WipeDrive : public ::testing::Test {
 protected:
  revive::test::TempDir tmp;
  FakeDrive drive;
  std::filesystem::path dev;
  int sleeps = 0;

  void SetUp() override {
    dev = tmp.path() / "nvme0n1";  // named like a namespace: the NVMe path is taken
    revive::test::write_at(dev, revive::test::random_bytes(24 << 20, 7), 0);  // the donor's data
    drive.file = dev;
  }

  nlohmann::json run(const std::string& serial = "FAKE0001") {
    DriveWipeRequest r;
    r.device = dev;
    r.expected_serial = serial;
    r.inventory_disk = {{"name", "nvme0n1"}, {"transport", "NVMe"}, {"rotational", false}};
    DriveWipeDeps deps;
    deps.nvme_admin = [this](int, const std::string&) {
      return std::make_unique<FakeAdmin>(drive);
    };
    deps.sleep = [this](std::chrono::milliseconds) { ++sleeps; };
    return wipe_drive(r, deps);
  }

  bool all_zero() { return revive::test::all_zero(dev); }
};

}  // namespace

TEST_F(WipeDrive, NvmeFormatUserDataEraseIsVerifiedWithCanaries) {
  auto ev = run();
  EXPECT_EQ(ev["result"], "passed") << ev.dump(2);
  EXPECT_EQ(ev["method"], "nvme-format-user-data-erase");
  EXPECT_EQ(ev["nist_level"], "Clear");
  EXPECT_EQ(drive.formats_ses, std::vector<std::uint8_t>{1});
  EXPECT_EQ(ev["drive"]["serial"], "FAKE0001");
  EXPECT_EQ(ev["canaries"]["placed"], 64);
  EXPECT_EQ(ev["canaries"]["surviving"], 0);
  EXPECT_EQ(ev["verification"]["method"], "full")
      << "24 MiB: 1000 samples would exceed 10%, so all of it is read back";
  EXPECT_EQ(ev["verification"]["coverage_permille"], 1000);
  EXPECT_TRUE(all_zero());
}

TEST_F(WipeDrive, ADriveThatReportsSuccessButErasesNothingFails) {
  drive.lie = true;
  auto ev = run();
  EXPECT_EQ(ev["result"], "failed") << ev.dump(2);
  EXPECT_NE(
      ev["reason"].get<std::string>().find("canaries written before the erase are still there"),
      std::string::npos)
      << ev["reason"];
  EXPECT_EQ(ev["canaries"]["surviving"], 64);
}

TEST_F(WipeDrive, ARejectedFormatFallsBackToAVerifiedOverwrite) {
  drive.reject_format = true;
  auto ev = run();
  EXPECT_EQ(ev["result"], "passed") << ev.dump(2);
  EXPECT_EQ(ev["method"], "overwrite");
  ASSERT_GE(ev["attempts"].size(), 1u);
  EXPECT_EQ(ev["attempts"][0]["method"], "nvme-format-user-data-erase");
  EXPECT_NE(ev["attempts"][0]["error"].get<std::string>().find("rejected"), std::string::npos);
  EXPECT_TRUE(all_zero()) << "the overwrite also removed the canaries";
}

TEST_F(WipeDrive, SanitizeIsPolledToCompletionAndPreferred) {
  drive.sanicap_block = true;
  drive.sanitize_polls = 3;
  auto ev = run();
  EXPECT_EQ(ev["result"], "passed") << ev.dump(2);
  EXPECT_EQ(ev["method"], "nvme-sanitize-block-erase");
  EXPECT_EQ(ev["nist_level"], "Purge");
  EXPECT_EQ(drive.sanitizes, 1);
  EXPECT_EQ(sleeps, 3) << "polled while the drive said it was in progress";
  EXPECT_TRUE(drive.formats_ses.empty());
}

TEST_F(WipeDrive, ADriveTheJobDoesNotNameIsNeverTouched) {
  const auto before = std::filesystem::last_write_time(dev);
  for (const std::string serial : {"OTHER123", ""}) {
    auto ev = run(serial);
    EXPECT_EQ(ev["result"], "failed");
    EXPECT_NE(ev["reason"].get<std::string>().find("nothing was written"), std::string::npos)
        << ev["reason"];
  }
  EXPECT_TRUE(drive.formats_ses.empty());
  EXPECT_EQ(std::filesystem::last_write_time(dev), before);
  EXPECT_FALSE(all_zero());
}

// ---- eMMC: a fake device answering EXT_CSD, discard, secure discard and SANITIZE.
namespace {

struct FakeEmmc {
  std::filesystem::path file;
  unsigned revision = 8;
  bool sanitize = true, secure_erase = true;
  bool no_secure_discard = false;  // the host controller says EOPNOTSUPP
  bool discarded = false;
  std::vector<std::string> calls;
};

class FakeMmc final : public MmcCommands {
 public:
  explicit FakeMmc(FakeEmmc& d) : d_(d) {}
  Result<void> read_ext_csd(std::span<std::uint8_t> out) override {
    d_.calls.emplace_back("ext_csd");
    std::fill(out.begin(), out.end(), 0);
    out[192] = static_cast<std::uint8_t>(d_.revision);
    out[231] = static_cast<std::uint8_t>((d_.sanitize ? 0x40 : 0) | (d_.secure_erase ? 0x01 : 0));
    return {};
  }
  Result<void> discard(std::uint64_t) override {
    d_.calls.emplace_back("discard");
    d_.discarded = true;  // unmapped: the data is still in the flash until a sanitize
    return {};
  }
  Result<void> secure_discard(std::uint64_t bytes) override {
    d_.calls.emplace_back("secure_discard");
    if (d_.no_secure_discard)
      return make_error(Errc::unsupported, "mmcblk0: BLKSECDISCARD: Operation not supported");
    zero(bytes);
    return {};
  }
  Result<void> sanitize(std::chrono::milliseconds) override {
    d_.calls.emplace_back("sanitize");
    if (d_.discarded) zero(std::filesystem::file_size(d_.file));  // purges what was unmapped
    return {};
  }

 private:
  void zero(std::uint64_t bytes) {
    revive::test::write_at(d_.file, std::vector<std::byte>(bytes), 0);
  }
  FakeEmmc& d_;
};

class EmmcWipe : public ::testing::Test {
 protected:
  revive::test::TempDir tmp;
  FakeEmmc emmc;
  std::filesystem::path dev;
  void SetUp() override {
    dev = tmp.path() / "mmcblk0";
    revive::test::write_at(dev, revive::test::random_bytes(8 << 20, 3), 0);  // the donor's data
    emmc.file = dev;
  }
  nlohmann::json run(const MachineRoot* system = nullptr) {
    DriveWipeRequest r;
    r.device = dev;
    r.expected_serial = "0x1234abcd";
    r.inventory_disk = {
        {"name", "mmcblk0"}, {"transport", "eMMC"}, {"serial", "0x1234abcd"}, {"model", "DA4064"}};
    DriveWipeDeps deps;
    deps.system = system;
    deps.mmc = [this](int, const std::string&) { return std::make_unique<FakeMmc>(emmc); };
    return wipe_drive(r, deps);
  }
};

}  // namespace

TEST_F(EmmcWipe, DiscardThenSanitizeIsPurgeAndProven) {
  auto ev = run();
  EXPECT_EQ(ev["result"], "passed") << ev.dump(2);
  EXPECT_EQ(ev["method"], "emmc-sanitize");
  EXPECT_EQ(ev["nist_level"], "Purge");
  EXPECT_EQ(emmc.calls, (std::vector<std::string>{"ext_csd", "discard", "sanitize"}));
  EXPECT_EQ(ev["canaries"]["surviving"], 0);
  EXPECT_EQ(ev["hpa_dco"], "not applicable (eMMC has no HPA/DCO)");
  EXPECT_EQ(ev["drive"]["ext_csd_revision"], 8);
}

TEST_F(EmmcWipe, WithoutSanitizeAnUnsupportedSecureEraseFallsBackToOverwrite) {
  emmc.revision = 5;  // eMMC 4.41: no SANITIZE
  emmc.no_secure_discard = true;
  auto ev = run();
  EXPECT_EQ(ev["result"], "passed") << ev.dump(2);
  EXPECT_EQ(ev["method"], "overwrite");
  ASSERT_EQ(ev["attempts"].size(), 1u);
  EXPECT_EQ(ev["attempts"][0]["method"], "emmc-secure-erase");
  EXPECT_NE(ev["attempts"][0]["error"].get<std::string>().find("Operation not supported"),
            std::string::npos);
}

TEST_F(EmmcWipe, AnSdCardInTheReaderGetsNoEmmcCommands) {
  const auto root = tmp.path() / "root";
  std::filesystem::create_directories(root / "sys/block/mmcblk0/device");
  std::ofstream(root / "sys/block/mmcblk0/device/type") << "SD\n";
  MachineRoot system(root);
  auto ev = run(&system);
  EXPECT_EQ(ev["result"], "passed") << ev.dump(2);
  EXPECT_EQ(ev["method"], "overwrite");
  EXPECT_TRUE(emmc.calls.empty()) << "not even EXT_CSD: CMD8 is SEND_IF_COND to an SD card";
}
