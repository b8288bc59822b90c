// libFuzzer target for the TFTP server's input: requests on port 69 (parse + negotiate) and
// packets on a transfer port (ACK/ERROR) driving the window sender. Checks: no crash, the
// sender never asks for a block outside the file, and negotiated values stay within limits.
// Run: build/fuzz/tests/tftp_fuzz -max_total_time=60
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "tftp.hpp"

using namespace revive::boot;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t split = data[0] % size;
  auto req = parse_tftp_request(std::span(data + 1, split > 0 ? split - 1 : 0));
  TftpLimits limits;
  const std::uint64_t file_size = (static_cast<std::uint64_t>(data[1]) << 12) + size;
  TftpNegotiated n;
  if (req) {
    n = negotiate_tftp(*req, file_size, limits);
    if (n.blksize < 8 || n.blksize > limits.max_blksize || n.windowsize < 1 ||
        n.windowsize > limits.max_windowsize)
      std::abort();
  }
  TftpSender s(file_size, n);
  // The rest: a stream of 4-byte client packets.
  for (std::size_t i = split; i + 4 <= size; i += 4) {
    auto r = parse_tftp_reply(std::span(data + i, 4));
    if (!r) continue;
    if (r->opcode == tftp_op::ack)
      s.on_ack(r->block);
    else
      s.on_timeout();
    for (auto b : s.window()) {
      auto [off, len] = s.extent(b);
      if (b == 0 || b > s.total_blocks() || off + len > file_size) std::abort();
    }
  }
  return 0;
}
