#pragma once
// eMMC erase commands on a real device (MMC_IOC_CMD and the block discard ioctls on its
// mmcblkN device), behind a small interface so the erase sequences can be tested with a fake.
// The encodings are in sanitize.hpp.

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "revive/error.hpp"

namespace revive::agent {

/// Error: Errc::unsupported when the device or its host controller does not offer the command
/// (EOPNOTSUPP, EINVAL), Errc::io otherwise.
class MmcCommands {
 public:
  virtual ~MmcCommands() = default;
  /// CMD8 SEND_EXT_CSD into `out` (512 bytes).
  virtual Result<void> read_ext_csd(std::span<std::uint8_t> out) = 0;
  /// Unmaps the first `bytes` of the user area (BLKDISCARD).
  virtual Result<void> discard(std::uint64_t bytes) = 0;
  /// Secure erase/trim of the first `bytes` (BLKSECDISCARD).
  virtual Result<void> secure_discard(std::uint64_t bytes) = 0;
  /// CMD6 SANITIZE_START; returns when the device reports it done (R1b busy).
  virtual Result<void> sanitize(std::chrono::milliseconds timeout) = 0;
};

/// Commands through the mmcblkN block device `fd` (the caller keeps it open).
std::unique_ptr<MmcCommands> linux_mmc_commands(int fd, std::string name);

}  // namespace revive::agent
