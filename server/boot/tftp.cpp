#include "tftp.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>

namespace revive::boot {

namespace {

std::uint16_t get16(std::span<const std::uint8_t> b, std::size_t at) {
  return static_cast<std::uint16_t>((b[at] << 8) | b[at + 1]);
}
void put16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}
void put_string(std::vector<std::uint8_t>& out, const std::string& s) {
  out.insert(out.end(), s.begin(), s.end());
  out.push_back(0);
}
std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}
std::optional<std::uint64_t> to_number(const std::string& s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

Result<TftpRequest> parse_tftp_request(std::span<const std::uint8_t> b) {
  if (b.size() < 4)
    return make_error(Errc::invalid_input,
                      "TFTP packet of " + std::to_string(b.size()) + " bytes is too short");
  if (b.size() > 65464) return make_error(Errc::invalid_input, "TFTP request is too long");
  TftpRequest r;
  r.opcode = get16(b, 0);
  if (r.opcode != tftp_op::rrq && r.opcode != tftp_op::wrq) {
    return make_error(Errc::invalid_input, "TFTP opcode " + std::to_string(r.opcode) +
                                               " is not a read or write request");
  }
  if (b.back() != 0) return make_error(Errc::invalid_input, "TFTP request does not end with a NUL");
  // Strings separated by NULs: filename, mode, then name/value pairs.
  std::vector<std::string> parts;
  std::size_t start = 2;
  for (std::size_t i = 2; i < b.size(); ++i) {
    if (b[i] == 0) {
      parts.emplace_back(reinterpret_cast<const char*>(b.data() + start), i - start);
      start = i + 1;
    }
  }
  if (parts.size() < 2)
    return make_error(Errc::invalid_input, "TFTP request lacks a file name or a mode");
  if (parts[0].empty()) return make_error(Errc::invalid_input, "TFTP request names no file");
  r.filename = parts[0];
  r.mode = lower(parts[1]);
  if (r.mode != "octet" && r.mode != "netascii" && r.mode != "mail") {
    return make_error(Errc::invalid_input,
                      "TFTP mode \"" + parts[1] + "\" is not octet, netascii or mail");
  }
  // A trailing empty string (some clients pad) is ignored; an option without a value is not.
  std::size_t n = parts.size();
  if ((n - 2) % 2 == 1 && parts.back().empty()) --n;
  if ((n - 2) % 2 == 1)
    return make_error(Errc::invalid_input, "TFTP option \"" + parts[n - 1] + "\" has no value");
  for (std::size_t i = 2; i + 1 < n; i += 2) r.options.emplace_back(lower(parts[i]), parts[i + 1]);
  return r;
}

Result<TftpReply> parse_tftp_reply(std::span<const std::uint8_t> b) {
  if (b.size() < 4)
    return make_error(Errc::invalid_input,
                      "TFTP packet of " + std::to_string(b.size()) + " bytes is too short");
  TftpReply r;
  r.opcode = get16(b, 0);
  if (r.opcode == tftp_op::ack) {
    r.block = get16(b, 2);
    return r;
  }
  if (r.opcode == tftp_op::error) {
    r.error_code = get16(b, 2);
    const auto end = std::find(b.begin() + 4, b.end(), std::uint8_t{0});
    r.error_message.assign(b.begin() + 4, end);
    if (r.error_message.size() > 200) r.error_message.resize(200);
    return r;
  }
  return make_error(Errc::invalid_input, "TFTP opcode " + std::to_string(r.opcode) +
                                             " is not expected from a reading client");
}

std::vector<std::uint8_t> encode_tftp_data(std::uint16_t block,
                                           std::span<const std::uint8_t> payload) {
  std::vector<std::uint8_t> out;
  out.reserve(4 + payload.size());
  put16(out, tftp_op::data);
  put16(out, block);
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

std::vector<std::uint8_t> encode_tftp_oack(
    const std::vector<std::pair<std::string, std::string>>& options) {
  std::vector<std::uint8_t> out;
  put16(out, tftp_op::oack);
  for (const auto& [k, v] : options) {
    put_string(out, k);
    put_string(out, v);
  }
  return out;
}

std::vector<std::uint8_t> encode_tftp_error(std::uint16_t code, const std::string& message) {
  std::vector<std::uint8_t> out;
  put16(out, tftp_op::error);
  put16(out, code);
  put_string(out, message.substr(0, 200));
  return out;
}

std::vector<std::uint8_t> encode_tftp_ack(std::uint16_t block) {
  std::vector<std::uint8_t> out;
  put16(out, tftp_op::ack);
  put16(out, block);
  return out;
}

std::vector<std::uint8_t> encode_tftp_rrq(
    const std::string& file, const std::vector<std::pair<std::string, std::string>>& options) {
  std::vector<std::uint8_t> out;
  put16(out, tftp_op::rrq);
  put_string(out, file);
  put_string(out, "octet");
  for (const auto& [k, v] : options) {
    put_string(out, k);
    put_string(out, v);
  }
  return out;
}

TftpNegotiated negotiate_tftp(const TftpRequest& req, std::uint64_t file_size,
                              const TftpLimits& limits) {
  TftpNegotiated n;
  n.timeout_ms = limits.default_timeout_ms;
  n.retries = limits.retries;
  for (const auto& [name, value] : req.options) {
    const auto v = to_number(value);
    if (name == "blksize" && v && *v >= 8) {  // RFC 2348: 8..65464
      n.blksize =
          static_cast<std::uint16_t>(std::min<std::uint64_t>({*v, 65464, limits.max_blksize}));
      n.oack.emplace_back(name, std::to_string(n.blksize));
    } else if (name == "windowsize" && v && *v >= 1) {  // RFC 7440: 1..65535
      n.windowsize =
          static_cast<std::uint16_t>(std::min<std::uint64_t>({*v, 65535, limits.max_windowsize}));
      n.oack.emplace_back(name, std::to_string(n.windowsize));
    } else if (name == "timeout" && v && *v >= 1 && *v <= limits.max_timeout_s) {  // RFC 2349
      n.timeout_ms = static_cast<unsigned>(*v) * 1000;
      n.oack.emplace_back(name, value);
    } else if (name == "tsize" && v) {  // a reading client sends 0 and gets the size back
      n.oack.emplace_back(name, std::to_string(file_size));
    }
    // anything else: ignored, as RFC 2347 says
  }
  return n;
}

TftpSender::TftpSender(std::uint64_t file_size, const TftpNegotiated& n)
    : size_(file_size),
      blksize_(std::max<std::uint16_t>(8, n.blksize)),
      windowsize_(std::max<std::uint16_t>(1, n.windowsize)),
      total_blocks_(file_size / std::max<std::uint16_t>(8, n.blksize) +
                    1),  // the last block is short, maybe empty
      awaiting_oack_ack_(!n.oack.empty()),
      max_tries_(n.retries) {}

std::vector<std::uint64_t> TftpSender::window() const {
  std::vector<std::uint64_t> w;
  if (awaiting_oack_ack_) return w;  // the OACK itself is resent by the caller
  for (std::uint64_t b = acked_ + 1; b <= total_blocks_ && b <= acked_ + windowsize_; ++b)
    w.push_back(b);
  return w;
}

std::pair<std::uint64_t, std::size_t> TftpSender::extent(std::uint64_t block) const {
  const std::uint64_t off = (block - 1) * blksize_;
  const std::uint64_t len = off >= size_ ? 0 : std::min<std::uint64_t>(blksize_, size_ - off);
  return {off, static_cast<std::size_t>(len)};
}

TftpSender::Ack TftpSender::on_ack(std::uint16_t wire_block) {
  if (awaiting_oack_ack_) {
    if (wire_block != 0) return Ack::duplicate;
    awaiting_oack_ack_ = false;
    tries_ = 0;
    return done() ? Ack::done : Ack::advanced;
  }
  // Which block inside (acked, acked + window] has this wire number?
  for (std::uint64_t b = acked_ + 1; b <= total_blocks_ && b <= acked_ + windowsize_; ++b) {
    if (wire(b) == wire_block) {
      acked_ = b;
      tries_ = 0;
      resent_for_duplicate_ = false;
      return done() ? Ack::done : Ack::advanced;
    }
  }
  if (windowsize_ > 1 && wire_block == wire(acked_) && !resent_for_duplicate_) {
    resent_for_duplicate_ = true;
    ++retransmits_;
    return Ack::resend;
  }
  return Ack::duplicate;
}

bool TftpSender::on_timeout() {
  if (++tries_ > max_tries_) return false;
  ++retransmits_;
  return true;
}

Result<ConfinedFile> open_confined(int root_fd, const std::string& requested) {
  std::string name = requested;
  std::replace(name.begin(), name.end(), '\\', '/');
  while (!name.empty() && name.front() == '/') name.erase(0, 1);
  if (name.empty() || name.find('\0') != std::string::npos || name.size() > 1024) {
    return make_error(Errc::invalid_input,
                      "\"" + requested.substr(0, 100) + "\" is not a file name");
  }
  open_how how{};
  how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  const int fd = static_cast<int>(::syscall(SYS_openat2, root_fd, name.c_str(), &how, sizeof how));
  if (fd < 0) {
    const int err = errno;
    if (err == EXDEV || err == ELOOP)
      return make_error(Errc::invalid_input,
                        "\"" + requested.substr(0, 100) + "\" is outside the TFTP root");
    if (err == ENOENT || err == ENOTDIR)
      return make_error(Errc::not_found, "\"" + requested.substr(0, 100) + "\" does not exist");
    return errno_error(err, "open " + requested.substr(0, 100));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return make_error(Errc::not_found,
                      "\"" + requested.substr(0, 100) + "\" is not a regular file");
  }
  return ConfinedFile{fd, static_cast<std::uint64_t>(st.st_size)};
}

}  // namespace revive::boot
