#include "domain/enrolment.hpp"

#include "domain/run_factory.hpp"
#include "domain/tokens.hpp"

namespace revive::server {

namespace {
constexpr Seconds kBootTokenLifetime = 7 * 86400;
constexpr int kBootTokensPerMac = 7;
constexpr int kBootTokensKept = 10000;
constexpr std::size_t kMaxCachedTokens = 100000;
}  // namespace

Result<std::string> Enrolment::redeem_boot_token(const std::string& token) {
  Storage& s = ctx_.storage();
  const std::string hash = token_hash(token);
  REVIVE_ASSIGN(row, s.boot_tokens().find(hash));
  if (!row) {
    return make_error(Errc::unauthorized,
                      "the boot token on this laptop's kernel command line was not issued by "
                      "this server: network-boot it again");
  }
  REVIVE_TRY(s.boot_tokens().mark_used(hash, ctx_.now()));
  return row->mac;
}

Result<std::pair<std::int64_t, bool>> Enrolment::record_device(const protocol::EnrolRequest& r) {
  Storage& s = ctx_.storage();
  const auto& id = r.identity;
  const Json macs = r.macs;
  std::optional<Json> inventory;
  if (!r.inventory.is_null()) inventory = r.inventory;
  REVIVE_ASSIGN(known, s.devices().find_by_identity(id.system_uuid, id.serial, id.model));
  if (known) {
    REVIVE_TRY(s.devices().record_sighting(known->id, macs, inventory, id.vendor, ctx_.now()));
    return std::pair{known->id, false};
  }
  // New laptops join the intake batch, when one is set and exists.
  NewDevice d{id.system_uuid, id.serial, id.model,     id.vendor,
              macs,           inventory, std::nullopt, ctx_.now()};
  REVIVE_ASSIGN(intake, s.settings().get("intake_batch"));
  if (intake) {
    REVIVE_ASSIGN(batch, s.batches().find(*intake));
    if (batch) d.batch_id = batch->id;
  }
  REVIVE_ASSIGN(new_id, s.devices().insert(d));
  return std::pair{new_id, true};
}

Result<protocol::EnrolResponse> Enrolment::enrol(const protocol::EnrolRequest& request) {
  const auto& id = request.identity;
  if (id.system_uuid.empty() && id.serial.empty())
    return make_error(Errc::invalid_input, "identity needs a system UUID or a serial number");
  Storage& s = ctx_.storage();
  REVIVE_ASSIGN(uow, s.begin());
  std::string booted_mac;
  if (!request.boot_token.empty()) {
    REVIVE_ASSIGN(mac, redeem_boot_token(request.boot_token));
    booted_mac = mac;
  }
  REVIVE_ASSIGN(device, record_device(request));
  protocol::EnrolResponse out;
  out.device_id = device.first;
  out.new_device = device.second;
  // A new boot: earlier tokens of this device stop working.
  REVIVE_TRY(s.agent_tokens().revoke_device(out.device_id));
  out.agent_token = new_token();
  const std::string hash = token_hash(out.agent_token);
  REVIVE_TRY(s.agent_tokens().add(hash, out.device_id, ctx_.now()));
  REVIVE_ASSIGN(run, s.runs().latest(out.device_id));
  if (!run) REVIVE_TRY(create_run(ctx_, out.device_id));
  REVIVE_TRY(ctx_.log(out.device_id, out.new_device ? "enrolled" : "re-enrolled",
                      {{"serial", id.serial}, {"model", id.model}}));
  if (!booted_mac.empty())
    REVIVE_TRY(ctx_.log(out.device_id, "network_boot", {{"mac", booted_mac}}));
  REVIVE_TRY(uow->commit());
  const std::int64_t dev = out.device_id;
  if (auto it = cached_hash_.find(dev); it != cached_hash_.end()) agents_.erase(it->second);
  remember(hash, dev);
  ctx_.device_changed(dev);
  return out;
}

Result<std::int64_t> Enrolment::authenticate(std::string_view token) {
  const std::string hash = token_hash(token);
  if (auto cached = agents_.find(hash)) return *cached;
  REVIVE_ASSIGN(device, ctx_.storage().agent_tokens().device(hash));
  if (!device) return make_error(Errc::unauthorized, "unknown or expired agent token");
  remember(hash, *device);
  return *device;
}

void Enrolment::remember(const std::string& hash, std::int64_t device) {
  if (agents_.size() >= kMaxCachedTokens) {
    agents_ = TokenCache<std::int64_t>(kMaxCachedTokens);
    cached_hash_.clear();
  }
  agents_.put(hash, device);
  cached_hash_[device] = hash;
}

Result<std::string> Enrolment::issue_boot_token(const std::string& mac) {
  Storage& s = ctx_.storage();
  const Seconds now = ctx_.now();
  std::string token = new_token();
  REVIVE_ASSIGN(uow, s.begin());
  REVIVE_TRY(
      s.boot_tokens().prune(now - kBootTokenLifetime, mac, kBootTokensPerMac, kBootTokensKept));
  REVIVE_TRY(s.boot_tokens().add(BootTokenRow{token_hash(token), mac, now, std::nullopt}));
  REVIVE_TRY(uow->commit());
  return token;
}

}  // namespace revive::server
