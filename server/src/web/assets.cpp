#include "web/assets.hpp"

#include <algorithm>

namespace revive::server::web {

const Asset* find_asset(std::string_view name) {
  const auto all = assets();
  const auto it =
      std::find_if(all.begin(), all.end(), [&](const Asset& a) { return a.name == name; });
  return it == all.end() ? nullptr : &*it;
}

std::string_view content_type(std::string_view name) {
  const auto dot = name.rfind('.');
  const std::string_view ext = dot == std::string_view::npos ? "" : name.substr(dot + 1);
  if (ext == "html") return "text/html; charset=utf-8";
  if (ext == "css") return "text/css; charset=utf-8";
  if (ext == "js") return "text/javascript; charset=utf-8";
  if (ext == "json") return "application/json; charset=utf-8";
  if (ext == "svg") return "image/svg+xml";
  return "application/octet-stream";
}

}  // namespace revive::server::web
