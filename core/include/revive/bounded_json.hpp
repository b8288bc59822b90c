#pragma once
// JSON parsing with a nesting limit checked before any value is built. nlohmann::json parses,
// copies and compares recursively, so a body nested 100,000 deep (200 KB) overflows the stack
// of whoever touches it; every JSON text that comes from outside the process (request bodies,
// manifests, signed documents, database columns) goes through here (docs/SECURITY.md).

#include <nlohmann/json.hpp>

#include <string_view>

namespace revive {

/// Deep enough for every document Revive writes (certificates nest about 6 levels).
inline constexpr int kMaxJsonDepth = 64;

/// The deepest nesting of arrays/objects in `text`, stopping early once past `limit` (so the
/// answer is then some value above `limit`). Brackets inside strings do not count; malformed
/// text is left for the parser to refuse.
int json_nesting_depth(std::string_view text, int limit);

/// Parses `text` without exceptions: a discarded value (is_discarded()) when the text is not
/// JSON or nests deeper than `max_depth`.
nlohmann::json parse_json_bounded(std::string_view text, int max_depth = kMaxJsonDepth);

}  // namespace revive
