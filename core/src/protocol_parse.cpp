// Bounded parsing of protocol bodies (revive/protocol.hpp): the nesting limit is checked
// before any value is built.

#include "protocol_fields.hpp"
#include "revive/bounded_json.hpp"
#include "revive/protocol.hpp"

namespace revive::protocol {

using fields::bad;

bool is_canonical(std::string_view text, const Json& parsed) {
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  return parsed.dump(-1, ' ', false, Json::error_handler_t::replace) == text;
}

Result<Json> parse_object(std::string_view text, int max_depth) {
  if (text.empty()) return bad("the body must be a JSON object");
  if (json_nesting_depth(text, max_depth) > max_depth) {
    return bad("the JSON body is nested deeper than " + std::to_string(max_depth) + " levels");
  }
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return bad("the body is not a JSON object");
  return j;
}

}  // namespace revive::protocol
