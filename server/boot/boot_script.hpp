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

/// What a laptop booted from a Revive USB stick shows when its workflow is already done: the
/// workshop's name and screen language (provisioning/live/stick-boot.sh reads them).
struct FinishedScreen {
  std::string language;  ///< "nl", "fr", "en"
  std::string workshop;  ///< may be empty
};

/// Leaves iPXE so the firmware boots the next device (UEFI: `exit 1`, an error status, since
/// OVMF and many laptops open their boot menu instead when a boot option returns success), or
/// boots the first hard disk (BIOS). Its second line, `#revive: finished language=.. workshop=..`
/// (a comment to iPXE), tells a USB stick's init that this laptop is done.
std::string ipxe_local_disk_script(const std::string& mac, const std::string& reason,
                                   const FinishedScreen& screen = {});

/// A machine this server will not process (not in intake): says why on its screen for a few
/// seconds, then leaves network boot so the firmware boots the next device (UEFI: `exit 1`;
/// BIOS: the first hard disk). No live agent, no token.
std::string ipxe_refused_script(const std::string& mac, const std::string& reason);

/// Refuses to boot anything (bad MAC in the URL, no live image on the server): says why, then
/// falls back to the local disk after a pause, so a laptop is never stuck in a boot loop.
std::string ipxe_error_script(const std::string& message);

/// GRUB (the Secure Boot path: signed shim → signed GRUB → signed kernel). GRUB reads
/// /grub/grub.cfg from the TFTP root, which sources the laptop's own config by its MAC.
std::string grub_main_cfg();
/// The name GRUB asks for: "grub/revive-52:54:00:12:34:56.cfg" → the MAC, else nullopt.
std::optional<std::string> grub_cfg_mac(const std::string& tftp_name);
/// The kernel and initrd come over TFTP ("/live/..." in the server's TFTP namespace).
std::string grub_live_agent_cfg(const LiveAgentBoot& b);
std::string grub_local_disk_cfg(const std::string& mac, const std::string& reason);

}  // namespace revive::boot
