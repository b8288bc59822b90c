#pragma once
// Full DHCP for an isolated workshop network (no router handing out addresses): a lease pool,
// persisted by the caller, answering DISCOVER/REQUEST/RELEASE/DECLINE/INFORM (RFC 2131) and
// adding the same boot information as the proxyDHCP answer for booting clients. Pure: the
// clock and persistence belong to the caller.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dhcp.hpp"

namespace revive::boot {

struct DhcpPoolConfig {
  std::uint32_t first = 0, last = 0;  ///< the range handed out (host order, inclusive)
  std::uint32_t netmask = 0xffffff00;
  std::optional<std::uint32_t> router;  ///< option 3, when the network has a gateway
  std::uint32_t lease_s = 3600;
  /// Offers waiting for their REQUEST at most (0: half the range, at least 16). Each holds an
  /// address for a minute, so a host sending DISCOVERs from made-up MACs could otherwise hold
  /// the whole range; past the cap, only clients with a lease or an offer get one. Half, not
  /// less: a workshop powering on dozens of laptops at once is a burst of real DISCOVERs.
  std::uint32_t max_pending_offers = 0;
};

// Per-client limits (issue 15, finding 5). A DHCP server on a UDP socket sees no sender it can
// trust: every client in INIT sends from 0.0.0.0:68 and a relay sends for many, so the only
// per-client keys are what the packet says, the client hardware address (chaddr) and the client
// identifier (option 61). A spoofing host chooses both, so these limits bound what one claimed
// identity can cost; what many made-up identities can hold is bounded by the pending-offer cap
// and by "no lease without an offer". What each limit spends is new state only: a client that
// has an offer or a lease is answered from it for free, so a real laptop (one new offer per
// boot, its DISCOVERs in iPXE and Linux then find its lease) never meets the limit, and a host
// that spoofs a laptop's MAC to spend its budget gives that MAC an offer the laptop is then
// answered from.
struct DhcpClientLimits {
  /// New offers one chaddr or client-id may cause in a burst (a client with a current offer or
  /// lease causes none) ...
  double new_offer_burst = 6;
  /// ... and how many seconds it waits for each one after that.
  double new_offer_every_s = 10;
  /// A lease renewed within this many seconds of its last write is acknowledged with the time
  /// it has left and not written again: one fsync per client per minute, however often it asks.
  std::int64_t rewrite_after_s = 60;
};

struct Lease {
  std::string mac;  ///< "52:54:00:..."
  std::uint32_t ip = 0;
  std::int64_t expires = 0;  ///< unix seconds
};

/// "10.0.0.100-10.0.0.199" → (first, last); invalid_input for anything else or a reversed range.
Result<std::pair<std::uint32_t, std::uint32_t>> parse_ip_range(const std::string& text);

class LeasePool {
 public:
  LeasePool(DhcpPoolConfig cfg, const std::vector<Lease>& persisted, DhcpClientLimits limits = {});

  struct Outcome {
    std::optional<DhcpPacket> reply;
    bool leases_changed = false;  ///< persist leases() before (or right after) sending
    std::string why;
  };
  /// One request. `boot` names the server (its address is the server identifier) and what
  /// booting clients get.
  /// `offer_boot` false: an address only, no boot file (a laptop that should boot its disk).
  Outcome handle(const DhcpPacket& req, std::int64_t now, const BootConfig& boot,
                 bool offer_boot = true);

  std::vector<Lease> leases() const;

  /// Another host answered a ping for `ip` (the conflict check before an offer): it is not
  /// offered for an hour, and a pending offer of it is withdrawn.
  void mark_in_use(std::uint32_t ip, std::int64_t now);

 private:
  Outcome on_discover(const DhcpPacket& req, std::int64_t now, const BootConfig& boot,
                      bool offer_boot);
  Outcome on_request(const DhcpPacket& req, std::int64_t now, const BootConfig& boot,
                     bool offer_boot);
  /// RELEASE and DECLINE: the client hands an address back (or says someone else uses it).
  Outcome on_give_back(const DhcpPacket& req, std::uint8_t type, std::int64_t now,
                       const BootConfig& boot);
  std::optional<std::uint32_t> pick(const std::string& mac, std::optional<std::uint32_t> wanted,
                                    std::int64_t now, std::uint32_t server_ip) const;
  /// In the range, not the server's, the router's, a network or broadcast address, or held
  /// back after a conflict.
  bool usable(std::uint32_t ip, std::int64_t now, std::uint32_t server_ip) const;
  /// usable, and no other client's live lease or offer holds it (O(leases + offers)).
  bool free_for(std::uint32_t ip, const std::string& mac, std::int64_t now,
                std::uint32_t server_ip) const;
  /// Forgets expired offers and address holds: each request costs time in proportion to them.
  void prune(std::int64_t now);
  std::size_t pending_offer_cap() const;
  /// Takes one new offer from the budget of `key` ("mac:..." or "id:..."); false when it is
  /// spent. Budgets that refilled completely are forgotten by prune().
  bool spend_new_offer(const std::string& key, std::int64_t now);
  double refilled(const std::string& key, std::int64_t now) const;
  DhcpPacket reply_to(const DhcpPacket& req, std::uint8_t type, std::uint32_t yiaddr,
                      const BootConfig& boot, bool offer_boot) const;

  DhcpPoolConfig cfg_;
  std::map<std::string, Lease> by_mac_;
  std::map<std::string, std::pair<std::uint32_t, std::int64_t>> offers_;  ///< mac → (ip, until)
  std::map<std::uint32_t, std::int64_t> declined_;                        ///< ip → until
  DhcpClientLimits limits_;
  struct Budget {
    double tokens = 0;
    std::int64_t at = 0;  ///< when `tokens` was last computed
  };
  std::map<std::string, Budget> budgets_;        ///< per chaddr and client-id; only while not full
  std::map<std::string, std::int64_t> written_;  ///< mac → when its lease was last written
};

}  // namespace revive::boot
