#include "revive/agent/sanitize.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "ata_identify.hpp"

namespace revive::agent::sanitize {
namespace {

using Cdb = std::array<std::uint8_t, 16>;

// NVM Express Base 2.0, Figure "Format NVM - Command Dword 10": LBAF 3:0, MSET 4, PI 7:5,
// PIL 8, SES 11:9, LBAF upper 13:12.
TEST(NvmeCommands, FormatNvmCdw10) {
  EXPECT_EQ(nvme_format_cdw10(0, 2), 0x00000400u);  // cryptographic erase
  EXPECT_EQ(nvme_format_cdw10(0, 1), 0x00000200u);  // user data erase
  EXPECT_EQ(nvme_format_cdw10(0, 0), 0x00000000u);
  EXPECT_EQ(nvme_format_cdw10(1, 1, 1, true, true), 0x00000331u);
  EXPECT_EQ(nvme_format_cdw10(17, 2), 0x00001401u);  // format index 17: 1 low + 1 in bits 13:12
}

// "Sanitize - Command Dword 10": SANACT 2:0, AUSE 3, OWPASS 7:4, OIPBP 8, NDAS 9.
TEST(NvmeCommands, SanitizeCdw10) {
  EXPECT_EQ(nvme_sanitize_cdw10(NvmeSanitizeAction::block_erase), 0x2u);
  EXPECT_EQ(nvme_sanitize_cdw10(NvmeSanitizeAction::crypto_erase), 0x4u);
  EXPECT_EQ(nvme_sanitize_cdw10(NvmeSanitizeAction::exit_failure), 0x1u);
  EXPECT_EQ(nvme_sanitize_cdw10(NvmeSanitizeAction::overwrite, true, 1, true, true), 0x31Bu);
  EXPECT_EQ(nvme_sanitize_cdw10(NvmeSanitizeAction::overwrite, false, 16),
            0x3u);  // 16 passes encode as 0
}

TEST(NvmeCommands, GetLogPageCdw10ForTheSanitizeStatusLog) {
  EXPECT_EQ(nvme_get_log_cdw10(kNvmeLogSanitizeStatus, 512),
            0x007F0081u);  // NUMDL = 127 (0's based)
  EXPECT_EQ(kNvmeOpSanitize, 0x84);
  EXPECT_EQ(kNvmeOpFormatNvm, 0x80);
}

std::vector<std::uint8_t> identify_controller() {
  std::vector<std::uint8_t> d(4096);
  d[0] = 0x36;  // VID 1b36 (QEMU)
  d[1] = 0x1b;
  const std::string sn = "deadbeef            ", mn = "QEMU NVMe Ctrl                          ";
  std::copy(sn.begin(), sn.end(), d.begin() + 4);
  std::copy(mn.begin(), mn.end(), d.begin() + 24);
  std::copy_n("8.0.2   ", 8, d.begin() + 64);
  return d;
}

TEST(NvmeIdentify, ControllerCapabilities) {
  auto d = identify_controller();
  d[256] = 0x02;  // OACS bit 1: Format NVM
  d[524] = 0x04;  // FNA bit 2: crypto erase as part of a format
  d[328] = 0x03;  // SANICAP: crypto + block erase
  d[331] = 0x20;  // bit 29: no-deallocate inhibited
  auto c = parse_nvme_identify_controller(d);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->vendor_id, 0x1b36);
  EXPECT_EQ(c->serial, "deadbeef");
  EXPECT_EQ(c->model, "QEMU NVMe Ctrl");
  EXPECT_EQ(c->firmware, "8.0.2");
  EXPECT_TRUE(c->format_supported);
  EXPECT_TRUE(c->format_crypto_erase);
  EXPECT_FALSE(c->format_all_namespaces);
  EXPECT_TRUE(c->sanitize_crypto);
  EXPECT_TRUE(c->sanitize_block);
  EXPECT_FALSE(c->sanitize_overwrite);
  EXPECT_TRUE(c->sanitize_no_deallocate_inhibited);
  EXPECT_FALSE(parse_nvme_identify_controller(std::span(d).first(4095)));
}

TEST(NvmeIdentify, NamespaceSizeAndBlockSize) {
  std::vector<std::uint8_t> d(4096);
  d[0] = 0x00;
  d[1] = 0x00;
  d[2] = 0x10;              // NSZE 0x100000 blocks
  d[26] = 0x01;             // FLBAS: format 1 in use
  d[128 + 4 * 0 + 2] = 9;   // LBAF0: 512 B
  d[128 + 4 * 1 + 2] = 12;  // LBAF1: 4 KiB
  auto n = parse_nvme_identify_namespace(d);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->size_blocks, 0x100000u);
  EXPECT_EQ(n->lbaf, 1u);
  EXPECT_EQ(n->block_size, 4096u);
  d[128 + 4 * 1 + 2] = 40;  // nonsense block size: refused, not guessed
  EXPECT_FALSE(parse_nvme_identify_namespace(d));
}

TEST(NvmeIdentify, SanitizeStatusLog) {
  std::vector<std::uint8_t> log(512);
  log[0] = 0x00;
  log[1] = 0x80;  // SPROG 0x8000: half way
  log[2] = 0x02;  // SSTAT: in progress
  log[3] = 0x01;  // bit 8: global data erased
  log[4] = 0x04;  // SCDW10: crypto erase
  auto s = parse_nvme_sanitize_status(log);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->state, SanitizeState::in_progress);
  EXPECT_DOUBLE_EQ(s->progress, 0.5);
  EXPECT_TRUE(s->global_data_erased);
  EXPECT_EQ(s->last_cdw10, 4u);
  log[2] = 0x01;
  EXPECT_EQ(parse_nvme_sanitize_status(log)->state, SanitizeState::succeeded);
  log[2] = 0x03;
  EXPECT_EQ(parse_nvme_sanitize_status(log)->state, SanitizeState::failed);
  log[2] = 0x04;
  EXPECT_EQ(parse_nvme_sanitize_status(log)->state, SanitizeState::succeeded_no_deallocate);
}

// SAT-4 ATA PASS-THROUGH(16): 85h, protocol/extend, flags, features, count, LBA (31:24, 7:0,
// 39:32, 15:8, 47:40, 23:16), device, command, control.
TEST(AtaPassThrough, IdentifyDevice) {
  const Cdb want = {0x85, 0x08, 0x0E, 0x00, 0x00, 0x00, 0x01, 0x00,
                    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xEC, 0x00};
  EXPECT_EQ(ata_pass_through_16(ata_identify()), want);
}

TEST(AtaPassThrough, SanitizeCommandsCarryTheirSignatures) {
  // BLOCK ERASE EXT: feature 0012h, LBA 0000_426B4572h ("BkEr").
  const Cdb block = {0x85, 0x07, 0x20, 0x00, 0x12, 0x00, 0x00, 0x42,
                     0x72, 0x00, 0x45, 0x00, 0x6B, 0x40, 0xB4, 0x00};
  EXPECT_EQ(ata_pass_through_16(ata_sanitize_block_erase()), block);
  // CRYPTO SCRAMBLE EXT: feature 0011h, LBA 0000_43727970h ("Cryp").
  const Cdb crypto = {0x85, 0x07, 0x20, 0x00, 0x11, 0x00, 0x00, 0x43,
                      0x70, 0x00, 0x79, 0x00, 0x72, 0x40, 0xB4, 0x00};
  EXPECT_EQ(ata_pass_through_16(ata_sanitize_crypto_scramble()), crypto);
  // OVERWRITE EXT: feature 0014h, LBA 47:32 = 4F57h ("OW"), 31:0 = pattern, COUNT 3:0 = passes.
  const Cdb over = {0x85, 0x07, 0x20, 0x00, 0x14, 0x00, 0x01, 0xDE,
                    0xEF, 0x57, 0xBE, 0x4F, 0xAD, 0x40, 0xB4, 0x00};
  EXPECT_EQ(ata_pass_through_16(ata_sanitize_overwrite(0xDEADBEEF, 1, false)), over);
  EXPECT_EQ(ata_sanitize_overwrite(0, 3, true).count, 0x43);
  const Cdb status = {0x85, 0x07, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00,
                      0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0xB4, 0x00};
  EXPECT_EQ(ata_pass_through_16(ata_sanitize_status()), status);
}

TEST(AtaPassThrough, SecurityCommands) {
  // PIO data-out, one 512-byte block, 28-bit commands.
  const Cdb erase = {0x85, 0x0A, 0x06, 0x00, 0x00, 0x00, 0x01, 0x00,
                     0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xF4, 0x00};
  EXPECT_EQ(ata_pass_through_16(ata_security_erase_unit()), erase);
  EXPECT_EQ(ata_pass_through_16(ata_security_set_password())[14], 0xF1);
  EXPECT_EQ(ata_pass_through_16(ata_security_disable_password())[14], 0xF6);
  const Cdb prepare = {0x85, 0x06, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00,
                       0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xF3, 0x00};
  EXPECT_EQ(ata_pass_through_16(ata_security_erase_prepare()), prepare);
  const auto b = ata_security_block("revive", true);
  EXPECT_EQ(b[0], 0x02);  // user password, enhanced erase
  EXPECT_EQ(b[1], 0x00);
  EXPECT_EQ(std::string(b.begin() + 2, b.begin() + 8), "revive");
  EXPECT_EQ(b[8], 0x00);
  EXPECT_EQ(ata_security_block("x", false, true)[0], 0x01);  // master password identifier
}

using Identify = revive::test::AtaIdentifyBuilder;

TEST(AtaIdentify, SsdWithSanitizeAndFrozenSecurity) {
  Identify id;
  id.str(10, 10, "S3Z1NB0K123456");
  id.str(23, 4, "RVT02B6Q");
  id.str(27, 20, "Samsung SSD 860 EVO 500GB");
  id.word(59, 0xB000);                 // sanitize + block erase + crypto scramble (no overwrite)
  id.word(82, (1 << 1) | (1 << 10));   // security, HPA
  id.word(83, (1 << 10) | (1 << 11));  // LBA48, DCO
  id.word(100, 0x6030);
  id.word(101, 0x3A38);
  id.word(128, 0x0029);  // supported, frozen, enhanced erase
  id.word(89, 0x0001);   // 2 minutes
  id.word(90, 0x8004);   // extended format: 8 minutes
  id.word(217, 1);       // non-rotating
  auto a = parse_ata_identify(id.sealed());
  ASSERT_TRUE(a);
  EXPECT_EQ(a->serial, "S3Z1NB0K123456");
  EXPECT_EQ(a->firmware, "RVT02B6Q");
  EXPECT_EQ(a->model, "Samsung SSD 860 EVO 500GB");
  EXPECT_EQ(a->sectors, 976773168u);
  EXPECT_FALSE(a->rotational);
  EXPECT_TRUE(a->sanitize && a->sanitize_block && a->sanitize_crypto);
  EXPECT_FALSE(a->sanitize_overwrite);
  EXPECT_TRUE(a->security_supported);
  EXPECT_TRUE(a->security_frozen);
  EXPECT_FALSE(a->security_enabled);
  EXPECT_FALSE(a->security_locked);
  EXPECT_TRUE(a->enhanced_erase);
  EXPECT_EQ(a->erase_minutes, 2u);
  EXPECT_EQ(a->enhanced_erase_minutes, 8u);
  EXPECT_TRUE(a->hpa_supported);
  EXPECT_TRUE(a->dco_supported);
}

TEST(AtaIdentify, ChecksumAndCapabilityGating) {
  Identify id;
  id.word(59, 0xE000);   // block/overwrite/crypto bits without the sanitize feature bit: ignored
  id.word(128, 0x0007);  // supported, enabled, locked...
  id.word(217, 7200);
  auto d = id.sealed();
  auto a = parse_ata_identify(d);
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->sanitize_block);
  EXPECT_FALSE(a->security_supported);  // ...but word 82 does not announce the feature set
  EXPECT_TRUE(a->security_locked);
  EXPECT_TRUE(a->rotational);
  EXPECT_EQ(a->rpm, 7200);
  d[20] ^= 1;  // one flipped bit: the integrity word no longer matches
  EXPECT_FALSE(parse_ata_identify(d));
  EXPECT_FALSE(parse_ata_identify(std::span(d).first(511)));
}

TEST(AtaSanitize, StatusFromTheReturnedRegisters) {
  auto s = parse_ata_sanitize_status(0x4000, 0x4000);
  EXPECT_TRUE(s.in_progress);
  EXPECT_DOUBLE_EQ(s.progress, 0.25);
  s = parse_ata_sanitize_status(0x8000, 0);
  EXPECT_TRUE(s.completed_ok);
  EXPECT_FALSE(s.in_progress);
  EXPECT_TRUE(parse_ata_sanitize_status(0x2000, 0).frozen);
}

// SAT-4 ATA PASS-THROUGH(16) for the hidden-area and unlock commands.
TEST(AtaPassThrough, HiddenAreaAndUnlockCdbs) {
  // GET NATIVE MAX ADDRESS EXT (78h/0000h): non-data, 48-bit, CK_COND, LBA mode.
  EXPECT_EQ(ata_pass_through_16(ata_get_native_max_address_ext()),
            (Cdb{0x85, 0x07, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x40, 0x78, 0}));
  // DEVICE CONFIGURATION IDENTIFY (B1h/C2h): PIO in, one 512-byte block.
  EXPECT_EQ(ata_pass_through_16(ata_dco_identify()),
            (Cdb{0x85, 0x08, 0x0E, 0, 0xC2, 0, 0x01, 0, 0, 0, 0, 0, 0, 0x00, 0xB1, 0}));
  // SECURITY UNLOCK (F2h): PIO out, one block.
  EXPECT_EQ(ata_pass_through_16(ata_security_unlock()),
            (Cdb{0x85, 0x0A, 0x06, 0, 0, 0, 0x01, 0, 0, 0, 0, 0, 0, 0x00, 0xF2, 0}));
}

// Descriptor-format sense (72h) with the ATA Status Return descriptor (09h), as libata builds it
// for CK_COND: READ NATIVE MAX ADDRESS EXT of a 500 GB drive answered native max 3A38602Fh.
TEST(AtaSense, DescriptorFormatCarries48BitLba) {
  const std::vector<std::uint8_t> sense = {
      0x72, 0x01, 0x00, 0x1D, 0,    0,    0, 0x0E,  // RECOVERED ERROR, 00/1D
      0x09, 0x0C, 0x01, 0x00, 0x00, 0x00,           // EXTEND, ERROR, COUNT 15:8, 7:0
      0x3A, 0x2F, 0x00, 0x60, 0x00, 0x38,           // LBA 31:24, 7:0, 39:32, 15:8, 47:40, 23:16
      0x40, 0x50};                                  // DEVICE, STATUS
  auto r = parse_ata_sense(sense);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->lba, 976773167u);
  EXPECT_EQ(r->status, 0x50);
  EXPECT_FALSE(r->device_error());
  EXPECT_TRUE(r->complete);
  EXPECT_EQ(sense_key(sense), 0x01);
}

TEST(AtaSense, AbortedCommandAndRefusals) {
  // The drive aborted (ERR, ABRT): ABORTED COMMAND with the registers.
  const std::vector<std::uint8_t> aborted = {0x72, 0x0B, 0x00, 0x00, 0,    0,   0, 0x0E,
                                             0x09, 0x0C, 0x00, 0x04, 0,    0,   0, 0,
                                             0,    0,    0,    0,    0x40, 0x51};
  auto r = parse_ata_sense(aborted);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->device_error());
  EXPECT_EQ(r->error, 0x04);
  // ILLEGAL REQUEST / INVALID COMMAND OPERATION CODE from a translator that has no ATA
  // PASS-THROUGH: no registers, the key says why.
  const std::vector<std::uint8_t> illegal = {0x72, 0x05, 0x20, 0x00, 0, 0, 0, 0};
  EXPECT_FALSE(parse_ata_sense(illegal));
  EXPECT_EQ(sense_key(illegal), 0x05);
  // Truncated or unknown sense is not read past its end.
  EXPECT_FALSE(parse_ata_sense(std::span(aborted).first(12)));
  EXPECT_FALSE(parse_ata_sense(std::vector<std::uint8_t>{0x7F, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_FALSE(sense_key(std::vector<std::uint8_t>{}));
}

// Fixed-format sense (70h, SAT-4 12.2.2.6): ERROR/STATUS/DEVICE/COUNT in INFORMATION, LBA 23:0 in
// COMMAND-SPECIFIC INFORMATION with flags for the bits it could not carry.
TEST(AtaSense, FixedFormatSaysWhenItCannotCarryTheUpperBits) {
  std::vector<std::uint8_t> sense = {0x70, 0x00, 0x01, 0x00, 0x50, 0x40, 0x00, 0x0A, 0x00,
                                     0x2F, 0x60, 0x38, 0x00, 0x1D, 0,    0,    0,    0};
  auto r = parse_ata_sense(sense);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->lba, 0x38602Fu);
  EXPECT_TRUE(r->complete);
  sense[8] = 0x20;  // LBA UPPER NONZERO
  r = parse_ata_sense(sense);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->complete);
  sense[12] = 0x24;  // ILLEGAL REQUEST-style sense that is not about the ATA registers
  sense[2] = 0x05;
  EXPECT_FALSE(parse_ata_sense(sense));
}

// DEVICE CONFIGURATION IDENTIFY (ACS-2 7.9.5): revision in word 0, maximum LBA in words 3-6.
TEST(AtaDco, MaximumLbaFromTheOverlay) {
  Identify d;
  d.word(0, 0x0002);
  d.word(3, 0x602F);
  d.word(4, 0x3A38);
  auto data = d.sealed();
  EXPECT_EQ(parse_dco_identify(data), 976773167u);
  data[7] ^= 1;  // checksum no longer matches
  EXPECT_FALSE(parse_dco_identify(data));
  Identify wrong_revision;
  wrong_revision.word(0, 0x0007);
  EXPECT_FALSE(parse_dco_identify(wrong_revision.sealed()));
  EXPECT_FALSE(parse_dco_identify(std::span(data).first(100)));
}

}  // namespace
}  // namespace revive::agent::sanitize

namespace revive::agent::sanitize {
namespace {

// JESD84-B51 6.10.4 / mmc-utils' "mmc sanitize": CMD6 writing 1 to SANITIZE_START [165].
TEST(MmcCommands, SanitizeSwitchArgument) {
  EXPECT_EQ(mmc_switch_arg(kExtCsdSanitizeStart, 1), 0x03A50100u);
  EXPECT_EQ(mmc_switch_arg(33, 1), 0x03210100u);  // CACHE_CTRL on: the same layout
}

TEST(MmcCommands, ExtCsdCapabilities) {
  std::vector<std::uint8_t> e(512);
  e[kExtCsdRevision] = 8;              // eMMC 5.1
  e[kExtCsdSecFeatureSupport] = 0x55;  // SANITIZE, GB_CL, BD_BLK, SECURE_ER
  e[kExtCsdErasedMemCont] = 1;
  auto c = parse_mmc_ext_csd(e);
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->sanitize);
  EXPECT_TRUE(c->secure_erase);
  EXPECT_EQ(c->erased_byte, 0xFF);
  e[kExtCsdRevision] = 5;  // eMMC 4.41: no SANITIZE, whatever the bit says
  EXPECT_FALSE(parse_mmc_ext_csd(e)->sanitize);
  EXPECT_FALSE(parse_mmc_ext_csd(std::span(e).first(200)));
}

}  // namespace
}  // namespace revive::agent::sanitize
