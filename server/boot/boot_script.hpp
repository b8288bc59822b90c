#pragma once
// The iPXE script a network-booting laptop fetches from GET /boot/{mac}.ipxe: boot the live
// agent, or boot the local disk. Pure text rendering; the decision comes from the state store.

#include <optional>
#include <string>

namespace revive::boot {

/// "52-54-00-12-34-56" or "52:54:00:12:34:56" (any case) → "52:54:00:12:34:56"; nullopt otherwise.
std::optional<std::string> normalise_mac(const std::string& text);

struct LiveAgentBoot {
  std::string base_url;     ///< "http://10.0.0.2:8080"
  std::string mac;          ///< normalised
  std::string token;        ///< single-boot token (URL-safe base64)
  std::string kernel_args;  ///< extra kernel arguments (console=..., quiet)
  std::string reason;       ///< shown on the laptop's screen
};
std::string ipxe_live_agent_script(const LiveAgentBoot& b);

/// Leaves iPXE so the firmware boots the next device (UEFI), or boots the first hard disk (BIOS).
std::string ipxe_local_disk_script(const std::string& mac, const std::string& reason);

/// Refuses to boot anything (bad MAC in the URL, no live image on the server): says why, then
/// falls back to the local disk after a pause, so a laptop is never stuck in a boot loop.
std::string ipxe_error_script(const std::string& message);

}  // namespace revive::boot
