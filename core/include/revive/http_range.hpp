#pragma once
// HTTP `Range: bytes=...` for one resource, pure: the server's chunk serving and the agents'
// peer relay answer ranges the same way.

#include <cstdint>
#include <optional>
#include <string_view>

namespace revive {

/// Parses a single "bytes=a-b" / "bytes=a-" / "bytes=-n" range against a resource size.
/// nullopt: header absent or not a single byte range (serve the whole thing);
/// {0,0,false}: unsatisfiable (416).
struct ByteRange {
  std::uint64_t first = 0;
  std::uint64_t length = 0;
  bool satisfiable = true;
};
std::optional<ByteRange> parse_range(std::string_view header, std::uint64_t size);

}  // namespace revive
