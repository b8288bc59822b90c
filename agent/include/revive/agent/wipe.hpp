#pragma once
// The wipe engine: which method a drive gets (strongest it supports, with the reason and its
// NIST SP 800-88 / IEEE 2883 level), and the overwrite method with its verification. Firmware
// erases are issued by the device layer; this file holds what is independent of ioctls.

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "revive/agent/block_device.hpp"
#include "revive/agent/sanitize.hpp"
#include "revive/error.hpp"

namespace revive::agent {

enum class NistLevel { clear, purge };
std::string_view to_string(NistLevel l);

enum class WipeMethod {
  nvme_sanitize_crypto,
  nvme_sanitize_block,
  nvme_format_crypto,
  nvme_format_user_data,
  ata_sanitize_crypto,
  ata_sanitize_block,
  ata_sanitize_overwrite,
  ata_security_erase_enhanced,
  ata_security_erase,
  emmc_sanitize,
  emmc_secure_erase,
  overwrite,
};
std::string_view to_string(WipeMethod m);

/// What is known about a drive when its method is chosen.
struct DriveFacts {
  std::string transport;  ///< "nvme", "sata", "usb", "mmc", "virtual" (file or loop device)
  bool rotational = false;
  std::optional<sanitize::NvmeController> nvme;
  std::optional<sanitize::AtaIdentity> ata;
  std::optional<sanitize::MmcExtCsd> mmc;
};

struct PlannedMethod {
  WipeMethod method = WipeMethod::overwrite;
  NistLevel level = NistLevel::clear;
  std::string why;              ///< the capability that allows it, and why its level
  bool needs_unfreeze = false;  ///< ATA security is frozen: suspend/resume first
};

/// Methods to try, strongest first; always ends with the overwrite, which every writable drive
/// supports. Firmware commands are never planned through USB bridges.
std::vector<PlannedMethod> plan_wipe(const DriveFacts& f);

/// The overwrite pattern: zeros, or a seeded counter-based PRNG stream (any byte of it can be
/// recomputed from the seed and its offset, so verification needs no copy).
void fill_pattern(std::span<std::byte> out, std::uint64_t offset, bool random, std::uint64_t seed);

struct BadRange {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  std::string error;
};

struct OverwriteOptions {
  bool random_pattern = false;
  std::uint64_t seed = 0;
  std::size_t block = std::size_t{4} << 20;  ///< write size (aligned)
  unsigned writers = 4;                      ///< writes in flight
  unsigned readers = 4;                      ///< verification reads in flight
  std::uint32_t sector = 4096;               ///< granularity when isolating bad sectors
  bool full_verify = false;
  std::optional<std::uint64_t> verify_seed;  ///< where the samples fall (default: random, recorded)
  unsigned min_samples = 1000;               ///< sampled verification: at least this many...
  double min_coverage = 0.10;                ///< ...covering at least this share of the device
  std::size_t max_bad_ranges = 256;          ///< beyond this the drive is failing: stop
  std::function<void(std::string_view stage, std::uint64_t done, std::uint64_t total)> progress;
  const std::atomic<bool>* stop = nullptr;
};

struct VerifyReport {
  std::string method;  ///< "sampled" or "full"
  std::uint64_t seed = 0;
  std::uint64_t samples = 0;
  std::uint64_t sample_bytes = 0;
  std::uint64_t bytes_checked = 0;
  double coverage = 0;
  std::vector<std::uint64_t>
      mismatches;  ///< offsets of samples that did not read back as written (first 100)
  std::uint64_t mismatch_count = 0;
  std::vector<BadRange> read_errors;
};

struct OverwriteReport {
  std::string pattern;  ///< "zeros" or "prng"
  std::uint64_t bytes = 0;
  std::uint64_t bytes_written = 0;
  std::vector<BadRange> write_errors;
  VerifyReport verify;
  std::string result;  ///< "passed", "failed" or "unverified"
  std::string reason;  ///< why it is not "passed"
  double write_seconds = 0;
  double verify_seconds = 0;
};

/// Overwrites the whole device, then verifies it. Bad sectors are recorded and skipped (the
/// result is then "failed", naming each offset); only an I/O setup failure or a stop is an error.
Result<OverwriteReport> overwrite_device(BlockDevice& dev, const OverwriteOptions& o);

/// Verification only (also after a firmware erase): samples (or every byte, with full_verify)
/// checked against `expect`; mismatches and read errors recorded.
VerifyReport verify_device(
    BlockDevice& dev, const OverwriteOptions& o,
    const std::function<bool(std::span<const std::byte> got, std::uint64_t offset)>& expect);

/// Firmware erases (NVMe Format/Sanitize, ATA erase) are proven, not trusted: before the
/// command, canary blocks (a magic, then seeded data) are written across the drive; afterwards
/// none may survive, and a sampled read-back must look erased.
struct CanarySet {
  std::uint64_t seed = 0;
  std::uint32_t block = 4096;
  std::vector<std::uint64_t> offsets;
};
inline constexpr char kCanaryMagic[] =
    "REVIVE-CANARY-01";  ///< 16 bytes at the start of each canary block
Result<CanarySet> place_canaries(BlockDevice& dev, std::uint64_t seed, unsigned count = 64);

struct FirmwareVerifyReport {
  VerifyReport verify;
  unsigned canaries = 0;
  unsigned canaries_surviving = 0;
  std::string result;  ///< "passed", "failed" or "unverified"
  std::string reason;
  double seconds = 0;
};
/// `expect_uniform`: every sample must read as one repeated byte (0x00 or 0xFF: user-data and
/// block erases); otherwise (crypto erase: the old data is now noise) it must merely hold no
/// canary.
FirmwareVerifyReport verify_firmware_erase(BlockDevice& dev, const CanarySet& canaries,
                                           bool expect_uniform, const OverwriteOptions& o);

}  // namespace revive::agent
