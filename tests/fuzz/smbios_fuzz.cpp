// libFuzzer target for the SMBIOS parser: the first byte picks how much of the input is the
// entry point, the rest is the table. Run: build/fuzz/tests/smbios_fuzz -max_total_time=60
#include <cstddef>
#include <cstdint>
#include <span>

#include "revive/agent/smbios.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t ep_len = std::min<std::size_t>(data[0] % 32, size - 1);
  const auto* bytes = reinterpret_cast<const std::byte*>(data + 1);
  const auto info =
      revive::agent::parse_smbios({bytes, ep_len}, {bytes + ep_len, size - 1 - ep_len});
  volatile std::size_t sink = info.memory.size() + info.system.serial.size() + info.warnings.size();
  (void)sink;
  return 0;
}
