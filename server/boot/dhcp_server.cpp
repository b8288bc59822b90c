#include "dhcp_server.hpp"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

namespace revive::boot {

namespace {
constexpr std::int64_t kOfferHold = 60;     // an offered address is held this long for the REQUEST
constexpr std::int64_t kDeclineHold = 600;  // an address a client found in use is skipped this long

std::optional<std::uint32_t> option_ip(const DhcpPacket& p, std::uint8_t code) {
  auto it = p.options.find(code);
  if (it == p.options.end() || it->second.size() != 4) return std::nullopt;
  const auto& v = it->second;
  return (std::uint32_t{v[0]} << 24) | (std::uint32_t{v[1]} << 16) | (std::uint32_t{v[2]} << 8) |
         v[3];
}
}  // namespace

Result<std::pair<std::uint32_t, std::uint32_t>> parse_ip_range(const std::string& text) {
  const auto dash = text.find('-');
  if (dash == std::string::npos)
    return make_error(Errc::invalid_input, "DHCP range \"" + text + "\" must be FIRST-LAST");
  auto a = parse_ipv4(text.substr(0, dash));
  if (!a) return a.error();
  auto b = parse_ipv4(text.substr(dash + 1));
  if (!b) return b.error();
  if (*b < *a)
    return make_error(Errc::invalid_input, "DHCP range \"" + text + "\" ends before it starts");
  if (*b - *a > 65535)
    return make_error(Errc::invalid_input,
                      "DHCP range \"" + text + "\" is larger than 65536 addresses");
  return std::make_pair(*a, *b);
}

LeasePool::LeasePool(DhcpPoolConfig cfg, const std::vector<Lease>& persisted,
                     DhcpClientLimits limits)
    : cfg_(cfg), limits_(limits) {
  for (const auto& l : persisted) {
    if (l.ip >= cfg_.first && l.ip <= cfg_.last)
      by_mac_[l.mac] = l;  // a changed range drops the rest
  }
}

std::vector<Lease> LeasePool::leases() const {
  std::vector<Lease> out;
  for (const auto& [mac, l] : by_mac_) out.push_back(l);
  return out;
}

bool LeasePool::usable(std::uint32_t ip, std::int64_t now, std::uint32_t server_ip) const {
  if (ip < cfg_.first || ip > cfg_.last || ip == server_ip || (cfg_.router && ip == *cfg_.router))
    return false;
  if ((ip & 0xff) == 0 || (ip | cfg_.netmask) == 0xffffffff)
    return false;  // network or broadcast address
  if (auto d = declined_.find(ip); d != declined_.end() && d->second > now) return false;
  return true;
}

bool LeasePool::free_for(std::uint32_t ip, const std::string& mac, std::int64_t now,
                         std::uint32_t server_ip) const {
  if (!usable(ip, now, server_ip)) return false;
  for (const auto& [m, l] : by_mac_) {
    if (m != mac && l.ip == ip && l.expires > now) return false;
  }
  for (const auto& [m, o] : offers_) {
    if (m != mac && o.first == ip && o.second > now) return false;
  }
  return true;
}

std::optional<std::uint32_t> LeasePool::pick(const std::string& mac,
                                             std::optional<std::uint32_t> wanted, std::int64_t now,
                                             std::uint32_t server_ip) const {
  // The same laptop gets the same address again (its lease, even an expired one, if still free).
  if (auto it = by_mac_.find(mac);
      it != by_mac_.end() && free_for(it->second.ip, mac, now, server_ip))
    return it->second.ip;
  if (wanted && free_for(*wanted, mac, now, server_ip)) return wanted;
  // Who holds what, gathered once: the scan below is then one pass over the range (O(range +
  // leases + offers)), not a pass over every lease and offer for each address.
  std::unordered_set<std::uint32_t> taken;  // another client's live lease or offer
  std::unordered_map<std::uint32_t, std::int64_t> expired_at;  // a lease's address → its expiry
  taken.reserve(by_mac_.size() + offers_.size());
  expired_at.reserve(by_mac_.size());
  for (const auto& [m, l] : by_mac_) {
    if (m != mac && l.expires > now) taken.insert(l.ip);
    auto [it, added] = expired_at.try_emplace(l.ip, l.expires);
    if (!added) it->second = std::min(it->second, l.expires);
  }
  for (const auto& [m, o] : offers_) {
    if (m != mac && o.second > now) taken.insert(o.first);
  }
  // The first address nobody holds; else the one whose lease expired longest ago.
  std::optional<std::uint32_t> oldest;
  std::int64_t oldest_expiry = now;
  for (std::uint64_t i = cfg_.first; i <= cfg_.last; ++i) {
    const auto ip = static_cast<std::uint32_t>(i);
    if (taken.contains(ip) || !usable(ip, now, server_ip)) continue;
    const auto lease = expired_at.find(ip);
    if (lease == expired_at.end()) return ip;
    if (lease->second <= oldest_expiry) {
      oldest = ip;
      oldest_expiry = lease->second;
    }
  }
  return oldest;
}

DhcpPacket LeasePool::reply_to(const DhcpPacket& req, std::uint8_t type, std::uint32_t yiaddr,
                               const BootConfig& boot, bool offer_boot) const {
  // A booting client gets the same boot information as from the proxy, in the same answer.
  auto pxe = offer_boot ? proxy_dhcp_reply(req, boot, false) : ProxyDecision{};
  DhcpPacket r = pxe.reply ? *pxe.reply : reply_skeleton(req);
  r.ciaddr = type == dhcp_msg::ack ? req.ciaddr : 0;
  r.yiaddr = yiaddr;
  if (r.siaddr == 0) r.siaddr = boot.server_ip;
  r.options[dhcp_opt::message_type] = {type};
  r.set_option_u32(dhcp_opt::server_id, boot.server_ip);
  if (type != dhcp_msg::nak) {
    r.set_option_u32(dhcp_opt::subnet_mask, cfg_.netmask);
    if (cfg_.router) r.set_option_u32(dhcp_opt::router, *cfg_.router);
    if (yiaddr != 0) r.set_option_u32(dhcp_opt::lease_time, cfg_.lease_s);
  } else {
    r.options.erase(dhcp_opt::vendor_specific);
    r.options.erase(dhcp_opt::vendor_class);
    r.options.erase(dhcp_opt::bootfile);
    r.file.clear();
    r.sname.clear();
    r.siaddr = 0;
  }
  return r;
}

void LeasePool::mark_in_use(std::uint32_t ip, std::int64_t now) {
  constexpr std::int64_t kConflictHold = 3600;
  declined_[ip] = now + kConflictHold;
  std::erase_if(offers_, [&](const auto& kv) { return kv.second.first == ip; });
}

void LeasePool::prune(std::int64_t now) {
  std::erase_if(offers_, [&](const auto& kv) { return kv.second.second <= now; });
  std::erase_if(declined_, [&](const auto& kv) { return kv.second <= now; });
  // A full budget is what an unknown client starts with: keeping it would only cost memory.
  std::erase_if(budgets_,
                [&](const auto& kv) { return refilled(kv.first, now) >= limits_.new_offer_burst; });
  std::erase_if(written_,
                [&](const auto& kv) { return kv.second + limits_.rewrite_after_s <= now; });
}

double LeasePool::refilled(const std::string& key, std::int64_t now) const {
  const auto it = budgets_.find(key);
  if (it == budgets_.end()) return limits_.new_offer_burst;
  const double every = std::max(limits_.new_offer_every_s, 0.001);
  const double grown = it->second.tokens + static_cast<double>(now - it->second.at) / every;
  return std::min(limits_.new_offer_burst, grown);
}

bool LeasePool::spend_new_offer(const std::string& key, std::int64_t now) {
  const double tokens = refilled(key, now);
  if (tokens < 1) return false;
  budgets_[key] = Budget{tokens - 1, now};
  return true;
}

std::size_t LeasePool::pending_offer_cap() const {
  if (cfg_.max_pending_offers > 0) return cfg_.max_pending_offers;
  const std::size_t range = std::size_t{cfg_.last} - cfg_.first + 1;
  return std::max<std::size_t>(16, range / 2);
}

LeasePool::Outcome LeasePool::handle(const DhcpPacket& req, std::int64_t now,
                                     const BootConfig& boot, bool offer_boot) {
  prune(now);
  Outcome out;
  if (req.op != 1 || req.htype != 1 || req.hlen != 6) {
    out.why = "not an Ethernet request";
    return out;
  }
  const auto type = req.message_type();
  if (!type) {
    out.why = "BOOTP without a DHCP message type is not served";
    return out;
  }
  switch (*type) {
    case dhcp_msg::discover:
      return on_discover(req, now, boot, offer_boot);
    case dhcp_msg::request:
      return on_request(req, now, boot, offer_boot);
    case dhcp_msg::release:
    case dhcp_msg::decline:
      return on_give_back(req, *type, now, boot);
    case dhcp_msg::inform:
      out.reply = reply_to(req, dhcp_msg::ack, 0, boot, offer_boot);
      out.why = "informed " + req.mac();
      return out;
    default:
      out.why = "message type " + std::to_string(*type) + " is not for a server";
      return out;
  }
}

LeasePool::Outcome LeasePool::on_discover(const DhcpPacket& req, std::int64_t now,
                                          const BootConfig& boot, bool offer_boot) {
  Outcome out;
  const std::string mac = req.mac();
  const bool known = by_mac_.contains(mac) || offers_.contains(mac);
  if (!known && offers_.size() >= pending_offer_cap()) {
    out.why = std::to_string(offers_.size()) +
              " offers wait for their REQUEST (new MACs flooding?): nothing offered to " + mac;
    return out;
  }
  if (!known) {  // new state: charged to the client's hardware address and its client-id
    const auto id = req.options.find(dhcp_opt::client_id);
    const std::string id_key =
        id == req.options.end() ? "" : "id:" + std::string(id->second.begin(), id->second.end());
    if ((!id_key.empty() && refilled(id_key, now) < 1) || !spend_new_offer("mac:" + mac, now) ||
        (!id_key.empty() && !spend_new_offer(id_key, now))) {
      out.why = mac + " asked for too many new offers: nothing offered until its budget refills";
      return out;
    }
  }
  auto ip = pick(mac, option_ip(req, dhcp_opt::requested_ip), now, boot.server_ip);
  if (!ip) {
    out.why = "no free address in the pool for " + mac;
    return out;
  }
  offers_[mac] = {*ip, now + kOfferHold};
  out.reply = reply_to(req, dhcp_msg::offer, *ip, boot, offer_boot);
  out.why = "offered " + ip_to_string(*ip) + " to " + mac;
  return out;
}

LeasePool::Outcome LeasePool::on_request(const DhcpPacket& req, std::int64_t now,
                                         const BootConfig& boot, bool offer_boot) {
  Outcome out;
  const std::string mac = req.mac();
  const auto server_id = option_ip(req, dhcp_opt::server_id);
  if (server_id && *server_id != boot.server_ip) {  // the client took another server's offer
    offers_.erase(mac);
    out.why = mac + " chose another DHCP server";
    return out;
  }
  const auto wanted = option_ip(req, dhcp_opt::requested_ip);
  const std::uint32_t ip = wanted ? *wanted : req.ciaddr;
  const auto lease = by_mac_.find(mac);
  const bool known = lease != by_mac_.end() && lease->second.ip == ip;
  const auto offer = offers_.find(mac);
  const bool offered = offer != offers_.end() && offer->second.first == ip;
  // No lease without an offer: a REQUEST is for the address this server offered this client,
  // or for the client's own lease. Otherwise made-up MACs could skip the pending-offer cap and
  // lease the whole range with one REQUEST each (and cost a lease-file write each).
  if (!known && !offered) {
    if (!server_id) {  // INIT-REBOOT for an address we know nothing about: stay silent
      out.why = mac + " asks for " + ip_to_string(ip) + ", which this server did not lease";
      return out;
    }
    out.reply = reply_to(req, dhcp_msg::nak, 0, boot, false);  // the client starts over
    out.why = "NAK: " + mac + " asks for " + ip_to_string(ip) + ", which was not offered to it";
    return out;
  }
  // free_for ignores this client's own lease and offer, and refuses anybody else's.
  if (ip == 0 || !free_for(ip, mac, now, boot.server_ip)) {
    out.reply = reply_to(req, dhcp_msg::nak, 0, boot, false);
    out.why = "NAK: " + ip_to_string(ip) + " is not available to " + mac;
    return out;
  }
  const auto written = written_.find(mac);
  if (known && !offered && lease->second.expires > now && written != written_.end() &&
      written->second + limits_.rewrite_after_s > now) {
    // A renewal right after the last write: told the time its lease has left (so client and
    // lease file agree), not written again.
    out.reply = reply_to(req, dhcp_msg::ack, ip, boot, offer_boot);
    out.reply->set_option_u32(dhcp_opt::lease_time,
                              static_cast<std::uint32_t>(lease->second.expires - now));
    out.why = "renewed " + ip_to_string(ip) + " for " + mac + " (written moments ago)";
    return out;
  }
  // An expired lease of another MAC on this address is history now: forget it, so made-up
  // MACs cannot grow the lease file without bound.
  std::erase_if(by_mac_, [&](const auto& kv) { return kv.first != mac && kv.second.ip == ip; });
  by_mac_[mac] = Lease{mac, ip, now + cfg_.lease_s};
  offers_.erase(mac);
  written_[mac] = now;
  out.leases_changed = true;
  out.reply = reply_to(req, dhcp_msg::ack, ip, boot, offer_boot);
  out.why = "leased " + ip_to_string(ip) + " to " + mac;
  return out;
}

LeasePool::Outcome LeasePool::on_give_back(const DhcpPacket& req, std::uint8_t type,
                                           std::int64_t now, const BootConfig& boot) {
  Outcome out;
  const std::string mac = req.mac();
  const auto server_id = option_ip(req, dhcp_opt::server_id);
  if (server_id && *server_id != boot.server_ip) return out;  // meant for another server
  if (type == dhcp_msg::release) {
    if (auto it = by_mac_.find(mac); it != by_mac_.end() && it->second.ip == req.ciaddr) {
      by_mac_.erase(it);
      out.leases_changed = true;
    }
    out.why = mac + " released " + ip_to_string(req.ciaddr);
    return out;
  }
  const auto ip = option_ip(req, dhcp_opt::requested_ip);
  if (!ip) return out;
  declined_[*ip] = now + kDeclineHold;  // somebody else uses it: skip it for a while
  if (auto it = by_mac_.find(mac); it != by_mac_.end() && it->second.ip == *ip) {
    by_mac_.erase(it);
    out.leases_changed = true;
  }
  out.why = mac + " found " + ip_to_string(*ip) + " in use";
  return out;
}

}  // namespace revive::boot
