#pragma once
// Internal to the import (core/src/image_import.cpp): what an import reads, and the checks that
// refuse it before (or, for an encrypted partition, while) its chunks are stored, each naming
// the file and what to do.

#include <sys/statvfs.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "revive/error.hpp"
#include "revive/image_ops.hpp"
#include "revive/image_probe.hpp"
#include "revive/image_store.hpp"

namespace revive::detail {

/// What an import reads, whatever it comes from.
struct ImportPlan {
  std::string file;             ///< named in messages
  std::string manifest_source;  ///< "raw:disk.img", "qcow2:vm.qcow2"...
  std::uint64_t size = 0;
  std::uint64_t data_estimate = 0;
  std::vector<std::byte> head;
  std::vector<std::byte> tail;  ///< the last sector, where only it is cheap to read (files)
  PartitionTable table;
};

inline std::string size_text(std::uint64_t bytes) {
  const bool gib = bytes >= (1ull << 30);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f %s (%llu bytes)",
                static_cast<double>(bytes) / static_cast<double>(gib ? 1ull << 30 : 1ull << 20),
                gib ? "GiB" : "MiB", static_cast<unsigned long long>(bytes));
  return buf;
}

inline Result<void> check_request(const ImageStore& store, const ImportOptions& opts) {
  REVIVE_TRY(validate_image_name(opts.name));
  const std::uint64_t chunk = opts.chunk_size;
  if (chunk < kMinChunkSize || chunk > kMaxChunkSize || (chunk & (chunk - 1)) != 0) {
    return make_error(Errc::invalid_input, "chunk size " + std::to_string(chunk) +
                                               " must be a power of two from 64 KiB to 64 MiB");
  }
  if (!opts.replace && std::filesystem::exists(store.manifest_path(opts.name))) {
    return make_error(Errc::already_exists, "an image named \"" + opts.name +
                                                "\" already exists (use --replace to replace it)");
  }
  return {};
}

inline Result<std::uint64_t> statvfs_free_bytes(const std::filesystem::path& dir) {
  struct statvfs v {};
  if (::statvfs(dir.c_str(), &v) != 0) return errno_error(errno, "statvfs " + dir.string());
  return static_cast<std::uint64_t>(v.f_bavail) * v.f_frsize;
}

// Refuses before the first chunk is written, so a store is not filled to the brim for nothing.
inline Result<void> check_free_space(const ImageStore& store, const ImportPlan& plan,
                                     const ImportOptions& opts) {
  if (!opts.check_free_space) return {};
  auto free = opts.free_space ? opts.free_space(store.root()) : statvfs_free_bytes(store.root());
  if (!free) return free.error();
  if (plan.data_estimate <= *free) return {};
  return make_error(Errc::no_space,
                    plan.file + " needs up to " + size_text(plan.data_estimate) +
                        " in the store (its data before compression), but the store " +
                        store.root().string() + " has only " + size_text(*free) +
                        " free: remove images (`revivectl image rm`, then `gc`) or use a store "
                        "on a bigger disk (--no-space-check tries anyway: compressible or "
                        "already stored data needs less)");
}

inline Result<void> check_content(const ImportPlan& plan, const ImportOptions& opts) {
  if (opts.raw) return {};
  ContentProbe probe = probe_image_content(plan.head, plan.size);
  if (auto vhd = probe_image_tail(plan.tail)) probe = *vhd;
  if (auto why = raw_import_refusal(probe, plan.size, plan.file)) {
    return make_error(Errc::invalid_input, *why);
  }
  return {};
}

// An encrypted partition in an otherwise plain disk: found when the chunk holding its first
// sector passes through a worker, so it costs no extra read for files or streams.
inline Result<void> check_partition_starts(const ImportPlan& plan, std::uint64_t off,
                                           std::span<const std::byte> data) {
  for (const auto& p : plan.table.partitions) {
    const std::uint64_t start = p.first_lba * plan.table.sector_size;
    if (start < off || start + 512 > off + data.size()) continue;
    if (auto enc = detect_encryption(data.subspan(start - off, 512))) {
      return make_error(Errc::invalid_input,
                        plan.file + ": partition " + std::to_string(p.number) + " (at byte " +
                            std::to_string(start) + ") is a " + *enc +
                            " encrypted volume: recipients could not open it without its key. "
                            "Decrypt it before imaging or build the image from a recipe "
                            "(--raw imports the bytes as they are)");
    }
  }
  return {};
}

}  // namespace revive::detail
