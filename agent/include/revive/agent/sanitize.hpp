#pragma once
// Pure encodings of the firmware erase commands (no ioctls here): NVMe admin commands and
// their identify/log structures (NVM Express Base 2.0), and ATA commands carried in SCSI
// ATA PASS-THROUGH(16) CDBs (SAT-4 / ACS-4), plus the capability parsing the wipe-method
// selection needs. Unit-tested against byte vectors built from the specifications.

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace revive::agent::sanitize {

// ---------------------------------------------------------------- NVMe

constexpr std::uint8_t kNvmeOpGetLogPage = 0x02;
constexpr std::uint8_t kNvmeOpIdentify = 0x06;
constexpr std::uint8_t kNvmeOpFormatNvm = 0x80;
constexpr std::uint8_t kNvmeOpSanitize = 0x84;
constexpr std::uint8_t kNvmeLogSanitizeStatus = 0x81;

enum class NvmeSanitizeAction : std::uint8_t {
  exit_failure = 1,
  block_erase = 2,
  overwrite = 3,
  crypto_erase = 4
};

/// Format NVM CDW10: LBAF (bits 3:0 and 13:12), MSET (4), PI (7:5), PIL (8), SES (11:9).
/// SES 1 = user data erase, 2 = cryptographic erase.
std::uint32_t nvme_format_cdw10(unsigned lbaf, unsigned ses, unsigned pi = 0, bool pil = false,
                                bool mset = false);

/// Sanitize CDW10: SANACT (2:0), AUSE (3), OWPASS (7:4), OIPBP (8), NDAS (9).
std::uint32_t nvme_sanitize_cdw10(NvmeSanitizeAction action, bool allow_unrestricted_exit = false,
                                  unsigned overwrite_passes = 0, bool invert_between_passes = false,
                                  bool no_deallocate = false);

/// Get Log Page CDW10 for `bytes` (a multiple of 4) of log `lid`: LID (7:0), NUMDL (31:16, 0's
/// based).
std::uint32_t nvme_get_log_cdw10(std::uint8_t lid, std::uint32_t bytes);

struct NvmeController {
  std::uint16_t vendor_id = 0;
  std::string serial, model, firmware;
  bool format_supported = false;                  ///< OACS bit 1
  bool format_all_namespaces = false;             ///< FNA bit 0: a format erases every namespace
  bool secure_erase_all_namespaces = false;       ///< FNA bit 1
  bool format_crypto_erase = false;               ///< FNA bit 2: SES=2 supported
  bool sanitize_crypto = false;                   ///< SANICAP bit 0
  bool sanitize_block = false;                    ///< SANICAP bit 1
  bool sanitize_overwrite = false;                ///< SANICAP bit 2
  bool sanitize_no_deallocate_inhibited = false;  ///< SANICAP bit 29
};

/// Identify Controller data structure (CNS 01h, 4096 bytes); nullopt when too short.
std::optional<NvmeController> parse_nvme_identify_controller(std::span<const std::uint8_t> data);

struct NvmeNamespace {
  std::uint64_t size_blocks = 0;   ///< NSZE
  std::uint32_t block_size = 512;  ///< 2^LBADS of the format in use
  unsigned lbaf = 0;               ///< format index in use (FLBAS)
};

/// Identify Namespace data structure (CNS 00h, 4096 bytes).
std::optional<NvmeNamespace> parse_nvme_identify_namespace(std::span<const std::uint8_t> data);

enum class SanitizeState {
  never,
  succeeded,
  in_progress,
  failed,
  succeeded_no_deallocate,
  unknown
};

struct NvmeSanitizeStatus {
  SanitizeState state = SanitizeState::unknown;
  double progress = 0;              ///< SPROG / 65536 while in progress
  bool global_data_erased = false;  ///< SSTAT bit 8
  std::uint32_t last_cdw10 = 0;     ///< SCDW10 of the last sanitize
};

/// Sanitize Status log page (81h, 512 bytes).
std::optional<NvmeSanitizeStatus> parse_nvme_sanitize_status(std::span<const std::uint8_t> log);

// ---------------------------------------------------------------- ATA (via SAT)

constexpr std::uint8_t kAtaIdentify = 0xEC;
constexpr std::uint8_t kAtaSanitize = 0xB4;
constexpr std::uint8_t kAtaSecuritySetPassword = 0xF1;
constexpr std::uint8_t kAtaSecurityUnlock = 0xF2;
constexpr std::uint8_t kAtaSecurityErasePrepare = 0xF3;
constexpr std::uint8_t kAtaSecurityEraseUnit = 0xF4;
constexpr std::uint8_t kAtaSecurityDisablePassword = 0xF6;
constexpr std::uint8_t kAtaReadNativeMaxExt = 0x27;
constexpr std::uint8_t kAtaAccessibleMaxAddressConfig =
    0x78;  ///< feature 0: GET NATIVE MAX ADDRESS EXT (ACS-3+)
constexpr std::uint8_t kAtaDeviceConfiguration =
    0xB1;  ///< feature C2h: DEVICE CONFIGURATION IDENTIFY

constexpr std::uint16_t kAtaSanitizeStatus = 0x0000;
constexpr std::uint16_t kAtaSanitizeCryptoScramble = 0x0011;
constexpr std::uint16_t kAtaSanitizeBlockErase = 0x0012;
constexpr std::uint16_t kAtaSanitizeOverwrite = 0x0014;
constexpr std::uint32_t kAtaCryptoScrambleKey = 0x43727970;  // "Cryp"
constexpr std::uint32_t kAtaBlockEraseKey = 0x426B4572;      // "BkEr"
constexpr std::uint16_t kAtaOverwriteKey = 0x4F57;           // "OW" in LBA 47:32

enum class AtaProtocol : std::uint8_t { non_data = 3, pio_in = 4, pio_out = 5 };

/// One ATA command as the ATA registers see it.
struct AtaCommand {
  std::uint8_t command = 0;
  std::uint16_t features = 0;
  std::uint16_t count = 0;
  std::uint64_t lba = 0;       ///< 48 bits
  std::uint8_t device = 0x40;  ///< LBA mode
  AtaProtocol protocol = AtaProtocol::non_data;
  bool extend = false;  ///< a 48-bit (EXT) command
};

/// SCSI ATA PASS-THROUGH(16) CDB (opcode 85h). Data transfers are counted in 512-byte blocks
/// in the COUNT field; non-data commands ask for the result registers back (CK_COND).
std::array<std::uint8_t, 16> ata_pass_through_16(const AtaCommand& c);

AtaCommand ata_identify();
AtaCommand ata_sanitize_status();
AtaCommand ata_sanitize_block_erase();
AtaCommand ata_sanitize_crypto_scramble();
/// `passes` 1..16; the 32-bit pattern goes in LBA 31:0.
AtaCommand ata_sanitize_overwrite(std::uint32_t pattern, unsigned passes, bool invert);
AtaCommand ata_read_native_max_ext();
/// ACS-3 replaced READ NATIVE MAX ADDRESS EXT with this; drives answer one or the other.
AtaCommand ata_get_native_max_address_ext();
/// DEVICE CONFIGURATION IDENTIFY: 512 bytes naming the largest LBA the DCO allows.
AtaCommand ata_dco_identify();
/// SECURITY SET PASSWORD / ERASE UNIT / DISABLE PASSWORD each send this 512-byte block.
std::array<std::uint8_t, 512> ata_security_block(const std::string& password, bool enhanced = false,
                                                 bool master = false);
AtaCommand ata_security_set_password();
AtaCommand ata_security_unlock();
AtaCommand ata_security_erase_prepare();
AtaCommand ata_security_erase_unit();
AtaCommand ata_security_disable_password();

struct AtaIdentity {
  std::string serial, model, firmware;
  std::uint64_t sectors = 0;  ///< user addressable (LBA48 if supported)
  std::uint32_t logical_sector = 512;
  bool lba48 = false;
  bool rotational = true;  ///< word 217 != 1
  std::uint16_t rpm = 0;
  bool sanitize = false;                ///< word 59 bit 12
  bool sanitize_crypto = false;         ///< bit 13
  bool sanitize_overwrite = false;      ///< bit 14
  bool sanitize_block = false;          ///< bit 15
  bool security_supported = false;      ///< word 128 bit 0 (and word 82 bit 1)
  bool security_enabled = false;        ///< bit 1: a password is set
  bool security_locked = false;         ///< bit 2
  bool security_frozen = false;         ///< bit 3
  bool security_count_expired = false;  ///< bit 4
  bool enhanced_erase = false;          ///< bit 5
  unsigned erase_minutes = 0;           ///< word 89 (0 = not reported)
  unsigned enhanced_erase_minutes = 0;  ///< word 90
  bool hpa_supported = false;           ///< word 82 bit 10
  bool dco_supported = false;           ///< word 83 bit 11
};

/// IDENTIFY DEVICE data (256 little-endian words); nullopt when short or the checksum fails.
std::optional<AtaIdentity> parse_ata_identify(std::span<const std::uint8_t> data);

struct AtaSanitizeStatus {
  bool completed_ok = false;  ///< COUNT bit 15
  bool in_progress = false;   ///< bit 14
  bool frozen = false;        ///< bit 13
  double progress = 0;        ///< LBA 15:0 / 65536
};

/// From the COUNT and LBA returned by SANITIZE STATUS EXT.
AtaSanitizeStatus parse_ata_sanitize_status(std::uint16_t count, std::uint64_t lba);

/// DEVICE CONFIGURATION IDENTIFY data: the maximum LBA the configuration overlay allows (words
/// 3-6); nullopt when short, the revision is not 1 or 2, or the integrity word fails.
std::optional<std::uint64_t> parse_dco_identify(std::span<const std::uint8_t> data);

/// The ATA registers after a command, as the SCSI/ATA translation layer returns them in the
/// sense data of ATA PASS-THROUGH (CK_COND, or any error).
struct AtaRegisters {
  std::uint8_t status = 0;
  std::uint8_t error = 0;
  std::uint8_t device = 0;
  std::uint16_t count = 0;
  std::uint64_t lba = 0;
  /// Fixed-format sense carries only COUNT 7:0 and LBA 23:0; false when it said higher bits
  /// were set but could not carry them.
  bool complete = true;
  bool device_error() const { return (status & 0x21) != 0; }  ///< ERR or DF
};

/// The ATA Status Return descriptor (descriptor sense, 72h) or the ATA information in
/// fixed-format sense (70h/71h, SAT-4 12.2.2.6); nullopt when the sense carries neither.
std::optional<AtaRegisters> parse_ata_sense(std::span<const std::uint8_t> sense);
/// The sense key (0..15) of descriptor or fixed sense; nullopt for no/unknown sense.
std::optional<std::uint8_t> sense_key(std::span<const std::uint8_t> sense);

// ---------------------------------------------------------------- eMMC (JESD84-B51)

constexpr std::uint32_t kMmcSwitch = 6;
constexpr std::uint32_t kMmcSendExtCsd = 8;
constexpr unsigned kExtCsdSanitizeStart = 165;
constexpr unsigned kExtCsdErasedMemCont = 181;
constexpr unsigned kExtCsdRevision = 192;
constexpr unsigned kExtCsdSecFeatureSupport = 231;

/// CMD6 SWITCH argument writing `value` to EXT_CSD byte `index`: access 3 (write byte) in
/// 25:24, index 23:16, value 15:8, command set 0.
std::uint32_t mmc_switch_arg(unsigned index, unsigned value);

struct MmcExtCsd {
  unsigned revision = 0;         ///< EXT_CSD_REV [192]: 6 = eMMC 4.5, 7 = 5.0, 8 = 5.1
  bool sanitize = false;         ///< SEC_FEATURE_SUPPORT bit 6 (eMMC 4.5+)
  bool secure_erase = false;     ///< bit 0: secure erase / secure trim
  std::uint8_t erased_byte = 0;  ///< ERASED_MEM_CONT [181] bit 0: erased memory reads 0x00 or 0xFF
};

/// The 512-byte EXT_CSD register (CMD8); nullopt when short.
std::optional<MmcExtCsd> parse_mmc_ext_csd(std::span<const std::uint8_t> data);

}  // namespace revive::agent::sanitize
