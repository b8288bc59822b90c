#pragma once
// The disk the agent works on, behind one seam: deploy writes the image through it, wipe
// overwrites and reads back, fit and provision read partition tables and file systems. One
// implementation serves regular files (simulation, tests) and block devices (laptops, loop
// devices in privileged tests) alike.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>

#include "revive/error.hpp"

namespace revive::agent {

class BlockDevice {
 public:
  virtual ~BlockDevice() = default;
  /// Size in bytes. Never fails (known at open).
  virtual std::uint64_t size() const = 0;
  /// Writes all of `data` at `offset`; error naming the device and offset.
  virtual Result<void> write_at(std::uint64_t offset, std::span<const std::byte> data) = 0;
  /// Makes every write durable (fdatasync); io naming the device otherwise.
  virtual Result<void> flush() = 0;
  /// Reads `out.size()` bytes at `offset` (for verification); error naming the device and
  /// offset, also when the device ends first.
  virtual Result<void> read_at(std::uint64_t offset, std::span<std::byte> out) = 0;
  /// Makes [offset, offset+length) read as zeros: punches a hole where the device guarantees
  /// zeros for it (files; block devices with WRITE ZEROES/deterministic discard), else zero-range,
  /// else writes zeros. Never a plain discard, which does not promise zeros. Error naming the
  /// device and offset.
  virtual Result<void> zero_range(std::uint64_t offset, std::uint64_t length) = 0;
};

struct DeviceOpenOptions {
  /// Aligned I/O bypasses the page cache (O_DIRECT) where the file system allows it; unaligned
  /// I/O and file systems without O_DIRECT (tmpfs) fall back to buffered I/O.
  bool direct = false;
  /// Nobody else may use the device meanwhile: O_EXCL on block devices (the kernel refuses a
  /// mounted or otherwise claimed device), flock on files. busy otherwise.
  bool exclusive = false;
};

/// Opens a regular file or a block device read-write; one code path for both. invalid_input for
/// anything else, busy when `exclusive` and someone holds it, io otherwise.
Result<std::unique_ptr<BlockDevice>> open_block_device(const std::filesystem::path& path,
                                                       DeviceOpenOptions o = {});

}  // namespace revive::agent
