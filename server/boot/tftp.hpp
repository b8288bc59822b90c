#pragma once
// TFTP (RFC 1350) with option negotiation (RFC 2347), blksize (2348), timeout and tsize (2349)
// and windowsize (7440): packet codec, option negotiation, the sender's window state machine,
// and opening a requested name confined to the TFTP root. Pure apart from the file opening; the
// sockets live in boot_services.cpp.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "revive/error.hpp"

namespace revive::boot {

namespace tftp_op {
inline constexpr std::uint16_t rrq = 1, wrq = 2, data = 3, ack = 4, error = 5, oack = 6;
}

namespace tftp_err {
inline constexpr std::uint16_t undefined = 0, not_found = 1, access = 2, disk_full = 3,
                               illegal_op = 4, unknown_tid = 5, exists = 6, no_user = 7,
                               bad_option = 8;
}

/// A read or write request as received on port 69.
struct TftpRequest {
  std::uint16_t opcode = 0;
  std::string filename;
  std::string mode;  ///< lower-cased: "octet", "netascii", "mail"
  std::vector<std::pair<std::string, std::string>> options;  ///< names lower-cased, in order
};

Result<TftpRequest> parse_tftp_request(std::span<const std::uint8_t> bytes);

/// A packet on a transfer port: ACK (block) or ERROR (code, message). Anything else is an error.
struct TftpReply {
  std::uint16_t opcode = 0;
  std::uint16_t block = 0;
  std::uint16_t error_code = 0;
  std::string error_message;
};
Result<TftpReply> parse_tftp_reply(std::span<const std::uint8_t> bytes);

std::vector<std::uint8_t> encode_tftp_data(std::uint16_t block,
                                           std::span<const std::uint8_t> payload);
std::vector<std::uint8_t> encode_tftp_oack(
    const std::vector<std::pair<std::string, std::string>>& options);
std::vector<std::uint8_t> encode_tftp_error(std::uint16_t code, const std::string& message);
std::vector<std::uint8_t> encode_tftp_ack(std::uint16_t block);
std::vector<std::uint8_t> encode_tftp_rrq(
    const std::string& file, const std::vector<std::pair<std::string, std::string>>& options);

/// Server limits for negotiation.
struct TftpLimits {
  std::uint16_t max_blksize = 1468;  ///< fits a 1500-byte Ethernet MTU without fragments
  std::uint16_t max_windowsize = 64;
  unsigned default_timeout_ms = 1000;
  /// The longest retransmit timeout a client may ask for. Each unacknowledged transfer holds a
  /// slot for timeout × (retries + 1): at RFC 2349's 255 s, 256 requests that never acknowledge
  /// would hold every slot for about 25 minutes and no laptop could boot.
  unsigned max_timeout_s = 5;
  unsigned retries = 5;
};

/// What a transfer runs with, and the OACK that tells the client (empty: no OACK, plain 1350).
struct TftpNegotiated {
  std::uint16_t blksize = 512;
  std::uint16_t windowsize = 1;
  unsigned timeout_ms = 1000;
  unsigned retries = 5;
  std::vector<std::pair<std::string, std::string>> oack;
};
/// RFC 2347: unknown or malformed options are ignored (left out of the OACK), values above our
/// limits are lowered; tsize is answered with the file size. A timeout above
/// `max_timeout_s` is ignored (RFC 2349 allows only an echo, not a lower value), so the
/// transfer runs with the default timeout.
TftpNegotiated negotiate_tftp(const TftpRequest& req, std::uint64_t file_size,
                              const TftpLimits& limits);

/// The sending side of one read transfer with a window (RFC 7440; windowsize 1 is RFC 1350's
/// lock-step). Blocks are numbered 1.. internally with 64 bits; on the wire they wrap 65535 → 0
/// (what tftp-hpa and iPXE do for files over 32 MiB at 512 bytes).
class TftpSender {
 public:
  TftpSender(std::uint64_t file_size, const TftpNegotiated& n);

  /// True while waiting for ACK 0 of an OACK.
  bool awaiting_oack_ack() const { return awaiting_oack_ack_; }
  std::uint64_t total_blocks() const { return total_blocks_; }
  /// Blocks to send now (a whole window from the first unacknowledged block).
  std::vector<std::uint64_t> window() const;
  /// Byte offset and length of a block.
  std::pair<std::uint64_t, std::size_t> extent(std::uint64_t block) const;
  static std::uint16_t wire(std::uint64_t block) {
    return static_cast<std::uint16_t>(block & 0xffff);
  }

  enum class Ack { advanced, duplicate, resend, done };
  /// An ACK with a wire block number. An ACK inside the window moves it (advanced: send the
  /// next window). With a window above 1, the first repeat of the last acknowledged block means
  /// the client lost the window's first block (RFC 7440 §4): resend the window once. Further
  /// repeats and stale ACKs change nothing (no Sorcerer's Apprentice); the timer recovers.
  Ack on_ack(std::uint16_t wire_block);
  /// The timer fired without progress: false once the retries are used up.
  bool on_timeout();
  bool done() const { return acked_ == total_blocks_ && !awaiting_oack_ack_; }
  unsigned retransmits() const { return retransmits_; }

 private:
  std::uint64_t size_;
  std::uint16_t blksize_;
  std::uint16_t windowsize_;
  std::uint64_t total_blocks_;
  std::uint64_t acked_ = 0;  ///< highest block the client acknowledged
  bool awaiting_oack_ack_;
  unsigned tries_ = 0;
  unsigned max_tries_ = 5;
  unsigned retransmits_ = 0;
  bool resent_for_duplicate_ = false;
};

/// Opens `name` for reading inside `root` and nowhere else: "\\" is read as "/", a leading "/"
/// is dropped, and the kernel resolves the rest beneath the root (openat2 RESOLVE_BENEATH), so
/// ".." and symlinks that lead outside are refused. Only regular files. Errc::not_found or
/// Errc::invalid_input ("outside the TFTP root").
struct ConfinedFile {
  int fd = -1;
  std::uint64_t size = 0;
};
Result<ConfinedFile> open_confined(int root_fd, const std::string& name);

}  // namespace revive::boot
