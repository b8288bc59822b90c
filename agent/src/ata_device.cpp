#include "revive/agent/ata_device.hpp"

#include <scsi/sg.h>
#include <sys/ioctl.h>

#include <array>
#include <cerrno>
#include <cstdio>

namespace revive::agent {

using sanitize::AtaCommand;
using sanitize::AtaRegisters;

namespace {

std::string hex2(unsigned v) {
  char b[8];
  std::snprintf(b, sizeof b, "%02x", v & 0xFFu);
  return b;
}

std::string command_name(const AtaCommand& c) {
  switch (c.command) {
    case sanitize::kAtaIdentify:
      return "IDENTIFY DEVICE";
    case sanitize::kAtaSanitize:
      return c.features == sanitize::kAtaSanitizeStatus ? "SANITIZE STATUS EXT" : "SANITIZE";
    case sanitize::kAtaSecuritySetPassword:
      return "SECURITY SET PASSWORD";
    case sanitize::kAtaSecurityUnlock:
      return "SECURITY UNLOCK";
    case sanitize::kAtaSecurityErasePrepare:
      return "SECURITY ERASE PREPARE";
    case sanitize::kAtaSecurityEraseUnit:
      return "SECURITY ERASE UNIT";
    case sanitize::kAtaSecurityDisablePassword:
      return "SECURITY DISABLE PASSWORD";
    case sanitize::kAtaReadNativeMaxExt:
      return "READ NATIVE MAX ADDRESS EXT";
    case sanitize::kAtaAccessibleMaxAddressConfig:
      return "GET NATIVE MAX ADDRESS EXT";
    case sanitize::kAtaDeviceConfiguration:
      return "DEVICE CONFIGURATION IDENTIFY";
    default:
      return "ATA command " + hex2(c.command) + "h";
  }
}

class LinuxAtaPassThrough final : public AtaPassThrough {
 public:
  LinuxAtaPassThrough(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}

  Result<AtaRegisters> command(const AtaCommand& c, std::span<std::uint8_t> in,
                               std::span<const std::uint8_t> out,
                               std::chrono::milliseconds timeout) override {
    auto cdb = sanitize::ata_pass_through_16(c);
    std::array<std::uint8_t, 64> sense{};
    sg_io_hdr_t h{};
    h.interface_id = 'S';
    h.cmd_len = static_cast<unsigned char>(cdb.size());
    h.cmdp = cdb.data();
    h.mx_sb_len = static_cast<unsigned char>(sense.size());
    h.sbp = sense.data();
    h.dxfer_direction = SG_DXFER_NONE;
    if (!in.empty()) {
      h.dxfer_direction = SG_DXFER_FROM_DEV;
      h.dxferp = in.data();
      h.dxfer_len = static_cast<unsigned>(in.size());
    } else if (!out.empty()) {
      h.dxfer_direction = SG_DXFER_TO_DEV;
      h.dxferp = const_cast<std::uint8_t*>(out.data());  // SG_IO only reads it for TO_DEV
      h.dxfer_len = static_cast<unsigned>(out.size());
    }
    h.timeout = static_cast<unsigned>(timeout.count());
    const std::string what = name_ + ": " + command_name(c);
    if (::ioctl(fd_, SG_IO, &h) < 0) return errno_error(errno, what + " (SG_IO)");
    const std::span<const std::uint8_t> sb(sense.data(), h.sb_len_wr);
    const auto regs = sanitize::parse_ata_sense(sb);
    constexpr unsigned kDriverSense = 0x08;
    if (h.host_status != 0 || (h.driver_status & ~kDriverSense) != 0) {
      return make_error(Errc::io, what + ": transport error (host status 0x" + hex2(h.host_status) +
                                      ", driver status 0x" + hex2(h.driver_status) + ")");
    }
    if (regs && regs->device_error()) {
      return make_error(Errc::unsupported, what + ": the drive aborted it (status 0x" +
                                               hex2(regs->status) + ", error 0x" +
                                               hex2(regs->error) + ")");
    }
    constexpr unsigned kCheckCondition = 0x02;
    if (h.status == kCheckCondition && !regs) {
      const auto key = sanitize::sense_key(sb);
      if (key && *key == 0x05) {
        return make_error(
            Errc::unsupported,
            what + ": the SCSI layer does not pass ATA commands to this drive (ILLEGAL REQUEST)");
      }
      return make_error(Errc::io,
                        what + ": CHECK CONDITION, sense key 0x" + hex2(key.value_or(0xFF)));
    }
    if (h.status != 0 && h.status != kCheckCondition)
      return make_error(Errc::io, what + ": SCSI status 0x" + hex2(h.status));
    return regs.value_or(AtaRegisters{});
  }

 private:
  int fd_;
  std::string name_;
};

std::string sectors_text(std::uint64_t n) {
  char b[64];
  std::snprintf(b, sizeof b, "%llu sectors (%.1f MB)", static_cast<unsigned long long>(n),
                static_cast<double>(n) * 512 / 1e6);
  return b;
}

}  // namespace

std::unique_ptr<AtaPassThrough> linux_ata_pass_through(int fd, std::string name) {
  return std::make_unique<LinuxAtaPassThrough>(fd, std::move(name));
}

Result<sanitize::AtaIdentity> ata_identify_device(AtaPassThrough& a) {
  std::array<std::uint8_t, 512> buf{};
  REVIVE_TRY(a.command(sanitize::ata_identify(), buf, {}, std::chrono::seconds(30)));
  auto id = sanitize::parse_ata_identify(buf);
  if (!id) return make_error(Errc::corrupt, "IDENTIFY DEVICE data failed its integrity check");
  return *id;
}

std::string HiddenArea::summary() const {
  std::string s = "HPA: ";
  if (!native) {
    s += "not checked (" + hpa_note + ")";
  } else if (hpa_hidden() > 0) {
    s += "hides " + sectors_text(hpa_hidden()) + " beyond the " + std::to_string(accessible) +
         " the system sees";
  } else {
    s += "none (" +
         (hpa_note.empty() ? "native max = accessible = " + std::to_string(accessible) + " sectors"
                           : hpa_note) +
         ")";
  }
  s += "; DCO: ";
  if (!dco_max) {
    s += dco_note;
  } else if (dco_hidden() > 0) {
    s += "hides " + sectors_text(dco_hidden()) + " beyond the native max";
  } else {
    s += "none (overlay allows " + std::to_string(*dco_max) + " sectors)";
  }
  return s;
}

HiddenArea ata_hidden_area(AtaPassThrough& a, const sanitize::AtaIdentity& id) {
  HiddenArea h;
  h.accessible = id.sectors;
  // Asked even when IDENTIFY does not announce the HPA feature set: some drives misreport it,
  // and the answer is read-only. A drive that aborts it has no HPA.
  if (!id.lba48) {
    if (id.hpa_supported) h.hpa_note = "the drive has no 48-bit addressing";
  } else {
    std::string why;
    for (const auto& cmd :
         {sanitize::ata_read_native_max_ext(), sanitize::ata_get_native_max_address_ext()}) {
      auto r = a.command(cmd, {}, {}, std::chrono::seconds(30));
      if (r && r->complete && r->lba > 0) {
        h.native = r->lba + 1;  // the native max *address*: the last LBA
        break;
      }
      why = !r             ? r.error().message
            : !r->complete ? command_name(cmd) +
                                 ": the kernel's fixed-format sense cannot carry a 48-bit address"
                           : command_name(cmd) + ": no address returned";
    }
    if (!h.native) h.hpa_note = why;
  }
  if (!h.native && !id.hpa_supported) {
    h.native = id.sectors;  // without the feature set nothing can be hidden by it
    h.hpa_note = "the drive has no HPA feature set";
  }
  if (!id.dco_supported) {
    h.dco_note = "not supported by the drive";
  } else {
    std::array<std::uint8_t, 512> buf{};
    auto r = a.command(sanitize::ata_dco_identify(), buf, {}, std::chrono::seconds(30));
    if (!r) {
      h.dco_note = "not checked (" + r.error().message + "; the overlay may be frozen)";
    } else if (auto max = sanitize::parse_dco_identify(buf)) {
      h.dco_max = *max + 1;
    } else {
      h.dco_note = "not checked (DEVICE CONFIGURATION IDENTIFY data is malformed)";
    }
  }
  return h;
}

Result<void> ata_sanitize(AtaPassThrough& a, const AtaCommand& start, std::chrono::seconds timeout,
                          const std::function<void(double)>& progress,
                          const std::function<void(std::chrono::milliseconds)>& sleep) {
  REVIVE_TRY(a.command(start, {}, {}, std::chrono::seconds(60)));
  // Like NVMe, the command returns at once and the drive works in the background.
  const auto step = std::chrono::milliseconds(2000);
  for (std::chrono::milliseconds waited{0}; waited < timeout; waited += step) {
    auto r = a.command(sanitize::ata_sanitize_status(), {}, {}, std::chrono::seconds(30));
    if (!r)
      return make_error(r.error().code,
                        "the drive reports that the sanitize failed: " + r.error().message);
    const auto s = sanitize::parse_ata_sanitize_status(r->count, r->lba);
    if (s.in_progress) {
      if (progress) progress(s.progress);
      sleep(step);
      continue;
    }
    if (!s.completed_ok)
      return make_error(Errc::io, "SANITIZE STATUS EXT does not report a completed sanitize");
    if (progress) progress(1.0);
    return {};
  }
  return make_error(
      Errc::io, "the sanitize did not complete within " + std::to_string(timeout.count()) + " s");
}

Result<void> ata_security_erase(AtaPassThrough& a, bool enhanced, const std::string& password,
                                std::chrono::minutes timeout, SecurityEraseLog& log) {
  const auto block = sanitize::ata_security_block(password);
  const auto erase_block = sanitize::ata_security_block(password, enhanced);
  const auto short_wait = std::chrono::seconds(30);
  auto step = [&](const AtaCommand& c, std::span<const std::uint8_t> out,
                  std::chrono::milliseconds t) -> Result<void> {
    auto r = a.command(c, {}, out, t);
    log.steps.push_back(command_name(c) + (r ? ": ok" : ": " + r.error().message));
    if (!r) return r.error();
    return {};
  };
  auto security_enabled = [&]() -> Result<bool> {
    auto id = ata_identify_device(a);
    if (!id) return id.error();
    return id->security_enabled;
  };
  // Every path out of here after SET PASSWORD goes through this: the drive must end up with
  // security disabled, or the operator must be told the password to remove it by hand.
  auto remove_password = [&](const Error& cause) -> Error {
    auto id = ata_identify_device(a);
    if (id && id->security_locked) (void)step(sanitize::ata_security_unlock(), block, short_wait);
    (void)step(sanitize::ata_security_disable_password(), block, short_wait);
    auto on = security_enabled();
    log.password_removed = on && !*on;
    if (log.password_removed)
      return make_error(cause.code, cause.message + "; the temporary password was removed again");
    return make_error(
        cause.code,
        cause.message + "; THE TEMPORARY PASSWORD \"" + password +
            "\" IS STILL SET: remove it with hdparm --user-master u --security-disable " +
            password);
  };

  if (auto r = step(sanitize::ata_security_set_password(), block, short_wait); !r) {
    if (r.error().code == Errc::unsupported) return r.error();  // refused: nothing was set
    log.password_removed = false;
    return remove_password(r.error());
  }
  log.password_removed = false;
  auto on = security_enabled();
  if (!on) return remove_password(on.error());
  if (!*on) {
    log.password_removed = true;
    return make_error(Errc::io,
                      "the drive accepted SECURITY SET PASSWORD but did not enable security");
  }
  if (auto r = step(sanitize::ata_security_erase_prepare(), {}, short_wait); !r)
    return remove_password(r.error());
  if (auto r = step(sanitize::ata_security_erase_unit(), erase_block, timeout); !r)
    return remove_password(r.error());
  // A completed erase disables security by itself; check, and clean up when it did not.
  on = security_enabled();
  if (on && !*on) {
    log.password_removed = true;
    return {};
  }
  // The erase itself completed; only the clean-up is left to do.
  const Error left = remove_password(
      on ? make_error(Errc::io, "security was still enabled after the erase") : on.error());
  if (log.password_removed) return {};
  return left;
}

}  // namespace revive::agent
