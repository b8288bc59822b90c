#pragma once
// Wipes one drive end to end and returns the evidence the server turns into its certificate:
// identify the drive, check it is the one the server's job names, pick the strongest method
// (plan_wipe), run it — NVMe Sanitize/Format through admin commands, ATA SANITIZE / SECURITY
// ERASE UNIT through SG_IO (unfreezing a frozen drive by a suspend/resume cycle), eMMC SANITIZE /
// secure erase, each proven by
// canaries and a sampled read-back, else a verified overwrite — falling back to the next method
// when the drive rejects a command. Sectors hidden by an HPA or DCO are reported, and a drive
// whose hidden sectors the method cannot reach is flagged (failed). Every refusal happens
// before anything is written.

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "revive/agent/ata_device.hpp"
#include "revive/agent/mmc_device.hpp"
#include "revive/agent/nvme_device.hpp"
#include "revive/agent/system.hpp"

namespace revive::agent {

struct DriveWipeRequest {
  std::filesystem::path device;  ///< /dev/nvme0n1, or a file / loop device in simulation
  std::string
      expected_serial;  ///< what the server's job says this drive's serial is ("" in simulation)
  nlohmann::json inventory_disk =
      nlohmann::json::object();  ///< the drive as the inventory saw it (model, SMART before)
  bool simulate = false;         ///< a file or loop device standing in for the laptop's disk
  bool random_pattern = false;
  bool full_verify = false;
  std::function<void(std::string_view stage, std::uint64_t done, std::uint64_t total)> progress;
  const std::atomic<bool>* stop = nullptr;
};

struct DriveWipeDeps {
  const MachineRoot* system = nullptr;  ///< "/": mounts and holders (disk_in_use)
  Exec* exec = nullptr;  ///< smartctl after the wipe; rtcwake to unfreeze ATA security
  /// Admin commands for an NVMe namespace (tests: a fake drive). Default: the ioctl.
  std::function<std::unique_ptr<NvmeAdmin>(int fd, const std::string& name)> nvme_admin;
  /// ATA commands for a SATA drive (tests: a fake drive). Default: SG_IO.
  std::function<std::unique_ptr<AtaPassThrough>(int fd, const std::string& name)> ata;
  /// eMMC commands (tests: a fake device). Default: MMC_IOC_CMD and the discard ioctls.
  std::function<std::unique_ptr<MmcCommands>(int fd, const std::string& name)> mmc;
  /// Waits between sanitize status polls (tests: no wait). Default: sleeps.
  std::function<void(std::chrono::milliseconds)> sleep;
};

/// Evidence for one drive (the "drives[]" element of the wipe step's result). Never throws; a
/// refusal or failure is evidence with "result": "failed" and the reason.
nlohmann::json wipe_drive(const DriveWipeRequest& req, const DriveWipeDeps& deps);

}  // namespace revive::agent
