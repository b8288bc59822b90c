#include <fmt/core.h>

#include "revive/agent/deploy.hpp"
#include "revive/agent/inventory.hpp"
#include "revive/agent/provision.hpp"
#include "step.hpp"

namespace revive::agent::steps {

namespace {

// What a hostname pattern may name: the laptop's firmware identity and its device id.
DeviceFacts device_facts(const StepContext& ctx) {
  DeviceFacts facts;
  const Json id = identity_of(ctx.inventory);
  facts.serial = id["serial"];
  facts.vendor = id["vendor"];
  const Json chassis =
      ctx.inventory.value("smbios", Json::object()).value("chassis", Json::object());
  if (chassis.contains("asset_tag") && chassis["asset_tag"].is_string())
    facts.asset_tag = chassis["asset_tag"];
  facts.device_id = ctx.device_id;
  return facts;
}

}  // namespace

// The provision step: the recipient profile applied to the installed system on the disk.
Outcome run_provision_step(const StepContext& ctx) {
  auto profile = parse_profile(ctx.step.params);
  if (!profile) return failed(profile.error().message);
  if (ctx.opts.disk.empty() || ctx.opts.disk_exec == nullptr) return failed("no disk to provision");
  if (auto why = ctx.external(ctx.opts.disk)) return failed(*why);
  auto dev = open_block_device(ctx.opts.disk);
  if (!dev) return failed(dev.error().message);
  ctx.progress("applying the recipient profile", 0, 0);
  auto r = provision_disk(ctx.opts.disk, **dev, *ctx.opts.disk_exec, *profile, device_facts(ctx));
  if (!r) return failed("provisioning: " + r.error().message);
  ctx.log(fmt::format("  {} provisioned as {}", (*r)["system"].get<std::string>(),
                      (*r)["hostname"].get<std::string>()));
  return succeeded(*r);
}

}  // namespace revive::agent::steps
