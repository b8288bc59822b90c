#pragma once
// ATA commands on a real SATA drive (SCSI ATA PASS-THROUGH(16) through SG_IO on its block
// device), behind a small interface so the erase sequences can be tested with a fake drive.
// The command encodings are in sanitize.hpp. Never used on USB-attached drives: bridges
// translate (or mistranslate) pass-through commands in ways that have bricked drives.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "revive/agent/sanitize.hpp"
#include "revive/error.hpp"

namespace revive::agent {

/// Sends ATA commands. `in` receives a PIO-in transfer, `out` is sent by a PIO-out transfer
/// (at most one of them non-empty, a multiple of 512 bytes). Returns the result registers when
/// the transport reports them (non-data commands), else zeros. Error: Errc::io for the
/// transport; Errc::unsupported when the drive aborts the command (its error register in the
/// message) or the SCSI layer refuses to pass it.
class AtaPassThrough {
 public:
  virtual ~AtaPassThrough() = default;
  virtual Result<sanitize::AtaRegisters> command(const sanitize::AtaCommand& c,
                                                 std::span<std::uint8_t> in,
                                                 std::span<const std::uint8_t> out,
                                                 std::chrono::milliseconds timeout) = 0;
};

/// ATA PASS-THROUGH(16) via SG_IO on `fd` (an sd block device; the caller keeps it open).
std::unique_ptr<AtaPassThrough> linux_ata_pass_through(int fd, std::string name);

Result<sanitize::AtaIdentity> ata_identify_device(AtaPassThrough& a);

/// Sectors hidden from the operating system: by a Host Protected Area (accessible < native max)
/// or by a Device Configuration Overlay (native max < the DCO's maximum).
struct HiddenArea {
  std::uint64_t accessible = 0;          ///< sectors the OS sees (IDENTIFY)
  std::optional<std::uint64_t> native;   ///< sectors up to the native max address
  std::optional<std::uint64_t> dco_max;  ///< sectors the DCO allows
  std::string hpa_note, dco_note;        ///< why a value is unknown
  std::uint64_t hpa_hidden() const {
    return native && *native > accessible ? *native - accessible : 0;
  }
  std::uint64_t dco_hidden() const {
    const std::uint64_t n = native.value_or(accessible);
    return dco_max && *dco_max > n ? *dco_max - n : 0;
  }
  /// One line for the certificate: "HPA: none (...); DCO: ...".
  std::string summary() const;
};
/// Asks READ NATIVE MAX ADDRESS EXT (or GET NATIVE MAX ADDRESS EXT) and DEVICE CONFIGURATION
/// IDENTIFY; a command the drive does not know leaves that value unknown, with a note.
HiddenArea ata_hidden_area(AtaPassThrough& a, const sanitize::AtaIdentity& id);

/// Starts a SANITIZE operation (`start`: BLOCK ERASE, CRYPTO SCRAMBLE or OVERWRITE) and polls
/// SANITIZE STATUS EXT until the drive reports it done. Error when the drive refuses, reports
/// the sanitize failed, or `timeout` passes.
Result<void> ata_sanitize(AtaPassThrough& a, const sanitize::AtaCommand& start,
                          std::chrono::seconds timeout, const std::function<void(double)>& progress,
                          const std::function<void(std::chrono::milliseconds)>& sleep);

/// What a SECURITY ERASE UNIT sequence did, step by step, and whether the temporary password
/// is gone again (it must be, also when the erase fails: a drive left locked is lost).
struct SecurityEraseLog {
  std::vector<std::string> steps;
  bool password_removed = true;
};
/// Sets a temporary user password, erases (normal or enhanced), checks security is disabled
/// again, and removes the password on every failure path. `timeout` bounds the erase itself.
Result<void> ata_security_erase(AtaPassThrough& a, bool enhanced, const std::string& password,
                                std::chrono::minutes timeout, SecurityEraseLog& log);

}  // namespace revive::agent
