#include "boot_script.hpp"

#include <cctype>

namespace revive::boot {

namespace {
// iPXE scripts are line-based; a value must never break out of its line or expand settings.
std::string script_safe(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\n' || c == '\r') {
      out += ' ';
    } else if (c == '$' || c == '{' || c == '}' || c == '\\' || c == '|' || c == '&' || c == ';' ||
               c == '"' || c == '\'') {
      out += '_';
    } else {
      out += c;
    }
  }
  return out;
}
}  // namespace

std::optional<std::string> normalise_mac(const std::string& text) {
  if (text.size() != 17) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (i % 3 == 2) {
      if (c != ':' && c != '-') return std::nullopt;
      out += ':';
    } else {
      if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  return out;
}

std::string ipxe_live_agent_script(const LiveAgentBoot& b) {
  const std::string live = b.base_url + "/boot/live";
  std::string s = "#!ipxe\n";
  s += "echo Revive: " + script_safe(b.reason) + "\n";
  // initrd= names the initrd for EFI kernels (without it a UEFI kernel started by iPXE
  // cannot find it); BIOS kernels ignore it.
  s += "kernel " + live + "/vmlinuz initrd=initrd.img revive.agent=1 revive.server=" + b.base_url +
       " revive.token=" + script_safe(b.token) + " revive.mac=" + b.mac +
       (b.kernel_args.empty() ? "" : " ") + script_safe(b.kernel_args) + " || goto failed\n";
  s += "initrd --name initrd.img " + live + "/initrd.img || goto failed\n";
  s += "boot || goto failed\n";
  s += ":failed\n";
  s += "echo Revive: the live agent could not be loaded from " + live +
       "; booting the local disk in 10 seconds\n";
  s += "sleep 10\n";
  s += "sanboot --no-describe --drive 0x80 || exit\n";
  return s;
}

std::string ipxe_local_disk_script(const std::string& mac, const std::string& reason,
                                   const FinishedScreen& screen) {
  std::string s = "#!ipxe\n";
  // A marker rather than the reason's words: a stick's init must not depend on the prose.
  s += "#revive: finished language=" + script_safe(screen.language) +
       " workshop=" + script_safe(screen.workshop) + "\n";
  s += "echo Revive: " + script_safe(mac) + ": " + script_safe(reason) + "\n";
  s += "iseq ${platform} efi && exit 1 ||\n";
  s += "sanboot --no-describe --drive 0x80 || exit\n";
  return s;
}

std::string ipxe_refused_script(const std::string& mac, const std::string& reason) {
  std::string s = "#!ipxe\n";
  s += "echo Revive: " + script_safe(mac) + ": " + script_safe(reason) + "\n";
  s += "echo Revive: nothing will be done to this machine; leaving network boot.\n";
  s += "sleep 5\n";
  s += "iseq ${platform} efi && exit 1 ||\n";
  s += "sanboot --no-describe --drive 0x80 || exit\n";
  return s;
}

std::string ipxe_error_script(const std::string& message) {
  std::string s = "#!ipxe\n";
  s += "echo Revive: " + script_safe(message) + "\n";
  s += "echo Booting the local disk in 10 seconds.\n";
  s += "sleep 10\n";
  s += "iseq ${platform} efi && exit 1 ||\n";
  s += "sanboot --no-describe --drive 0x80 || exit\n";
  return s;
}

std::string grub_main_cfg() {
  return "set timeout=0\n"
         "if [ -n \"$net_default_mac\" ]; then source /grub/revive-$net_default_mac.cfg; fi\n"
         "echo \"Revive: GRUB does not know this laptop's MAC address: leaving network boot\"\n"
         "exit\n";
}

std::optional<std::string> grub_cfg_mac(const std::string& name) {
  const std::string prefix = "grub/revive-", suffix = ".cfg";
  if (name.size() != prefix.size() + 17 + suffix.size() || name.rfind(prefix, 0) != 0 ||
      !name.ends_with(suffix))
    return std::nullopt;
  return normalise_mac(name.substr(prefix.size(), 17));
}

std::string grub_live_agent_cfg(const LiveAgentBoot& b) {
  std::string s = "set timeout=0\n";
  s += "echo \"Revive: " + script_safe(b.reason) + "\"\n";
  s += "linux /live/vmlinuz revive.agent=1 revive.server=" + script_safe(b.base_url) +
       " revive.token=" + script_safe(b.token) + " revive.mac=" + b.mac +
       (b.kernel_args.empty() ? "" : " ") + script_safe(b.kernel_args) + "\n";
  s += "initrd /live/initrd.img\n";
  s += "boot\n";
  return s;
}

std::string grub_local_disk_cfg(const std::string& mac, const std::string& reason) {
  return "echo \"Revive: " + script_safe(mac) + ": " + script_safe(reason) + "\"\nexit\n";
}

}  // namespace revive::boot
