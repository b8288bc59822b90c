#pragma once
// The body of a chunk stream: a relay's (`GET /stream/{position}`) or the server's (`GET
// /api/v1/images/{name}/stream/{position}`): the chunks of the image from data extent `position`
// on, in the manifest's order, each sent once (a repeated chunk only the first time), as soon as
// the relay has verified it (the server has them all). One record per chunk:
//
//   32 bytes  SHA-256 of the chunk's raw content
//    4 bytes  length of the zstd frame that follows, big-endian
//    4 bytes  flags, big-endian (0 for a chunk)
//    n bytes  the frame
//
// While a relay waits for its next chunk it sends a keep-alive record about once a second: an
// all-zero digest, length 0, and flag kFilling when it gained chunks meanwhile (it is behind,
// not stuck). A chain's child thus gets chunk k one chunk-time after its parent verified it,
// with no request in between, on one connection whose TCP window stays open.
//
// The receiver trusts nothing in it: lengths are bounded, and every frame is checked against
// the signed manifest by the deploy pipeline like any other. The reader of these records is the
// agent's (revive/agent/transport/chunk_stream.hpp).

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "revive/sha256.hpp"

namespace revive::chunk_stream {

inline constexpr std::size_t kHeaderSize = 40;
inline constexpr std::uint32_t kFilling = 1;

struct Header {
  Digest digest{};
  std::uint32_t length = 0;
  std::uint32_t flags = 0;
  bool keep_alive() const { return digest == Digest{} && length == 0; }
};

inline std::array<std::byte, kHeaderSize> encode(const Header& h) {
  std::array<std::byte, kHeaderSize> out{};
  std::memcpy(out.data(), h.digest.data(), h.digest.size());
  for (int i = 0; i < 4; ++i) {  // big-endian
    out[32 + i] = static_cast<std::byte>(h.length >> (24 - 8 * i));
    out[36 + i] = static_cast<std::byte>(h.flags >> (24 - 8 * i));
  }
  return out;
}

/// The server's stream of an image: its route pattern, and where its paths begin (the
/// relay's protocol::path::relay_stream() appended gives the route).
inline constexpr std::string_view kImageStreamRoute = "/api/v1/images/{name}/stream/{position}";
inline std::string image_stream_base(std::string_view image) {
  return "/api/v1/images/" + std::string(image);
}

}  // namespace revive::chunk_stream
