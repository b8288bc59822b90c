#pragma once
// When each device's agent last used its token, in memory (a heartbeat costs no database
// write). An enrolment of a device whose agent is alive is refused instead of silently taking
// its place (issue 15: a second host enrolling as a known laptop cut the real agent off and
// posted invented evidence). After a restart the devices with running steps count as alive
// for one window, so a restart is not the moment to take one over.

#include <cstdint>
#include <unordered_map>

#include "storage/rows.hpp"

namespace revive::server {

class AgentPresence {
 public:
  /// The device's agent used its token at `now`.
  void seen(std::int64_t device, Seconds now) { last_[device] = now; }
  /// When the device's agent last used its token, or -1 when not since the start.
  Seconds last_seen(std::int64_t device) const {
    auto it = last_.find(device);
    return it == last_.end() ? -1 : it->second;
  }
  /// Whether the device's agent used its token within `window` seconds before `now`.
  bool alive(std::int64_t device, Seconds now, Seconds window) const {
    const Seconds at = last_seen(device);
    return at >= 0 && now - at <= window;
  }
  /// The device's agent is gone (its tokens were revoked).
  void forget(std::int64_t device) { last_.erase(device); }

 private:
  std::unordered_map<std::int64_t, Seconds> last_;
};

}  // namespace revive::server
