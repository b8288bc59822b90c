#include "revive/agent/sanitize.hpp"

#include <algorithm>

namespace revive::agent::sanitize {

namespace {

std::uint16_t le16(std::span<const std::uint8_t> d, std::size_t off) {
  return static_cast<std::uint16_t>(d[off] | (d[off + 1] << 8));
}
std::uint32_t le32(std::span<const std::uint8_t> d, std::size_t off) {
  return static_cast<std::uint32_t>(le16(d, off)) |
         (static_cast<std::uint32_t>(le16(d, off + 2)) << 16);
}
std::uint64_t le64(std::span<const std::uint8_t> d, std::size_t off) {
  return static_cast<std::uint64_t>(le32(d, off)) |
         (static_cast<std::uint64_t>(le32(d, off + 4)) << 32);
}

// NVMe strings: ASCII, space padded.
std::string ascii(std::span<const std::uint8_t> d, std::size_t off, std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = static_cast<char>(d[off + i]);
    s += (c >= 0x20 && c < 0x7f) ? c : ' ';
  }
  const auto b = s.find_first_not_of(' ');
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(' ') - b + 1);
}

// ATA strings: two characters per word, the first in the high byte.
std::string ata_string(std::span<const std::uint8_t> d, unsigned first_word, unsigned words) {
  std::string s;
  for (std::size_t w = first_word; w < std::size_t{first_word} + words; ++w) {
    for (const std::uint8_t b : {d[2 * w + 1], d[2 * w]})
      s += (b >= 0x20 && b < 0x7f) ? static_cast<char>(b) : ' ';
  }
  const auto b = s.find_first_not_of(' ');
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(' ') - b + 1);
}

bool bit(std::uint32_t v, unsigned n) { return ((v >> n) & 1u) != 0; }

}  // namespace

std::uint32_t nvme_format_cdw10(unsigned lbaf, unsigned ses, unsigned pi, bool pil, bool mset) {
  return (lbaf & 0xFu) | (static_cast<std::uint32_t>(mset) << 4) | ((pi & 0x7u) << 5) |
         (static_cast<std::uint32_t>(pil) << 8) | ((ses & 0x7u) << 9) |
         (((lbaf >> 4) & 0x3u) << 12);
}

std::uint32_t nvme_sanitize_cdw10(NvmeSanitizeAction action, bool ause, unsigned owpass, bool oipbp,
                                  bool ndas) {
  return (static_cast<std::uint32_t>(action) & 0x7u) | (static_cast<std::uint32_t>(ause) << 3) |
         ((owpass & 0xFu) << 4) | (static_cast<std::uint32_t>(oipbp) << 8) |
         (static_cast<std::uint32_t>(ndas) << 9);
}

std::uint32_t nvme_get_log_cdw10(std::uint8_t lid, std::uint32_t bytes) {
  const std::uint32_t numd = bytes / 4 - 1;  // 0's based dword count; the low 16 bits go in CDW10
  return lid | ((numd & 0xFFFFu) << 16);
}

std::optional<NvmeController> parse_nvme_identify_controller(std::span<const std::uint8_t> d) {
  if (d.size() < 4096) return std::nullopt;
  NvmeController c;
  c.vendor_id = le16(d, 0);
  c.serial = ascii(d, 4, 20);
  c.model = ascii(d, 24, 40);
  c.firmware = ascii(d, 64, 8);
  const std::uint16_t oacs = le16(d, 256);
  c.format_supported = bit(oacs, 1);
  const std::uint8_t fna = d[524];
  c.format_all_namespaces = bit(fna, 0);
  c.secure_erase_all_namespaces = bit(fna, 1);
  c.format_crypto_erase = bit(fna, 2);
  const std::uint32_t sanicap = le32(d, 328);
  c.sanitize_crypto = bit(sanicap, 0);
  c.sanitize_block = bit(sanicap, 1);
  c.sanitize_overwrite = bit(sanicap, 2);
  c.sanitize_no_deallocate_inhibited = bit(sanicap, 29);
  return c;
}

std::optional<NvmeNamespace> parse_nvme_identify_namespace(std::span<const std::uint8_t> d) {
  if (d.size() < 4096) return std::nullopt;
  NvmeNamespace n;
  n.size_blocks = le64(d, 0);
  const std::uint8_t flbas = d[26];
  n.lbaf = (flbas & 0xFu) | (((flbas >> 5) & 0x3u) << 4);
  if (n.lbaf > 63) return std::nullopt;
  const unsigned lbads = d[128 + 4 * n.lbaf + 2];
  if (lbads < 9 || lbads > 16) return std::nullopt;  // 512 B .. 64 KiB
  n.block_size = 1u << lbads;
  return n;
}

std::optional<NvmeSanitizeStatus> parse_nvme_sanitize_status(std::span<const std::uint8_t> d) {
  if (d.size() < 20) return std::nullopt;
  NvmeSanitizeStatus s;
  const std::uint16_t sstat = le16(d, 2);
  switch (sstat & 0x7u) {
    case 0:
      s.state = SanitizeState::never;
      break;
    case 1:
      s.state = SanitizeState::succeeded;
      break;
    case 2:
      s.state = SanitizeState::in_progress;
      break;
    case 3:
      s.state = SanitizeState::failed;
      break;
    case 4:
      s.state = SanitizeState::succeeded_no_deallocate;
      break;
    default:
      s.state = SanitizeState::unknown;
  }
  s.progress = le16(d, 0) / 65536.0;
  s.global_data_erased = bit(sstat, 8);
  s.last_cdw10 = le32(d, 4);
  return s;
}

std::array<std::uint8_t, 16> ata_pass_through_16(const AtaCommand& c) {
  std::array<std::uint8_t, 16> cdb{};
  cdb[0] = 0x85;
  cdb[1] =
      static_cast<std::uint8_t>((static_cast<unsigned>(c.protocol) << 1) | (c.extend ? 1u : 0u));
  switch (c.protocol) {
    case AtaProtocol::non_data:
      cdb[2] = 0x20;
      break;  // CK_COND: return the result registers
    case AtaProtocol::pio_in:
      cdb[2] = 0x0E;
      break;  // T_DIR from device, BYT_BLOK, length in COUNT
    case AtaProtocol::pio_out:
      cdb[2] = 0x06;
      break;  // T_DIR to device, BYT_BLOK, length in COUNT
  }
  cdb[3] = static_cast<std::uint8_t>(c.features >> 8);
  cdb[4] = static_cast<std::uint8_t>(c.features);
  cdb[5] = static_cast<std::uint8_t>(c.count >> 8);
  cdb[6] = static_cast<std::uint8_t>(c.count);
  cdb[7] = static_cast<std::uint8_t>(c.lba >> 24);   // LBA 31:24
  cdb[8] = static_cast<std::uint8_t>(c.lba);         // LBA 7:0
  cdb[9] = static_cast<std::uint8_t>(c.lba >> 32);   // LBA 39:32
  cdb[10] = static_cast<std::uint8_t>(c.lba >> 8);   // LBA 15:8
  cdb[11] = static_cast<std::uint8_t>(c.lba >> 40);  // LBA 47:40
  cdb[12] = static_cast<std::uint8_t>(c.lba >> 16);  // LBA 23:16
  cdb[13] = c.device;
  cdb[14] = c.command;
  return cdb;
}

AtaCommand ata_identify() {
  AtaCommand c;
  c.command = kAtaIdentify;
  c.count = 1;
  c.device = 0;
  c.protocol = AtaProtocol::pio_in;
  return c;
}

namespace {
// A 48-bit non-data command: SANITIZE and the native-max queries (results in the registers).
AtaCommand ext48(std::uint8_t command, std::uint16_t feature = 0, std::uint64_t lba = 0,
                 std::uint16_t count = 0) {
  AtaCommand c;
  c.command = command;
  c.features = feature;
  c.lba = lba;
  c.count = count;
  c.extend = true;
  return c;
}
AtaCommand security(std::uint8_t command, AtaProtocol p) {
  AtaCommand c;
  c.command = command;
  c.device = 0;
  c.protocol = p;
  c.count = p == AtaProtocol::pio_out ? 1 : 0;
  return c;
}
}  // namespace

AtaCommand ata_sanitize_status() { return ext48(kAtaSanitize, kAtaSanitizeStatus); }
AtaCommand ata_sanitize_block_erase() {
  return ext48(kAtaSanitize, kAtaSanitizeBlockErase, kAtaBlockEraseKey);
}
AtaCommand ata_sanitize_crypto_scramble() {
  return ext48(kAtaSanitize, kAtaSanitizeCryptoScramble, kAtaCryptoScrambleKey);
}
AtaCommand ata_sanitize_overwrite(std::uint32_t pattern, unsigned passes, bool invert) {
  const std::uint16_t count =
      static_cast<std::uint16_t>((std::clamp(passes, 1u, 16u) & 0xFu) | (invert ? 0x40u : 0u));
  return ext48(kAtaSanitize, kAtaSanitizeOverwrite,
               (static_cast<std::uint64_t>(kAtaOverwriteKey) << 32) | pattern, count);
}
AtaCommand ata_read_native_max_ext() { return ext48(kAtaReadNativeMaxExt); }
AtaCommand ata_get_native_max_address_ext() {
  return ext48(kAtaAccessibleMaxAddressConfig, 0x0000);
}
AtaCommand ata_dco_identify() {
  AtaCommand c;
  c.command = kAtaDeviceConfiguration;
  c.features = 0xC2;
  c.count = 1;
  c.device = 0;
  c.protocol = AtaProtocol::pio_in;
  return c;
}
AtaCommand ata_security_set_password() {
  return security(kAtaSecuritySetPassword, AtaProtocol::pio_out);
}
AtaCommand ata_security_unlock() { return security(kAtaSecurityUnlock, AtaProtocol::pio_out); }
AtaCommand ata_security_erase_prepare() {
  return security(kAtaSecurityErasePrepare, AtaProtocol::non_data);
}
AtaCommand ata_security_erase_unit() {
  return security(kAtaSecurityEraseUnit, AtaProtocol::pio_out);
}
AtaCommand ata_security_disable_password() {
  return security(kAtaSecurityDisablePassword, AtaProtocol::pio_out);
}

std::array<std::uint8_t, 512> ata_security_block(const std::string& password, bool enhanced,
                                                 bool master) {
  std::array<std::uint8_t, 512> b{};
  b[0] = static_cast<std::uint8_t>((master ? 1u : 0u) |
                                   (enhanced ? 2u : 0u));  // word 0: identifier, enhanced erase
  // Words 1-16: the password, 32 bytes, in the byte order the drive received it when it was set.
  for (std::size_t i = 0; i < 32 && i < password.size(); ++i)
    b[2 + i] = static_cast<std::uint8_t>(password[i]);
  return b;
}

std::optional<AtaIdentity> parse_ata_identify(std::span<const std::uint8_t> d) {
  if (d.size() < 512) return std::nullopt;
  if (d[510] == 0xA5) {  // integrity word present: all 512 bytes sum to 0 mod 256
    std::uint8_t sum = 0;
    for (std::size_t i = 0; i < 512; ++i) sum = static_cast<std::uint8_t>(sum + d[i]);
    if (sum != 0) return std::nullopt;
  }
  auto w = [&](std::size_t n) { return le16(d, 2 * n); };
  AtaIdentity a;
  a.serial = ata_string(d, 10, 10);
  a.firmware = ata_string(d, 23, 4);
  a.model = ata_string(d, 27, 20);
  a.lba48 = bit(w(83), 10);
  a.sectors =
      a.lba48 ? (static_cast<std::uint64_t>(w(100)) | (static_cast<std::uint64_t>(w(101)) << 16) |
                 (static_cast<std::uint64_t>(w(102)) << 32) |
                 (static_cast<std::uint64_t>(w(103)) << 48))
              : (static_cast<std::uint64_t>(w(60)) | (static_cast<std::uint64_t>(w(61)) << 16));
  // Word 106: valid when bits 15:14 are 01; bit 12 = logical sector longer than 256 words.
  if ((w(106) & 0xC000) == 0x4000 && bit(w(106), 12))
    a.logical_sector =
        2 * (static_cast<std::uint32_t>(w(117)) | (static_cast<std::uint32_t>(w(118)) << 16));
  a.rpm = w(217);
  a.rotational = w(217) != 1;
  const std::uint16_t w59 = w(59);
  a.sanitize = bit(w59, 12);
  a.sanitize_crypto = a.sanitize && bit(w59, 13);
  a.sanitize_overwrite = a.sanitize && bit(w59, 14);
  a.sanitize_block = a.sanitize && bit(w59, 15);
  const std::uint16_t w128 = w(128);
  a.security_supported = bit(w128, 0) && bit(w(82), 1);
  a.security_enabled = bit(w128, 1);
  a.security_locked = bit(w128, 2);
  a.security_frozen = bit(w128, 3);
  a.security_count_expired = bit(w128, 4);
  a.enhanced_erase = bit(w128, 5);
  // Words 89/90: bit 15 set = extended format (bits 14:0), else bits 7:0; units of 2 minutes.
  auto minutes = [](std::uint16_t v) -> unsigned {
    return 2u * (bit(v, 15) ? (v & 0x7FFFu) : (v & 0xFFu));
  };
  a.erase_minutes = minutes(w(89));
  a.enhanced_erase_minutes = minutes(w(90));
  a.hpa_supported = bit(w(82), 10);
  a.dco_supported = bit(w(83), 11);
  return a;
}

AtaSanitizeStatus parse_ata_sanitize_status(std::uint16_t count, std::uint64_t lba) {
  AtaSanitizeStatus s;
  s.completed_ok = bit(count, 15);
  s.in_progress = bit(count, 14);
  s.frozen = bit(count, 13);
  s.progress = static_cast<double>(lba & 0xFFFFu) / 65536.0;
  return s;
}

std::optional<std::uint64_t> parse_dco_identify(std::span<const std::uint8_t> d) {
  if (d.size() < 512) return std::nullopt;
  const std::uint16_t rev = le16(d, 0);
  if (rev != 1 && rev != 2) return std::nullopt;
  if (d[510] == 0xA5) {
    std::uint8_t sum = 0;
    for (std::size_t i = 0; i < 512; ++i) sum = static_cast<std::uint8_t>(sum + d[i]);
    if (sum != 0) return std::nullopt;
  }
  return le64(d, 6) & 0xFFFFFFFFFFFFull;  // 48-bit LBA
}

std::optional<AtaRegisters> parse_ata_sense(std::span<const std::uint8_t> s) {
  if (s.size() < 8) return std::nullopt;
  const std::uint8_t code = s[0] & 0x7F;
  if (code == 0x72 || code == 0x73) {
    const std::size_t end = std::min<std::size_t>(s.size(), 8u + s[7]);
    for (std::size_t off = 8; off + 2 <= end;) {
      const std::uint8_t type = s[off];
      const std::size_t len = 2u + s[off + 1];
      if (type == 0x09 && s[off + 1] >= 0x0C && off + 14 <= end) {
        const auto* d = s.data() + off;
        AtaRegisters r;
        const bool ext = (d[2] & 1) != 0;
        r.error = d[3];
        r.count = static_cast<std::uint16_t>((ext ? d[4] << 8 : 0) | d[5]);
        r.lba = static_cast<std::uint64_t>(d[7]) | (static_cast<std::uint64_t>(d[9]) << 8) |
                (static_cast<std::uint64_t>(d[11]) << 16);
        if (ext)
          r.lba |= (static_cast<std::uint64_t>(d[6]) << 24) |
                   (static_cast<std::uint64_t>(d[8]) << 32) |
                   (static_cast<std::uint64_t>(d[10]) << 40);
        r.device = d[12];
        r.status = d[13];
        return r;
      }
      off += len;
    }
    return std::nullopt;
  }
  if (code == 0x70 || code == 0x71) {
    // Only ATA PASS-THROUGH INFORMATION AVAILABLE (00h/1Dh) or an ATA error maps the registers
    // into INFORMATION / COMMAND-SPECIFIC INFORMATION; other sense says nothing about them.
    if (s.size() < 14 || s[7] < 6) return std::nullopt;
    const std::uint8_t key = s[2] & 0x0F;
    const bool passthrough_info = s[12] == 0x00 && s[13] == 0x1D;
    if (!passthrough_info && key != 0x0B && key != 0x04 && key != 0x03) return std::nullopt;
    AtaRegisters r;
    r.error = s[3];
    r.status = s[4];
    r.device = s[5];
    r.count = s[6];
    r.lba = static_cast<std::uint64_t>(s[9]) | (static_cast<std::uint64_t>(s[10]) << 8) |
            (static_cast<std::uint64_t>(s[11]) << 16);
    r.complete = (s[8] & 0x60) == 0;  // COUNT UPPER NONZERO, LBA UPPER NONZERO
    return r;
  }
  return std::nullopt;
}

std::optional<std::uint8_t> sense_key(std::span<const std::uint8_t> s) {
  if (s.empty()) return std::nullopt;
  const std::uint8_t code = s[0] & 0x7F;
  if ((code == 0x72 || code == 0x73) && s.size() >= 2)
    return static_cast<std::uint8_t>(s[1] & 0x0F);
  if ((code == 0x70 || code == 0x71) && s.size() >= 3)
    return static_cast<std::uint8_t>(s[2] & 0x0F);
  return std::nullopt;
}

std::uint32_t mmc_switch_arg(unsigned index, unsigned value) {
  return (3u << 24) | ((index & 0xFFu) << 16) | ((value & 0xFFu) << 8);
}

std::optional<MmcExtCsd> parse_mmc_ext_csd(std::span<const std::uint8_t> d) {
  if (d.size() < 512) return std::nullopt;
  MmcExtCsd e;
  e.revision = d[kExtCsdRevision];
  const std::uint8_t sec = d[kExtCsdSecFeatureSupport];
  e.sanitize = e.revision >= 6 && bit(sec, 6);
  e.secure_erase = bit(sec, 0);
  e.erased_byte = bit(d[kExtCsdErasedMemCont], 0) ? 0xFF : 0x00;
  return e;
}

}  // namespace revive::agent::sanitize
