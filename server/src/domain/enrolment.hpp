#pragma once
// Laptops joining: enrolment (find or create the device, record what it reported, a new
// per-boot agent token, a workflow run when it has none), agent authentication, and the
// single-boot tokens handed out in boot scripts.
//
// Trust (issue 15, finding 1): outside demo mode a laptop enrols only with the boot token its
// boot script carried: single-use, short-lived and bound to the MAC it was issued for. A new
// laptop joins only through an open intake. An enrolment as a laptop whose agent is alive
// (it used its token within its stall window) is refused, flagged for the operator and logged;
// the operator may accept the newcomer (accept_new_enrolment), which cuts the old agent off.
// In demo mode the newcomer takes over, and an event says so.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "domain/agent_presence.hpp"
#include "domain/context.hpp"
#include "domain/identity.hpp"
#include "domain/intake.hpp"
#include "domain/token_cache.hpp"
#include "revive/protocol.hpp"

namespace revive::server {

struct EnrolmentOptions {
  /// Demo mode: boot tokens are optional (a token given is still checked), and a second
  /// enrolment of a live laptop takes over (logged) instead of being refused.
  bool demo = false;
  /// How long a boot token may wait for its enrolment.
  Seconds boot_token_ttl_s = 15L * 60;
  /// How long after its last request a device's agent counts as alive (its stall window).
  std::function<Seconds(std::int64_t device)> live_window;
};

/// The flag a device gets when a second enrolment as it was refused.
inline constexpr const char* kIdentityInUse = "identity_in_use";

class Enrolment {
 public:
  Enrolment(DomainContext& ctx, Intake& intake, EnrolmentOptions opts = {})
      : ctx_(ctx), intake_(intake), opts_(std::move(opts)) {}

  /// Finds or creates the device, records MACs and inventory, issues a new agent token (the
  /// device's earlier tokens stop working) and makes sure it has a run. invalid_input when
  /// nothing tells the laptop from others (no real UUID, serial or disk serial); unauthorized
  /// without a valid boot token (outside demo mode), for one that was used, ran out or was
  /// issued for another MAC; forbidden for a new laptop outside intake; conflict when the
  /// laptop's agent is alive (the device is flagged for the operator).
  Result<protocol::EnrolResponse> enrol(const protocol::EnrolRequest& request);
  /// The device an agent token belongs to; unauthorized for an unknown or replaced token.
  Result<std::int64_t> authenticate(std::string_view token);
  /// A fresh single-boot token for a live-agent boot script, stored by hash with the MAC (old
  /// tokens are pruned so the table stays bounded whatever asks); io on a storage failure.
  Result<std::string> issue_boot_token(const std::string& mac);
  /// An operator accepts that this laptop enrols again: its current agent is cut off (tokens
  /// revoked), its flag cleared, the decision logged. not_found for an unknown device.
  Result<void> accept_new_enrolment(std::int64_t device, const std::string& who);
  /// After a restart: the devices with running steps count as alive for their window.
  void presume_alive(const std::vector<std::int64_t>& devices);

 private:
  struct Found {
    std::optional<DeviceRow> device;
    IdentityKey key;
  };
  Result<std::optional<BootTokenRow>> check_boot_token(const protocol::EnrolRequest& request);
  Result<Found> find_device(const protocol::EnrolRequest& request);
  Result<void> refuse_live(const DeviceRow& device);
  Result<std::pair<std::int64_t, bool>> record_device(const protocol::EnrolRequest& request,
                                                      const Found& found);
  Result<protocol::EnrolResponse> issue_agent_token(std::int64_t device, bool is_new);
  void remember(const std::string& hash, std::int64_t device);
  void drop_cached(std::int64_t device);
  Seconds live_window(std::int64_t device) const;

  DomainContext& ctx_;
  Intake& intake_;
  EnrolmentOptions opts_;
  AgentPresence presence_;
  TokenCache<std::int64_t> agents_;  ///< token hash -> device
  /// device -> its cached token hash, so a re-enrolment drops the old one without a scan
  std::unordered_map<std::int64_t, std::string> cached_hash_;
};

}  // namespace revive::server
