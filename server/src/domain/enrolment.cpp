#include "domain/enrolment.hpp"

#include <algorithm>

#include "boot_script.hpp"
#include "domain/run_factory.hpp"
#include "domain/tokens.hpp"
#include "domain/wall.hpp"

namespace revive::server {

namespace {
constexpr Seconds kBootTokenKept = 7L * 86400;  // used ones stay a while: "already used"
constexpr int kBootTokensPerMac = 7;
constexpr int kBootTokensKept = 10000;
constexpr std::size_t kMaxCachedTokens = 100000;
constexpr Seconds kDefaultLiveWindow = 600;

Error boot_token_refused(const std::string& why) {
  return make_error(Errc::unauthorized, why +
                                            ": network-boot the laptop again (its boot script "
                                            "carries a fresh token)");
}

bool reported_mac(const protocol::EnrolRequest& r, const std::string& mac) {
  return std::any_of(r.macs.begin(), r.macs.end(), [&](const std::string& m) {
    const auto norm = boot::normalise_mac(m);
    return norm && *norm == mac;
  });
}
}  // namespace

Seconds Enrolment::live_window(std::int64_t device) const {
  return opts_.live_window ? opts_.live_window(device) : kDefaultLiveWindow;
}

// The token must exist, be unused, be young enough and have been issued for one of the MACs
// the laptop reports. Nothing is marked here: a refused enrolment leaves the token as it was.
Result<std::optional<BootTokenRow>> Enrolment::check_boot_token(const protocol::EnrolRequest& r) {
  if (r.boot_token.empty()) {
    if (opts_.demo) return std::optional<BootTokenRow>();
    return make_error(Errc::unauthorized,
                      "no boot token: this server enrols only laptops that network-booted from "
                      "it (the live agent's kernel command line carries the token)");
  }
  REVIVE_ASSIGN(row, ctx_.storage().boot_tokens().find(token_hash(r.boot_token)));
  if (!row) return boot_token_refused("the boot token was not issued by this server");
  if (row->used_at) return boot_token_refused("the boot token was used already");
  if (ctx_.now() > row->issued_at + opts_.boot_token_ttl_s)
    return boot_token_refused("the boot token ran out");
  if (!reported_mac(r, row->mac))
    return boot_token_refused("the boot token was issued for " + row->mac +
                              ", which this laptop does not report");
  return row;
}

Result<Enrolment::Found> Enrolment::find_device(const protocol::EnrolRequest& r) {
  Found f;
  f.key = identity_key(r.identity, r.inventory);
  if (!identifiable(f.key))
    return make_error(Errc::invalid_input,
                      "nothing tells this laptop from others: no system UUID, serial or disk "
                      "serial that is not a firmware placeholder");
  REVIVE_ASSIGN(candidates, ctx_.storage().devices().identity_candidates(
                                f.key.model, f.key.system_uuid, f.key.serial, f.key.disk_serials));
  for (const auto& d : candidates) {
    if (same_laptop(f.key, d)) {
      f.device = d;
      break;
    }
  }
  return f;
}

// The laptop's agent is alive: someone else claims to be it. Flag and log it once (a refused
// agent tries again and again), then refuse.
Result<void> Enrolment::refuse_live(const DeviceRow& d) {
  const Seconds ago = ctx_.now() - presence_.last_seen(d.id);
  if (d.flag != std::optional<std::string>(kIdentityInUse)) {
    Storage& s = ctx_.storage();
    REVIVE_ASSIGN(uow, s.begin());
    REVIVE_TRY(s.devices().set_flag(d.id, std::string(kIdentityInUse)));
    REVIVE_TRY(ctx_.log(d.id, "enrolment-refused",
                        {{"reason", "identity in use"}, {"agent_seen_s_ago", ago}}));
    REVIVE_TRY(uow->commit());
    ctx_.device_changed(d.id);
  }
  return make_error(Errc::conflict,
                    "laptop " + std::to_string(d.id) + " is being processed: its agent was heard " +
                        std::to_string(ago) +
                        " s ago. A second enrolment as this laptop was refused and shown to the "
                        "operator, who can accept it (revivectl devices accept-enrolment " +
                        std::to_string(d.id) + ")");
}

Result<std::pair<std::int64_t, bool>> Enrolment::record_device(const protocol::EnrolRequest& r,
                                                               const Found& found) {
  Storage& s = ctx_.storage();
  const auto& id = r.identity;
  std::optional<Json> inventory;
  if (!r.inventory.is_null()) inventory = r.inventory;
  if (found.device) {
    Sighting seen{Json(r.macs), inventory, id.vendor, std::nullopt, ctx_.now()};
    if (inventory) seen.disk_serials = found.key.disk_serials;
    REVIVE_TRY(s.devices().record_sighting(found.device->id, seen));
    return std::pair{found.device->id, false};
  }
  REVIVE_ASSIGN(admitted, intake_.admits_enrolment(r.macs, id.vendor));
  if (!admitted.admitted) {
    intake_.turned_away(r.macs.empty() ? std::string("?") : r.macs.front(), admitted.reason);
    return make_error(Errc::forbidden, admitted.reason);
  }
  // What the firmware said is kept for people to read; placeholders never match (identity.cpp).
  NewDevice d{found.key.system_uuid.empty() ? id.system_uuid : found.key.system_uuid,
              id.serial,
              id.model,
              id.vendor,
              Json(r.macs),
              inventory,
              admitted.batch_id,
              ctx_.now(),
              found.key.disk_serials,
              admitted.operator_name};
  REVIVE_ASSIGN(new_id, s.devices().insert(d));
  return std::pair{new_id, true};
}

Result<protocol::EnrolResponse> Enrolment::issue_agent_token(std::int64_t device, bool is_new) {
  Storage& s = ctx_.storage();
  protocol::EnrolResponse out;
  out.device_id = device;
  out.new_device = is_new;
  // A new boot: earlier tokens of this device stop working.
  REVIVE_TRY(s.agent_tokens().revoke_device(device));
  out.agent_token = new_token();
  REVIVE_TRY(s.agent_tokens().add(token_hash(out.agent_token), device, ctx_.now()));
  REVIVE_ASSIGN(run, s.runs().latest(device));
  if (!run) REVIVE_TRY(create_run(ctx_, device));
  // What the laptop's own screen shows: the workshop and the language it chose.
  REVIVE_ASSIGN(workshop, s.settings().get("workshop_name"));
  REVIVE_ASSIGN(language, s.settings().get("screen_language"));
  out.workshop = workshop.value_or("");
  if (out.workshop.size() > protocol::kMaxWorkshopName) {
    // Cut at a character boundary: half a UTF-8 character would make the answer invalid JSON.
    std::size_t cut = protocol::kMaxWorkshopName;
    while (cut > 0 && (static_cast<unsigned char>(out.workshop[cut]) & 0xC0) == 0x80) --cut;
    out.workshop.resize(cut);
  }
  out.language = language.value_or("en");
  return out;
}

Result<protocol::EnrolResponse> Enrolment::enrol(const protocol::EnrolRequest& request) {
  REVIVE_ASSIGN(found, find_device(request));
  REVIVE_ASSIGN(boot, check_boot_token(request));
  const bool live =
      found.device && presence_.alive(found.device->id, ctx_.now(), live_window(found.device->id));
  // Demo mode trusts the network (a simulated laptop "reboots" in seconds): the newcomer takes
  // over, but not silently.
  if (live && !opts_.demo) return refuse_live(*found.device).error();
  Storage& s = ctx_.storage();
  REVIVE_ASSIGN(uow, s.begin());
  if (live) REVIVE_TRY(ctx_.log(found.device->id, "enrolment-took-over", {{"demo", true}}));
  REVIVE_ASSIGN(device, record_device(request, found));
  if (boot) REVIVE_TRY(s.boot_tokens().mark_used(boot->token_hash, ctx_.now()));
  REVIVE_ASSIGN(out, issue_agent_token(device.first, device.second));
  const auto& id = request.identity;
  out.label = tile_label(asset_tag_of(request.inventory), id.serial, out.device_id);
  REVIVE_TRY(ctx_.log(out.device_id, out.new_device ? "enrolled" : "re-enrolled",
                      {{"serial", id.serial}, {"model", id.model}, {"demo", opts_.demo}}));
  if (boot) REVIVE_TRY(ctx_.log(out.device_id, "network_boot", {{"mac", boot->mac}}));
  REVIVE_TRY(uow->commit());
  drop_cached(out.device_id);
  remember(token_hash(out.agent_token), out.device_id);
  presence_.seen(out.device_id, ctx_.now());
  ctx_.device_changed(out.device_id);
  return out;
}

Result<std::int64_t> Enrolment::authenticate(std::string_view token) {
  const std::string hash = token_hash(token);
  std::optional<std::int64_t> device = agents_.find(hash);
  if (!device) {
    REVIVE_ASSIGN(stored, ctx_.storage().agent_tokens().device(hash));
    if (!stored) return make_error(Errc::unauthorized, "unknown or expired agent token");
    remember(hash, *stored);
    device = *stored;
  }
  presence_.seen(*device, ctx_.now());
  return *device;
}

Result<void> Enrolment::accept_new_enrolment(std::int64_t device, const std::string& who) {
  Storage& s = ctx_.storage();
  REVIVE_ASSIGN(uow, s.begin());
  REVIVE_ASSIGN(d, s.devices().find(device));
  if (!d)
    return make_error(Errc::not_found, "device " + std::to_string(device) + " does not exist");
  REVIVE_TRY(s.agent_tokens().revoke_device(device));
  REVIVE_TRY(s.devices().set_flag(device, std::nullopt));
  REVIVE_TRY(ctx_.log(device, "enrolment-accepted", {{"operator", who}}));
  REVIVE_TRY(uow->commit());
  drop_cached(device);
  presence_.forget(device);
  ctx_.device_changed(device);
  return {};
}

void Enrolment::presume_alive(const std::vector<std::int64_t>& devices) {
  for (auto d : devices) presence_.seen(d, ctx_.now());
}

void Enrolment::drop_cached(std::int64_t device) {
  if (auto it = cached_hash_.find(device); it != cached_hash_.end()) {
    agents_.erase(it->second);
    cached_hash_.erase(it);
  }
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
  REVIVE_TRY(s.boot_tokens().prune(now - std::max(kBootTokenKept, opts_.boot_token_ttl_s), mac,
                                   kBootTokensPerMac, kBootTokensKept));
  REVIVE_TRY(s.boot_tokens().add(BootTokenRow{token_hash(token), mac, now, std::nullopt}));
  REVIVE_TRY(uow->commit());
  return token;
}

}  // namespace revive::server
