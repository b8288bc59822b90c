#pragma once
// Laptops joining: enrolment (find or create the device, record what it reported, a new
// per-boot agent token, a workflow run when it has none), agent authentication, and the
// single-boot tokens handed out in boot scripts.

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "domain/context.hpp"
#include "domain/token_cache.hpp"
#include "revive/protocol.hpp"

namespace revive::server {

class Enrolment {
 public:
  explicit Enrolment(DomainContext& ctx) : ctx_(ctx) {}

  /// Finds or creates the device, records MACs and inventory, issues a new agent token (the
  /// device's earlier tokens stop working) and makes sure it has a run. invalid_input without
  /// a UUID or serial; unauthorized for a boot token this server did not issue.
  Result<protocol::EnrolResponse> enrol(const protocol::EnrolRequest& request);
  /// The device an agent token belongs to; unauthorized for an unknown or replaced token.
  Result<std::int64_t> authenticate(std::string_view token);
  /// A fresh single-boot token for a live-agent boot script, stored by hash with the MAC (old
  /// tokens are pruned so the table stays bounded whatever asks); io on a storage failure.
  Result<std::string> issue_boot_token(const std::string& mac);

 private:
  Result<std::string> redeem_boot_token(const std::string& token);
  Result<std::pair<std::int64_t, bool>> record_device(const protocol::EnrolRequest& request);
  void remember(const std::string& hash, std::int64_t device);

  DomainContext& ctx_;
  TokenCache<std::int64_t> agents_;  ///< token hash -> device
  /// device -> its cached token hash, so a re-enrolment drops the old one without a scan
  std::unordered_map<std::int64_t, std::string> cached_hash_;
};

}  // namespace revive::server
