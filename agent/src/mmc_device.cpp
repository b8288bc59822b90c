#include "revive/agent/mmc_device.hpp"

#include <linux/fs.h>
#include <linux/mmc/ioctl.h>
#include <sys/ioctl.h>

#include <cerrno>

#include "revive/agent/sanitize.hpp"

namespace revive::agent {

namespace {

// Response and command flags from the kernel's linux/mmc/core.h, which is not exported to user
// space (mmc-utils defines them the same way).
constexpr unsigned kRspPresent = 1u << 0;
constexpr unsigned kRspCrc = 1u << 2;
constexpr unsigned kRspBusy = 1u << 3;
constexpr unsigned kRspOpcode = 1u << 4;
constexpr unsigned kCmdAc = 0u << 5;
constexpr unsigned kCmdAdtc = 1u << 5;
constexpr unsigned kRspSpiS1 = 1u << 7;
constexpr unsigned kRspSpiBusy = 1u << 10;
constexpr unsigned kRspR1 = kRspPresent | kRspCrc | kRspOpcode;
constexpr unsigned kRspR1b = kRspR1 | kRspBusy;

class LinuxMmc final : public MmcCommands {
 public:
  LinuxMmc(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}

  Result<void> read_ext_csd(std::span<std::uint8_t> out) override {
    mmc_ioc_cmd c{};
    c.opcode = sanitize::kMmcSendExtCsd;
    c.flags = kRspSpiS1 | kRspR1 | kCmdAdtc;
    c.blksz = 512;
    c.blocks = 1;
    c.data_ptr = reinterpret_cast<std::uintptr_t>(out.data());
    return call(MMC_IOC_CMD, &c, "SEND_EXT_CSD");
  }
  Result<void> discard(std::uint64_t bytes) override {
    std::uint64_t range[2] = {0, bytes};
    return call(BLKDISCARD, range, "BLKDISCARD");
  }
  Result<void> secure_discard(std::uint64_t bytes) override {
    std::uint64_t range[2] = {0, bytes};
    return call(BLKSECDISCARD, range, "BLKSECDISCARD");
  }
  Result<void> sanitize(std::chrono::milliseconds timeout) override {
    mmc_ioc_cmd c{};
    c.write_flag = 1;
    c.opcode = sanitize::kMmcSwitch;
    c.arg = sanitize::mmc_switch_arg(sanitize::kExtCsdSanitizeStart, 1);
    c.flags = kRspSpiS1 | kRspSpiBusy | kRspR1b | kCmdAc;
    c.cmd_timeout_ms = static_cast<unsigned>(timeout.count());
    return call(MMC_IOC_CMD, &c, "SANITIZE");
  }

 private:
  Result<void> call(unsigned long request, void* arg, const char* what) {
    if (::ioctl(fd_, request, arg) == 0) return {};
    const int e = errno;
    Error err = errno_error(e, name_ + ": " + what);
    if (e == EOPNOTSUPP || e == EINVAL || e == ENOTTY) err.code = Errc::unsupported;
    return err;
  }
  int fd_;
  std::string name_;
};

}  // namespace

std::unique_ptr<MmcCommands> linux_mmc_commands(int fd, std::string name) {
  return std::make_unique<LinuxMmc>(fd, std::move(name));
}

}  // namespace revive::agent
