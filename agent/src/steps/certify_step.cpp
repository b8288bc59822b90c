#include <algorithm>

#include "step.hpp"

namespace revive::agent::steps {

// The certify step: the laptop leaves only with a passed erasure certificate on the server
// (issued from its wipe step's evidence); the step records which.
Outcome run_certify_step(const StepContext& ctx) {
  auto certs = ctx.server.certificates();
  if (!certs) return failed("certificates: " + certs.error().message);
  Json ids = Json::array();
  for (const auto& c : *certs) ids.push_back(c.cert_id);
  // Newest first: the first laptop certificate is the one that counts.
  const auto laptop =
      std::find_if(certs->begin(), certs->end(), [](const auto& c) { return c.kind == "laptop"; });
  if (laptop == certs->end()) {
    return failed("no erasure certificate for this laptop: its workflow needs a wipe step first",
                  {{"certificates", ids}});
  }
  if (laptop->result != "passed")
    return failed("the laptop's latest erasure certificate did not pass", {{"certificates", ids}});
  ctx.log("  erasure certificate " + laptop->cert_id + " is on the server");
  return succeeded({{"laptop_certificate", laptop->cert_id}, {"certificates", ids}});
}

}  // namespace revive::agent::steps
