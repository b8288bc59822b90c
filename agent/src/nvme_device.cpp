#include "revive/agent/nvme_device.hpp"

#include <linux/nvme_ioctl.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace revive::agent {

namespace {

class LinuxNvmeAdmin final : public NvmeAdmin {
 public:
  LinuxNvmeAdmin(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}

  Result<void> admin(const NvmeAdminCommand& c) override {
    nvme_admin_cmd cmd{};
    cmd.opcode = c.opcode;
    cmd.nsid = c.nsid;
    cmd.cdw10 = c.cdw10;
    cmd.cdw11 = c.cdw11;
    cmd.addr = reinterpret_cast<std::uint64_t>(c.data.data());
    cmd.data_len = static_cast<std::uint32_t>(c.data.size());
    cmd.timeout_ms = static_cast<std::uint32_t>(c.timeout.count());
    const int rc = ::ioctl(fd_, NVME_IOCTL_ADMIN_CMD, &cmd);
    if (rc < 0)
      return errno_error(errno, name_ + ": NVMe admin command " + std::to_string(c.opcode));
    if (rc > 0) {  // the controller's status: SCT/SC (+ DNR, More)
      return make_error(Errc::unsupported, name_ + ": the controller rejected admin command 0x" +
                                               hex(c.opcode) + " with status 0x" +
                                               hex(static_cast<unsigned>(rc) & 0x7ff));
    }
    return {};
  }

  Result<std::uint32_t> namespace_id() override {
    const int id = ::ioctl(fd_, NVME_IOCTL_ID);
    if (id < 0) return errno_error(errno, name_ + ": NVME_IOCTL_ID (not an NVMe namespace?)");
    return static_cast<std::uint32_t>(id);
  }

 private:
  static std::string hex(unsigned v) {
    char b[16];
    std::snprintf(b, sizeof b, "%x", v);
    return b;
  }
  int fd_;
  std::string name_;
};

}  // namespace

std::unique_ptr<NvmeAdmin> linux_nvme_admin(int fd, std::string name) {
  return std::make_unique<LinuxNvmeAdmin>(fd, std::move(name));
}

Result<sanitize::NvmeController> nvme_identify_controller(NvmeAdmin& a) {
  std::vector<std::uint8_t> buf(4096);
  REVIVE_TRY(a.admin({sanitize::kNvmeOpIdentify, 0, 1, 0, buf}));
  auto c = sanitize::parse_nvme_identify_controller(buf);
  if (!c)
    return make_error(Errc::corrupt, "NVMe Identify Controller returned an unusable structure");
  return *c;
}

Result<sanitize::NvmeNamespace> nvme_identify_namespace(NvmeAdmin& a, std::uint32_t nsid) {
  std::vector<std::uint8_t> buf(4096);
  REVIVE_TRY(a.admin({sanitize::kNvmeOpIdentify, nsid, 0, 0, buf}));
  auto n = sanitize::parse_nvme_identify_namespace(buf);
  if (!n)
    return make_error(Errc::corrupt, "NVMe Identify Namespace returned an unusable structure");
  return *n;
}

Result<sanitize::NvmeSanitizeStatus> nvme_sanitize_status(NvmeAdmin& a) {
  std::vector<std::uint8_t> buf(512);
  REVIVE_TRY(
      a.admin({sanitize::kNvmeOpGetLogPage, 0xffffffffu,
               sanitize::nvme_get_log_cdw10(sanitize::kNvmeLogSanitizeStatus, 512), 0, buf}));
  auto s = sanitize::parse_nvme_sanitize_status(buf);
  if (!s) return make_error(Errc::corrupt, "NVMe Sanitize Status log is unusable");
  return *s;
}

Result<void> nvme_format(NvmeAdmin& a, std::uint32_t nsid, const sanitize::NvmeNamespace& ns,
                         unsigned ses, std::chrono::milliseconds timeout) {
  NvmeAdminCommand c;
  c.opcode = sanitize::kNvmeOpFormatNvm;
  c.nsid = nsid;
  c.cdw10 = sanitize::nvme_format_cdw10(ns.lbaf, ses);
  c.timeout = timeout;
  return a.admin(c);
}

Result<sanitize::NvmeSanitizeStatus> nvme_sanitize(
    NvmeAdmin& a, sanitize::NvmeSanitizeAction action, std::chrono::seconds timeout,
    const std::function<void(double)>& progress,
    const std::function<void(std::chrono::milliseconds)>& sleep) {
  NvmeAdminCommand c;
  c.opcode = sanitize::kNvmeOpSanitize;
  c.cdw10 = sanitize::nvme_sanitize_cdw10(action);
  REVIVE_TRY(a.admin(c));
  // The command returns at once; the drive works in the background. Poll the status log.
  const auto step = std::chrono::milliseconds(1000);
  for (std::chrono::milliseconds waited{0}; waited < timeout; waited += step) {
    auto s = nvme_sanitize_status(a);
    if (!s) return s.error();
    if (s->state == sanitize::SanitizeState::in_progress) {
      if (progress) progress(s->progress);
      sleep(step);
      continue;
    }
    if (s->state == sanitize::SanitizeState::failed)
      return make_error(Errc::io, "the drive reports that the sanitize failed");
    if (s->state == sanitize::SanitizeState::succeeded ||
        s->state == sanitize::SanitizeState::succeeded_no_deallocate) {
      if (progress) progress(1.0);
      return *s;
    }
    return make_error(Errc::io, "the Sanitize Status log does not report a completed sanitize");
  }
  return make_error(
      Errc::io, "the sanitize did not complete within " + std::to_string(timeout.count()) + " s");
}

}  // namespace revive::agent
