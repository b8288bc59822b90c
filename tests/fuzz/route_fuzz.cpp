// libFuzzer target for what the HTTP layer does with a request line before any handler runs:
// URL decoding, query and Range parsing, and routing through the server's route table.
// Checks: no crash; a matched route's method is the request's, its pattern filled with the
// captured parameters gives back the path, and no earlier route of the table matches;
// a satisfiable byte range lies inside the resource.
// Run: build/fuzz/tests/route_fuzz -max_total_time=60
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "api/route_table.hpp"
#include "http/http_types.hpp"

using namespace revive::server;

namespace {

std::string fill(std::string_view pattern, const PathParams& params) {
  std::string out;
  while (!pattern.empty()) {
    const auto open = pattern.find('{');
    if (open == std::string_view::npos) break;
    const auto close = pattern.find('}', open);
    out += pattern.substr(0, open);
    out += params.at(std::string(pattern.substr(open + 1, close - open - 1)));
    pattern.remove_prefix(close + 1);
  }
  return out + std::string(pattern);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  static constexpr const char* kMethods[] = {"GET", "POST", "DELETE", "PUT", "HEAD"};
  const std::string method = kMethods[data[0] % 5];
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto qpos = text.find('?');
  auto path = url_decode(text.substr(0, qpos), false);
  if (qpos != std::string_view::npos) (void)parse_query(text.substr(qpos + 1));
  const std::uint64_t resource = size * 977;
  if (auto r = parse_range(text, resource); r && r->satisfiable) {
    if (r->length == 0 || r->first + r->length > resource) std::abort();
  }
  if (!path) return 0;
  const auto table = route_table();
  auto m = find_route(table, method, *path);
  if (!m) return 0;
  if (m->route->method != method) std::abort();
  if (fill(m->route->pattern, m->params) != *path) std::abort();
  for (const auto& r : table) {
    if (&r == m->route) break;
    PathParams p;
    if (r.method == method && match_route(r.pattern, *path, p)) std::abort();
  }
  return 0;
}
