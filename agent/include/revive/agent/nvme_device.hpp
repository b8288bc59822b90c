#pragma once
// NVMe admin commands on a real controller (NVME_IOCTL_ADMIN_CMD on the namespace's block
// device), behind a small interface so the erase sequences can be tested with a fake drive.
// The command encodings are in sanitize.hpp.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "revive/agent/sanitize.hpp"
#include "revive/error.hpp"

namespace revive::agent {

struct NvmeAdminCommand {
  std::uint8_t opcode = 0;
  std::uint32_t nsid = 0;
  std::uint32_t cdw10 = 0, cdw11 = 0;
  std::span<std::uint8_t>
      data;  ///< controller-to-host transfer (identify, log pages); may be empty
  std::chrono::milliseconds timeout{60000};
};

/// Sends admin commands. Error: Errc::io for the ioctl itself; Errc::unsupported with the NVMe
/// status code when the controller rejects the command (e.g. Invalid Field: capability absent).
class NvmeAdmin {
 public:
  virtual ~NvmeAdmin() = default;
  virtual Result<void> admin(const NvmeAdminCommand& cmd) = 0;
  /// The namespace id of the opened block device.
  virtual Result<std::uint32_t> namespace_id() = 0;
};

/// Admin commands through the namespace block device `fd` (the caller keeps it open).
std::unique_ptr<NvmeAdmin> linux_nvme_admin(int fd, std::string name);

Result<sanitize::NvmeController> nvme_identify_controller(NvmeAdmin& a);
Result<sanitize::NvmeNamespace> nvme_identify_namespace(NvmeAdmin& a, std::uint32_t nsid);
Result<sanitize::NvmeSanitizeStatus> nvme_sanitize_status(NvmeAdmin& a);

/// Format NVM of namespace `nsid` (or all namespaces when the controller formats them
/// together) with secure-erase setting `ses` (1 user data, 2 crypto), keeping the LBA format.
Result<void> nvme_format(NvmeAdmin& a, std::uint32_t nsid, const sanitize::NvmeNamespace& ns,
                         unsigned ses, std::chrono::milliseconds timeout);

/// Starts a sanitize and polls the Sanitize Status log until it completes. `progress` gets
/// 0..1; `sleep` waits between polls (tests pass a no-op).
Result<sanitize::NvmeSanitizeStatus> nvme_sanitize(
    NvmeAdmin& a, sanitize::NvmeSanitizeAction action, std::chrono::seconds timeout,
    const std::function<void(double)>& progress,
    const std::function<void(std::chrono::milliseconds)>& sleep);

}  // namespace revive::agent
