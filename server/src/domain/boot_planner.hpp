#pragma once
// Boot planning: the one place that decides what a network-booting laptop gets, for every boot
// path (proxy/full DHCP, TFTP + GRUB for Secure Boot, iPXE over HTTP). A MAC decides only when
// it is one device's own (not shared by several, not a USB dongle's or dock's): a laptop whose
// newest run is done boots its local disk (it is not wiped again), one with work left boots the
// live agent. A MAC nobody knows gets the live agent only while intake admits it; otherwise a
// harmless answer (no offer, a script that says "not in intake" and leaves network boot). A
// shared MAC gets the live agent, whose enrolment decides who it is. Each live agent gets a
// fresh single-boot token bound to the MAC. Each decision about a known device is logged.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "boot_script.hpp"
#include "domain/context.hpp"
#include "domain/enrolment.hpp"

namespace revive::server {

struct BootPlan {
  bool local = false;    ///< boot the local disk
  bool refused = false;  ///< not in intake: no live agent, leave network boot
  std::string reason;
  /// The live agent to boot; nullopt (with !local): this server has no live image.
  std::optional<boot::LiveAgentBoot> live;
};

struct BootPlannerOptions {
  std::string kernel_args;  ///< extra kernel arguments for the live agent
  /// Why the live agent cannot be booted (no vmlinuz/initrd.img), or nullopt when it can.
  std::function<std::optional<std::string>()> live_image_missing;
};

class BootPlanner {
 public:
  BootPlanner(DomainContext& ctx, Enrolment& enrolment, Intake& intake, BootPlannerOptions opts)
      : ctx_(ctx), enrolment_(enrolment), intake_(intake), opts_(std::move(opts)) {}

  /// What the laptop with this MAC boots (`base_url`: how it reaches this server); io on a
  /// storage failure.
  Result<BootPlan> plan(const std::string& mac, const std::string& base_url);
  /// DHCP's question: false for a laptop whose run is done (its firmware should go on to the
  /// disk) and for an unknown machine outside intake; true otherwise.
  bool offer_network_boot(const std::string& mac);
  /// The iPXE script for GET /boot/MAC.ipxe (`mac` normalised).
  Result<std::string> ipxe_script(const std::string& mac, const std::string& base_url);
  /// TFTP files made per request (GRUB's main config and each laptop's own); nullopt for any
  /// other name.
  std::optional<std::string> grub_file(const std::string& name, const std::string& base_url);

 private:
  struct Decision {
    std::optional<std::int64_t> device;
    bool local = false;
    bool refused = false;
    std::string reason;
  };
  Result<Decision> decide_known(const DeviceRow& device);
  Result<Decision> decide(const std::string& mac);
  Result<void> record(std::int64_t device, const std::string& mac, const std::string& script);

  DomainContext& ctx_;
  Enrolment& enrolment_;
  Intake& intake_;
  BootPlannerOptions opts_;
};

}  // namespace revive::server
