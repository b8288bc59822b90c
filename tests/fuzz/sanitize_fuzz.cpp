// libFuzzer target for the drive-data parsers the wipe engine trusts: ATA IDENTIFY DEVICE, NVMe
// Identify Controller / Namespace and the Sanitize Status log, the SCSI sense data carrying ATA
// registers, DEVICE CONFIGURATION IDENTIFY and the eMMC EXT_CSD. The first byte picks the parser;
// the rest is the drive's answer (short answers are zero-padded as the kernel would hand them).
// Run: build/fuzz/tests/sanitize_fuzz -max_total_time=60
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "revive/agent/sanitize.hpp"

using namespace revive::agent::sanitize;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const unsigned which = data[0] % 7;
  std::vector<std::uint8_t> buf(data + 1, data + size);
  if (data[0] & 0x80)
    buf.resize(which == 0 || which >= 4 ? 512 : 4096);  // also the full-size answers
  switch (which) {
    case 0:
      if (auto a = parse_ata_identify(buf)) {
        if (a->sanitize_block && !a->sanitize)
          std::abort();  // capability bits need the feature bit
        if (a->logical_sector % 2 != 0) std::abort();
      }
      break;
    case 1:
      if (auto c = parse_nvme_identify_controller(buf)) {
        if (c->serial.size() > 20 || c->model.size() > 40) std::abort();
      }
      break;
    case 2:
      if (auto n = parse_nvme_identify_namespace(buf)) {
        if (n->block_size < 512 || n->block_size > 65536) std::abort();
      }
      break;
    case 4:
      if (auto r = parse_ata_sense(buf)) {
        if (r->lba >> 48 != 0) std::abort();  // 48-bit registers
        (void)sense_key(buf);
      }
      break;
    case 5:
      if (auto m = parse_dco_identify(buf)) {
        if (*m >> 48 != 0) std::abort();
      }
      break;
    case 6:
      if (auto e = parse_mmc_ext_csd(buf)) {
        if (e->sanitize && e->revision < 6) std::abort();
      }
      break;
    default:
      if (auto s = parse_nvme_sanitize_status(buf)) {
        if (s->progress < 0 || s->progress >= 1) std::abort();
      }
  }
  return 0;
}
