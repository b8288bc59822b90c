// wipe_drive on a SATA drive against a fake ATA drive (a file named like a disk, with ATA
// commands answered by a model of the ACS security state machine and SANITIZE): QEMU's AHCI
// drives have neither feature set, so this is where the erase sequences are exercised —
// password always removed again, frozen drives unfrozen by one suspend/resume, hidden areas
// (HPA/DCO) reported and a drive whose hidden sectors the method misses flagged.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "ata_identify.hpp"
#include "revive/agent/wipe_drive.hpp"
#include "temp_dir.hpp"
#include "test_files.hpp"

using namespace revive::agent;
using revive::Errc;
using revive::make_error;
using revive::Result;
using revive::agent::sanitize::AtaCommand;
using revive::agent::sanitize::AtaRegisters;

namespace {

struct FakeSata {
  std::filesystem::path file;
  std::string serial = "SATA0001";
  bool rotational = false;
  bool sanitize_block = false, sanitize_crypto = false;
  bool security = true, enhanced = false;
  bool frozen = false;
  bool refreeze_on_resume = false;
  bool sanitize_frozen = false;
  bool fail_erase = false;    // ERASE UNIT aborts and leaves the password set
  bool fail_disable = false;  // DISABLE PASSWORD aborts too
  bool lie = false;           // report success, erase nothing
  bool refuse_all = false;    // a SCSI disk: the translator has no ATA PASS-THROUGH
  std::uint64_t hpa_hidden = 0, dco_hidden = 0;
  bool hpa_feature = true;  // without it READ NATIVE MAX ADDRESS EXT is aborted
  int sanitize_polls = 0;
  // state
  bool enabled = false, locked = false, prepared = false;
  std::string password;
  int polls_left = 0;
  bool sanitize_ok = false;
  std::vector<std::uint8_t> commands;  // every command seen, in order
  int rtcwakes = 0;

  std::uint64_t accessible() const { return std::filesystem::file_size(file) / 512; }
};

std::string password_of(std::span<const std::uint8_t> block) {
  std::string p(reinterpret_cast<const char*>(block.data() + 2), 32);
  return p.substr(0, p.find('\0'));
}

class FakeAta final : public AtaPassThrough {
 public:
  explicit FakeAta(FakeSata& d) : d_(d) {}

  Result<AtaRegisters> command(const AtaCommand& c, std::span<std::uint8_t> in,
                               std::span<const std::uint8_t> out,
                               std::chrono::milliseconds) override {
    if (d_.refuse_all)
      return make_error(
          Errc::unsupported,
          "the SCSI layer does not pass ATA commands to this drive (ILLEGAL REQUEST)");
    d_.commands.push_back(c.command);
    const auto abort =
        make_error(Errc::unsupported, "the drive aborted it (status 0x51, error 0x04)");
    AtaRegisters r;
    r.status = 0x50;
    switch (c.command) {
      case 0xEC: {
        revive::test::AtaIdentifyBuilder id;
        id.str(10, 10, d_.serial);
        id.str(27, 20, "Revive Fake SATA");
        id.word(59, static_cast<std::uint16_t>(
                        (d_.sanitize_block || d_.sanitize_crypto ? 1u << 12 : 0) |
                        (d_.sanitize_crypto ? 1u << 13 : 0) | (d_.sanitize_block ? 1u << 15 : 0)));
        id.word(82, static_cast<std::uint16_t>((d_.security ? 1u << 1 : 0) |
                                               (d_.hpa_feature ? 1u << 10 : 0)));
        id.word(83, 1u << 11);
        id.sectors48(d_.accessible());
        id.word(128, static_cast<std::uint16_t>((d_.security ? 1 : 0) | (d_.enabled ? 2 : 0) |
                                                (d_.locked ? 4 : 0) | (d_.frozen ? 8 : 0) |
                                                (d_.enhanced ? 0x20 : 0)));
        id.word(89, 1);
        id.word(217, d_.rotational ? 7200 : 1);
        const auto data = id.sealed();
        std::copy(data.begin(), data.end(), in.begin());
        return r;
      }
      case 0x27:
        if (!d_.hpa_feature) return abort;
        r.lba = d_.accessible() + d_.hpa_hidden - 1;
        return r;
      case 0xB1: {
        revive::test::AtaIdentifyBuilder dco;
        dco.word(0, 2);
        const std::uint64_t max = d_.accessible() + d_.hpa_hidden + d_.dco_hidden - 1;
        for (unsigned i = 0; i < 4; ++i)
          dco.word(3 + i, static_cast<std::uint16_t>(max >> (16 * i)));
        const auto data = dco.sealed();
        std::copy(data.begin(), data.end(), in.begin());
        return r;
      }
      case 0xB4:
        if (c.features == 0) {  // SANITIZE STATUS EXT
          r.count = static_cast<std::uint16_t>((d_.polls_left > 0 ? 0x4000
                                                : d_.sanitize_ok  ? 0x8000
                                                                  : 0) |
                                               (d_.sanitize_frozen ? 0x2000 : 0));
          r.lba = d_.polls_left > 0 ? 0x8000 : 0;
          --d_.polls_left;
          return r;
        }
        if (d_.sanitize_frozen) return abort;
        if (!d_.lie) fill(c.features == 0x0011 ? -1 : 0);
        d_.polls_left = d_.sanitize_polls;
        d_.sanitize_ok = true;
        return r;
      case 0xF1:
        if (d_.frozen || d_.locked) return abort;
        d_.password = password_of(out);
        d_.enabled = true;
        return r;
      case 0xF2:
        if (password_of(out) != d_.password) return abort;
        d_.locked = false;
        return r;
      case 0xF3:
        if (d_.frozen) return abort;
        d_.prepared = true;
        return r;
      case 0xF4: {
        const bool was_prepared = std::exchange(d_.prepared, false);
        const bool enhanced = (out[0] & 2) != 0;
        if (!was_prepared || d_.frozen || password_of(out) != d_.password ||
            (enhanced && !d_.enhanced) || d_.fail_erase)
          return abort;
        if (!d_.lie) fill(enhanced ? -1 : 0);
        d_.enabled = false;
        d_.password.clear();
        return r;
      }
      case 0xF6:
        if (d_.frozen || d_.fail_disable || password_of(out) != d_.password) return abort;
        d_.enabled = false;
        d_.password.clear();
        return r;
      default:
        return abort;
    }
  }

 private:
  // 0: zeros; -1: noise (a new key, or an enhanced erase's vendor pattern).
  void fill(int how) {
    const auto size = static_cast<std::size_t>(std::filesystem::file_size(d_.file));
    revive::test::write_at(
        d_.file, how == 0 ? std::vector<std::byte>(size) : revive::test::random_bytes(size, 99), 0);
  }
  FakeSata& d_;
};

// Suspend/resume: powers the drive down, so its security is no longer frozen (unless the
// firmware freezes it again on resume). Any other command (smartctl) is not installed.
class FakeSuspend final : public Exec {
 public:
  explicit FakeSuspend(FakeSata& d) : d_(d) {}
  Result<ExecResult> run(const std::vector<std::string>& argv, int) override {
    if (argv.at(0) != "rtcwake") return make_error(Errc::not_found, argv[0] + ": not installed");
    ++d_.rtcwakes;
    d_.frozen = d_.refreeze_on_resume;
    d_.sanitize_frozen = false;
    return ExecResult{0, "", ""};
  }

 private:
  FakeSata& d_;
};

class AtaWipe : public ::testing::Test {
 protected:
  revive::test::TempDir tmp;
  FakeSata drive;
  std::filesystem::path dev;
  int ata_opened = 0;

  void SetUp() override {
    dev = tmp.path() / "sda";  // named like a SATA disk: the ATA path is taken
    revive::test::write_at(dev, revive::test::random_bytes(8 << 20, 5), 0);  // the donor's data
    drive.file = dev;
  }

  nlohmann::json run(const std::string& serial = "SATA0001",
                     const std::string& transport = "SATA") {
    DriveWipeRequest r;
    r.device = dev;
    r.expected_serial = serial;
    r.inventory_disk = {{"name", "sda"},
                        {"transport", transport},
                        {"rotational", false},
                        {"serial", "SATA0001"},
                        {"model", "from sysfs"}};
    FakeSuspend suspend(drive);
    DriveWipeDeps deps;
    deps.exec = &suspend;
    deps.ata = [this](int, const std::string&) {
      ++ata_opened;
      return std::make_unique<FakeAta>(drive);
    };
    deps.sleep = [](std::chrono::milliseconds) {};
    return wipe_drive(r, deps);
  }

  bool all_zero() { return revive::test::all_zero(dev); }
  int count(std::uint8_t cmd) const {
    return static_cast<int>(std::count(drive.commands.begin(), drive.commands.end(), cmd));
  }
  static std::string str(const nlohmann::json& j) {
    return j.is_string() ? j.get<std::string>() : j.dump();
  }
};

}  // namespace

TEST_F(AtaWipe, SanitizeBlockEraseIsPreferredPolledAndProven) {
  drive.sanitize_block = true;
  drive.sanitize_polls = 3;
  auto ev = run();
  EXPECT_EQ(ev["result"], "passed") << ev.dump(2);
  EXPECT_EQ(ev["method"], "ata-sanitize-block-erase");
  EXPECT_EQ(ev["nist_level"], "Purge");
  EXPECT_EQ(ev["drive"]["identified_by"], "ATA IDENTIFY DEVICE");
  EXPECT_EQ(ev["drive"]["model"], "Revive Fake SATA") << "the drive's own answer, not sysfs";
  EXPECT_EQ(ev["canaries"]["surviving"], 0);
  EXPECT_EQ(count(0xB4), 1 + 4) << "one SANITIZE, then status until no longer in progress";
  EXPECT_EQ(count(0xF1), 0) << "no password when sanitize did it";
  EXPECT_TRUE(all_zero());
}

TEST_F(AtaWipe, ADriveThatReportsSuccessButErasesNothingFails) {
  drive.sanitize_crypto = true;
  drive.lie = true;
  auto ev = run();
  EXPECT_EQ(ev["result"], "failed") << ev.dump(2);
  EXPECT_EQ(ev["canaries"]["surviving"], 64);
}

TEST_F(AtaWipe, SecurityEraseSetsAndRemovesItsTemporaryPassword) {
  drive.rotational = true;
  drive.enhanced = true;
  auto ev = run();
  EXPECT_EQ(ev["result"], "passed") << ev.dump(2);
  EXPECT_EQ(ev["method"], "ata-enhanced-security-erase");
  EXPECT_EQ(ev["nist_level"], "Purge") << "enhanced erase on a hard disk";
  EXPECT_EQ(ev["drive"]["media"], "hdd");
  EXPECT_TRUE(ev["security_erase"]["password_removed"].get<bool>());
  EXPECT_FALSE(drive.enabled);
  EXPECT_TRUE(drive.password.empty());
  EXPECT_EQ(count(0xF1), 1);
  EXPECT_EQ(count(0xF3), 1);
  EXPECT_EQ(count(0xF4), 1);
  EXPECT_EQ(ev["canaries"]["surviving"], 0);
  EXPECT_EQ(drive.rtcwakes, 0) << "not frozen: no suspend";
}

TEST_F(AtaWipe, AFailedEraseStillRemovesThePasswordAndFallsBack) {
  drive.fail_erase = true;
  auto ev = run();
  ASSERT_GE(ev["attempts"].size(), 1u) << ev.dump(2);
  EXPECT_EQ(ev["attempts"][0]["method"], "ata-security-erase");
  EXPECT_NE(str(ev["attempts"][0]["error"]).find("the temporary password was removed again"),
            std::string::npos)
      << ev["attempts"];
  EXPECT_EQ(count(0xF6), 1) << "DISABLE PASSWORD after the failed erase";
  EXPECT_FALSE(drive.enabled) << "the drive would lock at its next power-on";
  EXPECT_EQ(ev["method"], "overwrite");
  EXPECT_EQ(ev["result"], "passed");
  EXPECT_TRUE(all_zero());
}

TEST_F(AtaWipe, APasswordThatCannotBeRemovedFailsTheDriveAndNamesThePassword) {
  drive.fail_erase = true;
  drive.fail_disable = true;
  auto ev = run();
  EXPECT_EQ(ev["result"], "failed") << ev.dump(2);
  EXPECT_TRUE(drive.enabled);
  const std::string reason = str(ev["reason"]);
  EXPECT_NE(reason.find(drive.password), std::string::npos) << reason;
  EXPECT_NE(reason.find("hdparm --user-master u --security-disable"), std::string::npos) << reason;
  EXPECT_FALSE(ev["security_erase"]["password_removed"].get<bool>());
}

TEST_F(AtaWipe, AFrozenDriveIsUnfrozenByOneSuspendResume) {
  drive.frozen = true;
  auto ev = run();
  EXPECT_EQ(ev["result"], "passed") << ev.dump(2);
  EXPECT_EQ(ev["method"], "ata-security-erase");
  EXPECT_EQ(drive.rtcwakes, 1);
  EXPECT_EQ(ev["unfreeze"]["command"], "rtcwake -m mem -s 5");
  EXPECT_FALSE(ev["unfreeze"]["security_frozen_after"].get<bool>());
  EXPECT_FALSE(drive.enabled);
}

TEST_F(AtaWipe, ADriveFrozenAgainOnResumeIsOverwrittenWithoutAPassword) {
  drive.frozen = true;
  drive.refreeze_on_resume = true;
  drive.enhanced = true;
  auto ev = run();
  EXPECT_EQ(ev["result"], "passed") << ev.dump(2);
  EXPECT_EQ(ev["method"], "overwrite");
  EXPECT_EQ(drive.rtcwakes, 1) << "one cycle per drive, not one per method";
  ASSERT_EQ(ev["attempts"].size(), 2u);
  EXPECT_NE(str(ev["attempts"][0]["error"]).find("still frozen after a suspend/resume cycle"),
            std::string::npos);
  EXPECT_NE(str(ev["attempts"][1]["error"]).find("still frozen"), std::string::npos);
  EXPECT_EQ(count(0xF1), 0) << "no password is ever set on a frozen drive";
}

TEST_F(AtaWipe, ASanitizeFreezeLockIsLiftedBySuspendResume) {
  drive.sanitize_block = true;
  drive.security = false;
  drive.sanitize_frozen = true;
  auto ev = run();
  EXPECT_EQ(ev["result"], "passed") << ev.dump(2);
  EXPECT_EQ(ev["method"], "ata-sanitize-block-erase");
  EXPECT_EQ(drive.rtcwakes, 1);
}

TEST_F(AtaWipe, SectorsBehindAnHpaFlagAnOverwrite) {
  drive.security = false;
  drive.hpa_hidden = 2048;
  auto ev = run();
  EXPECT_EQ(ev["method"], "overwrite");
  EXPECT_EQ(ev["result"], "failed") << ev.dump(2);
  EXPECT_NE(str(ev["reason"]).find("flagged: 2048 sectors behind a Host Protected Area"),
            std::string::npos)
      << ev["reason"];
  EXPECT_NE(str(ev["hpa_dco"]).find("HPA: hides 2048 sectors"), std::string::npos) << ev["hpa_dco"];
  EXPECT_EQ(ev["hidden_area"]["hpa_hidden_sectors"], 2048);
  EXPECT_FALSE(ev["hidden_area"]["included"].get<bool>());
}

TEST_F(AtaWipe, AnHpaIsReachedByASecurityEraseButADcoIsNot) {
  drive.hpa_hidden = 2048;
  auto ev = run();
  EXPECT_EQ(ev["result"], "passed") << ev.dump(2);
  EXPECT_TRUE(ev["hidden_area"]["included"].get<bool>());

  SetUp();
  drive = FakeSata{};
  drive.file = dev;
  drive.dco_hidden = 4096;
  ev = run();
  EXPECT_EQ(ev["method"], "ata-security-erase");
  EXPECT_EQ(ev["result"], "failed") << ev.dump(2);
  EXPECT_NE(str(ev["reason"]).find("4096 sectors behind a Device Configuration Overlay"),
            std::string::npos)
      << ev["reason"];
  EXPECT_NE(str(ev["hpa_dco"]).find("HPA: none"), std::string::npos) << ev["hpa_dco"];
}

TEST_F(AtaWipe, NoHiddenAreaIsReportedAsNone) {
  drive.security = false;
  auto ev = run();
  EXPECT_EQ(ev["result"], "passed") << ev.dump(2);
  EXPECT_NE(str(ev["hpa_dco"]).find("HPA: none"), std::string::npos) << ev["hpa_dco"];
  EXPECT_NE(str(ev["hpa_dco"]).find("DCO: none"), std::string::npos) << ev["hpa_dco"];

  SetUp();
  drive = FakeSata{};
  drive.file = dev;
  drive.security = false;
  drive.hpa_feature = false;
  ev = run();
  EXPECT_EQ(ev["result"], "passed") << ev.dump(2);
  EXPECT_NE(str(ev["hpa_dco"]).find("HPA: none (the drive has no HPA feature set)"),
            std::string::npos)
      << ev["hpa_dco"];
  EXPECT_EQ(count(0x27) + count(0x78), 2) << "asked anyway; both commands aborted";
}

TEST_F(AtaWipe, TheSerialTheDriveReportsMustBeTheOneTheJobNames) {
  drive.serial = "SWAPPED9";
  drive.sanitize_block = true;
  const auto before = std::filesystem::last_write_time(dev);
  auto ev = run("SATA0001");
  EXPECT_EQ(ev["result"], "failed");
  EXPECT_NE(str(ev["reason"]).find("serial \"SWAPPED9\""), std::string::npos) << ev["reason"];
  EXPECT_NE(str(ev["reason"]).find("nothing was written"), std::string::npos);
  EXPECT_EQ(count(0xB4), 0);
  EXPECT_EQ(std::filesystem::last_write_time(dev), before);
}

TEST_F(AtaWipe, ADiskWithoutAtaPassThroughIsOverwritten) {
  drive.refuse_all = true;
  auto ev = run();
  EXPECT_EQ(ev["result"], "passed") << ev.dump(2);
  EXPECT_EQ(ev["method"], "overwrite");
  EXPECT_EQ(ev["attempts"][0]["method"], "ata-identify");
  EXPECT_EQ(ev["drive"]["serial"], "SATA0001") << "the serial the system reported";
  EXPECT_NE(str(ev["hpa_dco"]).find("not checked (ATA commands do not reach this drive"),
            std::string::npos);
}

TEST_F(AtaWipe, NoAtaCommandGoesThroughAUsbBridge) {
  drive.sanitize_block = true;
  auto ev = run("SATA0001", "USB");
  EXPECT_EQ(ev["result"], "passed") << ev.dump(2);
  EXPECT_EQ(ev["method"], "overwrite");
  EXPECT_EQ(ata_opened, 0);
  EXPECT_TRUE(drive.commands.empty());
  EXPECT_EQ(ev["hpa_dco"], "not checked (ATA commands are never sent through a USB bridge)");
}
