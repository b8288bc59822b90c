#include "domain/boot_planner.hpp"

#include "domain/identity.hpp"

namespace revive::server {

namespace {
constexpr Seconds kSameScriptQuiet = 60;
}  // namespace

Result<BootPlanner::Decision> BootPlanner::decide(const std::string& mac) {
  Storage& s = ctx_.storage();
  Decision d;
  REVIVE_ASSIGN(devices, s.devices().find_by_mac(mac, 2));
  if (devices.size() == 1) {
    REVIVE_ASSIGN(inventory, s.devices().inventory(devices[0].id));
    if (builtin_mac(inventory, mac)) return decide_known(devices[0]);
  }
  if (!devices.empty()) {
    // A dongle or dock that travels between laptops: its MAC says nothing about this one.
    d.reason = "MAC " + mac + " is not one laptop's own (" +
               (devices.size() > 1 ? std::string("several laptops reported it")
                                   : std::string("a USB adapter's")) +
               "): boot the live agent, whose enrolment says who this is";
    return d;
  }
  REVIVE_ASSIGN(admitted, intake_.admits_boot(mac));
  if (!admitted.admitted) {
    d.refused = true;
    d.reason = admitted.reason;
    intake_.turned_away(mac, admitted.reason);
    return d;
  }
  d.reason = "a laptop this server has not seen, " + admitted.reason + ": boot the live agent";
  return d;
}

Result<BootPlanner::Decision> BootPlanner::decide_known(const DeviceRow& device) {
  Decision d;
  d.device = device.id;
  REVIVE_ASSIGN(run, ctx_.storage().runs().latest(device.id));
  d.local = run && run->state == RunState::done;
  const std::string name = "device " + std::to_string(device.id);
  d.reason = d.local ? name + " finished its workflow: boot the local disk"
                     : name + " has work left (" +
                           (run ? std::string(protocol::to_string(run->state)) : "no run") +
                           "): boot the live agent";
  return d;
}

Result<void> BootPlanner::record(std::int64_t device, const std::string& mac,
                                 const std::string& script) {
  // A firmware retries DHCP and may try several network boot options in a row: one event per
  // decision and minute is enough.
  REVIVE_ASSIGN(last, ctx_.storage().events().latest(device, "boot_script"));
  if (last && last->data.is_object() && last->data.value("script", Json()) == Json(script) &&
      last->at > ctx_.now() - kSameScriptQuiet) {
    return {};
  }
  REVIVE_TRY(ctx_.log(device, "boot_script", {{"mac", mac}, {"script", script}}));
  ctx_.device_changed(device);
  return {};
}

Result<BootPlan> BootPlanner::plan(const std::string& mac, const std::string& base_url) {
  BootPlan p;
  REVIVE_ASSIGN(d, decide(mac));
  p.reason = d.reason;
  if (d.refused) {
    p.refused = true;
    return p;
  }
  if (d.local) {
    REVIVE_TRY(record(*d.device, mac, "local-disk"));
    p.local = true;
    return p;
  }
  if (opts_.live_image_missing) {
    if (auto missing = opts_.live_image_missing()) {
      p.reason = *missing;
      return p;
    }
  }
  REVIVE_ASSIGN(token, enrolment_.issue_boot_token(mac));
  if (d.device) REVIVE_TRY(record(*d.device, mac, "live-agent"));
  p.live = boot::LiveAgentBoot{base_url, mac, token, opts_.kernel_args, d.reason};
  return p;
}

bool BootPlanner::offer_network_boot(const std::string& mac) {
  auto d = decide(mac);
  if (!d) return false;  // cannot decide: the firmware goes on to the disk (fail closed)
  if (d->refused) return false;
  if (!d->local) return true;
  (void)record(*d->device, mac, "local-disk");
  return false;
}

Result<std::string> BootPlanner::ipxe_script(const std::string& mac, const std::string& base_url) {
  REVIVE_ASSIGN(p, plan(mac, base_url));
  if (p.refused) return boot::ipxe_refused_script(mac, p.reason);
  if (p.local) {
    // A laptop that booted a USB stick again after its workflow: the stick tells it, full
    // screen and in the workshop's words, to take the stick out.
    SettingsRepository& settings = ctx_.storage().settings();
    REVIVE_ASSIGN(language, settings.get("screen_language"));
    REVIVE_ASSIGN(workshop, settings.get("workshop_name"));
    return boot::ipxe_local_disk_script(mac, p.reason,
                                        {language.value_or("en"), workshop.value_or("")});
  }
  if (!p.live) return boot::ipxe_error_script(p.reason);
  return boot::ipxe_live_agent_script(*p.live);
}

std::optional<std::string> BootPlanner::grub_file(const std::string& name,
                                                  const std::string& base_url) {
  if (name == "grub/grub.cfg") return boot::grub_main_cfg();
  const auto mac = boot::grub_cfg_mac(name);
  if (!mac) return std::nullopt;
  auto p = plan(*mac, base_url);
  if (!p)
    return boot::grub_local_disk_cfg(*mac, "the server could not decide: " + p.error().message);
  if (p->local || !p->live) return boot::grub_local_disk_cfg(*mac, p->reason);
  return boot::grub_live_agent_cfg(*p->live);
}

}  // namespace revive::server
