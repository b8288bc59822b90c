#pragma once
// Hex and base64 text forms of binary values (digests, keys, signatures).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace revive {

/// Lower-case hex of the bytes.
std::string to_hex(std::span<const std::uint8_t> bytes);

/// Bytes of a hex string (either case); nullopt when the text is not even-length hex.
std::optional<std::vector<std::uint8_t>> from_hex(std::string_view hex);

/// Standard base64 with padding.
std::string to_base64(std::span<const std::uint8_t> bytes);

/// Bytes of standard base64 text; nullopt when it is not valid base64.
std::optional<std::vector<std::uint8_t>> from_base64(std::string_view text);

/// `bytes` random bytes (libsodium's CSPRNG) as lower-case hex.
std::string random_hex(std::size_t bytes);

/// A random RFC 4122 version 4 UUID, lower-case.
std::string random_uuid();

/// The current time as RFC 3339 UTC with seconds ("2026-11-22T10:00:00Z").
std::string now_rfc3339();

}  // namespace revive
