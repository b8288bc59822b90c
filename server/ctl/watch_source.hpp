#pragma once
// The SOURCE cell of `revivectl watch`: where a deploying laptop fetches chunks from (the
// server, a peer named by its serial, its place in the server's queue), and afterwards how its
// last deploy was delivered. Pure, over the JSON of GET /api/v1/devices.

#include <nlohmann/json.hpp>
#include <string>

namespace revive::ctl {

/// "server", "peer SN01" (the peer's serial from `devices`, else "peer 7"), "queued #3" while
/// `device` deploys; "done 75% peer" (share of bytes from peers) after a deploy that recorded
/// its delivery; "-" otherwise.
std::string source_cell(const nlohmann::json& device, const nlohmann::json& devices);

}  // namespace revive::ctl
