#pragma once
// Boot planning: the one place that decides what a network-booting laptop gets, for every boot
// path (proxy/full DHCP, TFTP + GRUB for Secure Boot, iPXE over HTTP). A laptop whose newest
// run is done boots its local disk (a finished laptop that reboots is not wiped again); any
// other boots the live agent with a fresh single-boot token. Each decision is logged.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "boot_script.hpp"
#include "domain/context.hpp"
#include "domain/enrolment.hpp"

namespace revive::server {

struct BootPlan {
  bool local = false;  ///< boot the local disk
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
  BootPlanner(DomainContext& ctx, Enrolment& enrolment, BootPlannerOptions opts)
      : ctx_(ctx), enrolment_(enrolment), opts_(std::move(opts)) {}

  /// What the laptop with this MAC boots (`base_url`: how it reaches this server); io on a
  /// storage failure.
  Result<BootPlan> plan(const std::string& mac, const std::string& base_url);
  /// DHCP's question: false for a laptop whose run is done (its firmware should go on to the
  /// disk). True when in doubt: the live agent asks the server what to do anyway.
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
    std::string reason;
  };
  Result<Decision> decide(const std::string& mac);
  Result<void> record(std::int64_t device, const std::string& mac, const std::string& script);

  DomainContext& ctx_;
  Enrolment& enrolment_;
  BootPlannerOptions opts_;
};

}  // namespace revive::server
