#pragma once
// The browser side of revive-server (server/web/: the wall screen's page, style, script and
// one strings file per language), compiled into the binary by cmake/embed_files.cmake. Built
// in rather than installed beside it: the server and its pages come from one build and cannot
// disagree after an upgrade, a workshop copies one file, and nothing is read from disk per
// request (no path from a URL ever reaches the file system).

#include <span>
#include <string_view>

namespace revive::server::web {

struct Asset {
  std::string_view name;  ///< the file name, e.g. "wall.js"
  std::string_view etag;  ///< the first 16 hex digits of the content's SHA-256
  std::string_view body;
};

/// Every embedded file.
std::span<const Asset> assets();
/// The file named `name`, or nullptr.
const Asset* find_asset(std::string_view name);
/// Its Content-Type, from the extension ("application/octet-stream" when unknown).
std::string_view content_type(std::string_view name);

}  // namespace revive::server::web
