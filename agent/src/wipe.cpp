#include "revive/agent/wipe.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <tuple>
#include <utility>

#include "revive/aligned_buffer.hpp"
#include "revive/parallel.hpp"

namespace revive::agent {

std::string_view to_string(NistLevel l) { return l == NistLevel::purge ? "Purge" : "Clear"; }

std::string_view to_string(WipeMethod m) {
  switch (m) {
    case WipeMethod::nvme_sanitize_crypto:
      return "nvme-sanitize-crypto-erase";
    case WipeMethod::nvme_sanitize_block:
      return "nvme-sanitize-block-erase";
    case WipeMethod::nvme_format_crypto:
      return "nvme-format-crypto-erase";
    case WipeMethod::nvme_format_user_data:
      return "nvme-format-user-data-erase";
    case WipeMethod::ata_sanitize_crypto:
      return "ata-sanitize-crypto-scramble";
    case WipeMethod::ata_sanitize_block:
      return "ata-sanitize-block-erase";
    case WipeMethod::ata_sanitize_overwrite:
      return "ata-sanitize-overwrite";
    case WipeMethod::ata_security_erase_enhanced:
      return "ata-enhanced-security-erase";
    case WipeMethod::ata_security_erase:
      return "ata-security-erase";
    case WipeMethod::emmc_sanitize:
      return "emmc-sanitize";
    case WipeMethod::emmc_secure_erase:
      return "emmc-secure-erase";
    case WipeMethod::overwrite:
      return "overwrite";
  }
  return "unknown";
}

std::vector<PlannedMethod> plan_wipe(const DriveFacts& f) {
  std::vector<PlannedMethod> plan;
  auto add = [&](WipeMethod m, NistLevel l, std::string why, bool unfreeze = false) {
    plan.push_back({m, l, std::move(why), unfreeze});
  };
  if (f.transport == "nvme" && f.nvme) {
    const auto& c = *f.nvme;
    // Sanitize reaches every user data location including caches and unallocated blocks, and
    // resumes after a reset: Purge.
    if (c.sanitize_crypto)
      add(WipeMethod::nvme_sanitize_crypto, NistLevel::purge,
          "SANICAP: crypto erase supported; Sanitize is Purge (IEEE 2883)");
    if (c.sanitize_block)
      add(WipeMethod::nvme_sanitize_block, NistLevel::purge,
          "SANICAP: block erase supported; Sanitize is Purge (IEEE 2883)");
    if (c.format_supported) {
      if (c.format_crypto_erase) {
        add(WipeMethod::nvme_format_crypto, NistLevel::purge,
            "OACS: Format NVM supported, FNA: cryptographic erase supported; crypto erase is Purge "
            "(SP 800-88 Rev.1 Table A-8)");
      }
      // Format with SES=1 gives no guarantee for over-provisioned or cached data: recorded
      // conservatively as Clear.
      add(WipeMethod::nvme_format_user_data, NistLevel::clear,
          "OACS: Format NVM supported; a user data erase without Sanitize's guarantees is recorded "
          "as Clear");
    }
  } else if (f.transport == "sata" && f.ata) {
    const auto& a = *f.ata;
    if (a.sanitize_crypto)
      add(WipeMethod::ata_sanitize_crypto, NistLevel::purge,
          "IDENTIFY word 59: CRYPTO SCRAMBLE supported; Sanitize is Purge");
    if (a.sanitize_block)
      add(WipeMethod::ata_sanitize_block, NistLevel::purge,
          "IDENTIFY word 59: BLOCK ERASE supported; Sanitize is Purge");
    if (a.sanitize_overwrite && a.rotational) {
      add(WipeMethod::ata_sanitize_overwrite, NistLevel::purge,
          "IDENTIFY word 59: OVERWRITE supported on a hard disk; Sanitize is Purge");
    }
    if (a.security_supported && !a.security_locked && !a.security_count_expired) {
      if (a.enhanced_erase) {
        // On hard disks the enhanced erase also writes reallocated sectors (Purge); SSD
        // firmware is known to implement it unevenly, so there it is recorded as Clear.
        add(WipeMethod::ata_security_erase_enhanced,
            a.rotational ? NistLevel::purge : NistLevel::clear,
            a.rotational
                ? "IDENTIFY word 128: enhanced erase supported on a hard disk: Purge"
                : "IDENTIFY word 128: enhanced erase supported; on an SSD recorded as Clear",
            a.security_frozen);
      }
      add(WipeMethod::ata_security_erase, NistLevel::clear,
          "IDENTIFY word 128: security feature set supported", a.security_frozen);
    }
  } else if (f.transport == "mmc" && f.mmc) {
    // SANITIZE purges the unmapped blocks, so everything is unmapped (discarded) first
    // (JESD84-B51 6.6.24).
    if (f.mmc->sanitize)
      add(WipeMethod::emmc_sanitize, NistLevel::purge,
          "EXT_CSD: SANITIZE supported; discard everything, then sanitize: Purge");
    if (f.mmc->secure_erase) {
      add(WipeMethod::emmc_secure_erase, NistLevel::clear,
          "EXT_CSD: secure erase supported; it erases the mapped blocks but promises nothing for "
          "copies the wear levelling left: Clear");
    }
  }
  std::string why = "a full overwrite reaches every addressable sector: Clear";
  if (f.transport == "usb") why += " (firmware commands are never sent through USB bridges)";
  if (f.transport == "virtual") why += " (simulated disk: a file or loop device)";
  add(WipeMethod::overwrite, NistLevel::clear, why);
  return plan;
}

namespace {

std::uint64_t mix(std::uint64_t x) {  // splitmix64 finaliser
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

void add_bad(std::vector<BadRange>& v, std::uint64_t off, std::uint64_t len,
             const std::string& why) {
  if (!v.empty() && v.back().offset + v.back().length == off && v.back().error == why) {
    v.back().length += len;
  } else {
    v.push_back({off, len, why});
  }
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// The verdict on a read-back, once the writes (or the erase) are known to be fine: an
// unreadable sample or a sample that is not what it should be ("what_mismatch" says how) fails,
// too little coverage is unverified, else passed.
std::pair<std::string, std::string> judge_readback(const VerifyReport& v, double min_coverage,
                                                   std::string_view what_mismatch) {
  if (!v.read_errors.empty())
    return {"failed", "unreadable during verification at offset " +
                          std::to_string(v.read_errors.front().offset)};
  if (v.mismatch_count > 0) {
    return {"failed", std::to_string(v.mismatch_count) + " sample(s) " +
                          std::string(what_mismatch) + ", the first at offset " +
                          std::to_string(v.mismatches.front())};
  }
  if (v.coverage + 1e-9 < (v.method == "full" ? 1.0 : min_coverage)) {
    return {"unverified",
            "verification covered only " + std::to_string(v.coverage * 100) + "% of the device"};
  }
  return {"passed", ""};
}

}  // namespace

void fill_pattern(std::span<std::byte> out, std::uint64_t offset, bool random, std::uint64_t seed) {
  if (!random) {
    std::memset(out.data(), 0, out.size());
    return;
  }
  std::size_t i = 0;
  // Byte p of the stream is byte (p % 8) of mix(seed + p / 8 * golden).
  auto byte_at = [&](std::uint64_t p) {
    return static_cast<std::byte>(mix(seed + (p / 8) * 0x9e3779b97f4a7c15ull) >> (8 * (p % 8)));
  };
  for (; i < out.size() && (offset + i) % 8 != 0; ++i) out[i] = byte_at(offset + i);
  for (; i + 8 <= out.size(); i += 8) {
    const std::uint64_t w = mix(seed + ((offset + i) / 8) * 0x9e3779b97f4a7c15ull);
    std::memcpy(out.data() + i, &w, 8);  // little-endian: byte k is bits 8k..8k+7
  }
  for (; i < out.size(); ++i) out[i] = byte_at(offset + i);
}

namespace {

struct Sample {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};

// Where a verification reads: every block (full), or stratified samples: the device is cut
// into n equal strata and each gives one sample at a seeded random place, so the samples
// spread over the whole device; the first and last samples sit at its very start and end.
std::vector<Sample> plan_samples(std::uint64_t size, const OverwriteOptions& o, std::uint64_t seed,
                                 std::string& method) {
  const std::uint64_t sector = std::max<std::uint32_t>(o.sector, 512);
  const double want = o.min_coverage * static_cast<double>(size);
  std::vector<Sample> plan;
  if (o.full_verify || want <= static_cast<double>(o.min_samples) * static_cast<double>(sector)) {
    method = "full";
    for (std::uint64_t off = 0; off < size; off += o.block)
      plan.push_back({off, std::min<std::uint64_t>(o.block, size - off)});
    return plan;
  }
  method = "sampled";
  std::uint64_t n = o.min_samples;
  std::uint64_t len =
      (static_cast<std::uint64_t>(std::ceil(want / static_cast<double>(n))) + sector - 1) / sector *
      sector;
  if (len > o.block) {
    len = o.block / sector * sector;
    n = static_cast<std::uint64_t>(std::ceil(want / static_cast<double>(len)));
  }
  const std::uint64_t stratum = size / n / sector * sector;
  std::mt19937_64 rng(seed);
  for (std::uint64_t k = 0; k < n; ++k) {
    std::uint64_t off;
    if (k == 0) {
      off = 0;
    } else if (k + 1 == n) {
      off = (size - len) / sector * sector;
    } else {
      off = k * stratum + (stratum > len ? rng() % ((stratum - len) / sector + 1) * sector : 0);
    }
    plan.push_back({off, std::min(len, size - off)});
  }
  return plan;
}

// What one sample showed: unreadable sectors (each checked on its own, so the rest of the
// sample still counts) and the offsets of the parts that were not as expected.
struct SampleFinding {
  std::vector<BadRange> unreadable;
  std::vector<std::uint64_t> mismatches;
  std::uint64_t bytes_checked = 0;
};

SampleFinding check_sample(
    BlockDevice& dev, Sample smp, std::uint64_t sector, AlignedBuffer& buf,
    const std::function<bool(std::span<const std::byte>, std::uint64_t)>& expect) {
  SampleFinding f;
  if (dev.read_at(smp.offset, buf.first(smp.length))) {
    if (!expect(buf.first(smp.length), smp.offset)) f.mismatches.push_back(smp.offset);
    f.bytes_checked = smp.length;
    return f;
  }
  for (std::uint64_t s = smp.offset; s < smp.offset + smp.length; s += sector) {
    const std::uint64_t l = std::min(sector, smp.offset + smp.length - s);
    auto one = dev.read_at(s, buf.first(l));
    if (!one) {
      add_bad(f.unreadable, s, l, one.error().message);
    } else if (!expect(buf.first(l), s)) {
      f.mismatches.push_back(s);
    }
    f.bytes_checked += l;
  }
  return f;
}

}  // namespace

VerifyReport verify_device(
    BlockDevice& dev, const OverwriteOptions& o,
    const std::function<bool(std::span<const std::byte>, std::uint64_t)>& expect) {
  VerifyReport v;
  const std::uint64_t size = dev.size();
  const std::uint64_t sector = std::max<std::uint32_t>(o.sector, 512);
  v.seed = o.verify_seed ? *o.verify_seed
                         : std::random_device{}() |
                               (static_cast<std::uint64_t>(std::random_device{}()) << 32);
  const auto plan = plan_samples(size, o, v.seed, v.method);
  v.sample_bytes = v.method == "full" ? o.block : (plan.empty() ? 0 : plan.front().length);
  // Several reads in flight (a device answers a queue of random reads faster than one at a
  // time); each sample's finding has its own slot, so the report lists them in device order
  // whichever reader finished first.
  std::vector<SampleFinding> found(plan.size());
  std::atomic<std::size_t> next{0}, checked{0};
  std::atomic<bool> stopped{false};
  const unsigned readers = static_cast<unsigned>(
      std::clamp<std::size_t>(o.readers, 1, std::max<std::size_t>(plan.size(), 1)));
  detail::run_threads(
      readers,
      [&](unsigned) {
        AlignedBuffer buf(o.block, true);
        for (std::size_t k; (k = next.fetch_add(1)) < plan.size();) {
          if (o.stop && o.stop->load()) {
            stopped = true;
            return;
          }
          found[k] = check_sample(dev, plan[k], sector, buf, expect);
          ++checked;
        }
      },
      [&] {
        if (o.progress)
          o.progress(v.method == "full" ? "verifying (full)" : "verifying (sampled)",
                     checked.load(), plan.size());
      });
  for (const auto& f : found) {
    for (const auto& b : f.unreadable) add_bad(v.read_errors, b.offset, b.length, b.error);
    for (const auto off : f.mismatches) {
      if (v.mismatches.size() < 100) v.mismatches.push_back(off);
      ++v.mismatch_count;
    }
    v.bytes_checked += f.bytes_checked;
  }
  v.samples = stopped ? checked.load() : plan.size();
  v.coverage = size ? static_cast<double>(v.bytes_checked) / static_cast<double>(size) : 0;
  return v;
}

Result<OverwriteReport> overwrite_device(BlockDevice& dev, const OverwriteOptions& o) {
  if (o.block == 0 || o.block % 4096 != 0)
    return make_error(Errc::invalid_input, "overwrite block size must be a multiple of 4096");
  if (o.writers == 0) return make_error(Errc::invalid_input, "overwrite needs at least one writer");
  OverwriteReport r;
  r.pattern = o.random_pattern ? "prng" : "zeros";
  r.bytes = dev.size();
  const std::uint64_t size = dev.size();
  const std::uint64_t sector = std::max<std::uint32_t>(o.sector, 512);
  const auto t0 = std::chrono::steady_clock::now();
  // Writers take the next block in turn, each with its own aligned buffer: a couple of writes
  // in flight keep a direct-I/O device busy (and the PRNG fill runs in parallel).
  std::atomic<std::uint64_t> next{0}, written{0}, done{0};
  std::atomic<bool> gave_up{false}, stopped{false};
  std::mutex mu;
  std::vector<BadRange> bad;
  // Zeros never change: every writer sends the same read-only buffer. A PRNG block is made
  // per write, in the writer's own buffer, while the other writers' writes are in flight.
  std::unique_ptr<AlignedBuffer> zeros;
  if (!o.random_pattern) zeros = std::make_unique<AlignedBuffer>(o.block, true);
  auto writer = [&](unsigned) {
    std::unique_ptr<AlignedBuffer> own;
    if (o.random_pattern) own = std::make_unique<AlignedBuffer>(o.block, true);
    AlignedBuffer& buf = own ? *own : *zeros;
    for (std::uint64_t off; !gave_up && (off = next.fetch_add(o.block)) < size;) {
      if (o.stop && o.stop->load()) {
        stopped = true;
        return;
      }
      const std::uint64_t len = std::min<std::uint64_t>(o.block, size - off);
      if (o.random_pattern) fill_pattern(buf.first(len), off, true, o.seed);
      if (dev.write_at(off, buf.first(len))) {
        written += len;
      } else {
        // Isolate the bad sectors, record them and write everything around them.
        for (std::uint64_t s = off; s < off + len; s += sector) {
          const std::uint64_t l = std::min(sector, off + len - s);
          auto one = dev.write_at(s, std::span<const std::byte>(buf.data() + (s - off), l));
          if (one) {
            written += l;
            continue;
          }
          std::lock_guard lock(mu);
          bad.push_back({s, l, one.error().message});
          if (bad.size() > o.max_bad_ranges) {
            gave_up = true;
            break;
          }
        }
      }
      done += len;
    }
  };
  detail::run_threads(o.writers, writer, [&] {
    if (o.progress) o.progress("overwriting", done.load(), size);
  });
  if (stopped)
    return make_error(Errc::cancelled, "wipe stopped at offset " + std::to_string(done.load()));
  std::sort(bad.begin(), bad.end(),
            [](const BadRange& x, const BadRange& y) { return x.offset < y.offset; });
  for (const auto& b : bad) add_bad(r.write_errors, b.offset, b.length, b.error);
  r.bytes_written = written.load();
  const bool gave_up_early = gave_up.load();
  if (auto f = dev.flush(); !f) add_bad(r.write_errors, 0, 0, "flush: " + f.error().message);
  r.write_seconds = seconds_since(t0);
  const auto t1 = std::chrono::steady_clock::now();
  r.verify = verify_device(dev, o, [&](std::span<const std::byte> got, std::uint64_t off) {
    if (!o.random_pattern) return detail::all_zero(got);
    // Called by several readers at once: each compares through its own small scratch piece.
    std::array<std::byte, 4096> want;
    for (std::size_t at = 0; at < got.size(); at += want.size()) {
      const std::size_t n = std::min(want.size(), got.size() - at);
      fill_pattern(std::span(want).first(n), off + at, true, o.seed);
      if (std::memcmp(got.data() + at, want.data(), n) != 0) return false;
    }
    return true;
  });
  r.verify_seconds = seconds_since(t1);
  if (o.stop && o.stop->load()) return make_error(Errc::cancelled, "wipe stopped while verifying");
  if (!r.write_errors.empty()) {
    r.result = "failed";
    r.reason = std::to_string(r.write_errors.size()) +
               " unwritable range(s), the first at offset " +
               std::to_string(r.write_errors.front().offset) + ": " + r.write_errors.front().error +
               (gave_up_early ? " (stopped: too many bad sectors, the drive is failing)" : "");
  } else {
    std::tie(r.result, r.reason) =
        judge_readback(r.verify, o.min_coverage, "did not read back as written");
  }
  return r;
}

namespace {
bool holds_canary(std::span<const std::byte> got, std::uint32_t block) {
  for (std::size_t at = 0; at + 16 <= got.size(); at += block) {
    if (std::memcmp(got.data() + at, kCanaryMagic, 16) == 0) return true;
  }
  return false;
}
}  // namespace

Result<CanarySet> place_canaries(BlockDevice& dev, std::uint64_t seed, unsigned count) {
  CanarySet c;
  c.seed = seed;
  const std::uint64_t blocks = dev.size() / c.block;
  if (blocks == 0)
    return make_error(Errc::invalid_input, "the device is smaller than one canary block");
  count = static_cast<unsigned>(std::min<std::uint64_t>(count, blocks));
  AlignedBuffer buf(c.block);
  for (unsigned i = 0; i < count; ++i) {
    // Spread evenly, first and last block included, each shifted by the seed inside its stride.
    const std::uint64_t stride = blocks / count;
    const std::uint64_t b =
        i == count - 1 ? blocks - 1 : i * stride + (stride > 1 ? (seed >> (i % 48)) % stride : 0);
    const std::uint64_t off = b * c.block;
    fill_pattern(buf.first(c.block), off, true, seed);
    std::memcpy(buf.first(16).data(), kCanaryMagic, 16);
    REVIVE_TRY(dev.write_at(off, buf.first(c.block)));
    c.offsets.push_back(off);
  }
  REVIVE_TRY(dev.flush());
  return c;
}

FirmwareVerifyReport verify_firmware_erase(BlockDevice& dev, const CanarySet& canaries,
                                           bool expect_uniform, const OverwriteOptions& o) {
  FirmwareVerifyReport r;
  const auto t0 = std::chrono::steady_clock::now();
  AlignedBuffer buf(canaries.block);
  r.canaries = static_cast<unsigned>(canaries.offsets.size());
  std::string canary_problem;
  for (const auto off : canaries.offsets) {
    auto rd = dev.read_at(off, buf.first(canaries.block));
    if (!rd) {
      canary_problem =
          "canary at offset " + std::to_string(off) + " is unreadable: " + rd.error().message;
    } else if (holds_canary(buf.first(canaries.block), canaries.block)) {
      ++r.canaries_surviving;
    }
  }
  r.verify = verify_device(dev, o, [&](std::span<const std::byte> got, std::uint64_t) {
    if (holds_canary(got, canaries.block)) return false;
    if (!expect_uniform) return true;
    const std::byte first = got.empty() ? std::byte{0} : got[0];
    if (first != std::byte{0} && first != std::byte{0xff}) return false;
    return std::all_of(got.begin(), got.end(), [&](std::byte b) { return b == first; });
  });
  r.seconds = seconds_since(t0);
  if (r.canaries_surviving > 0) {
    r.result = "failed";
    r.reason = std::to_string(r.canaries_surviving) + " of " + std::to_string(r.canaries) +
               " canaries written before the erase are still there: the drive did not erase";
  } else if (!canary_problem.empty()) {
    r.result = "failed";
    r.reason = canary_problem;
  } else {
    std::tie(r.result, r.reason) = judge_readback(r.verify, o.min_coverage, "do not look erased");
  }
  return r;
}

}  // namespace revive::agent
