// The protocol codec's field readers (protocol_fields.hpp).

#include "protocol_fields.hpp"

namespace revive::protocol::fields {

Error bad(const std::string& what) { return make_error(Errc::invalid_input, what); }

Result<std::int64_t> positive_int(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer() || it->get<std::int64_t>() <= 0) {
    return bad(std::string("\"") + key + "\" must be a positive integer");
  }
  return it->get<std::int64_t>();
}

Result<std::uint64_t> count(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::uint64_t{0};
  if (!it->is_number_integer() || it->get<std::int64_t>() < 0) {
    return bad(std::string("\"") + key + "\" must be a count");
  }
  return it->get<std::uint64_t>();
}

Result<std::string> required_string(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string())
    return bad(std::string("\"") + key + "\" must be a string");
  return it->get<std::string>();
}

/// Absent or null reads as empty; any other non-string is refused.
Result<std::string> optional_string(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::string();
  if (!it->is_string()) return bad(std::string("\"") + key + "\" must be a string");
  return it->get<std::string>();
}

Result<bool> optional_bool(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return false;
  if (!it->is_boolean()) return bad(std::string("\"") + key + "\" must be true or false");
  return it->get<bool>();
}

Result<Json> optional_object(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Json::object();
  if (!it->is_object()) return bad(std::string("\"") + key + "\" must be an object");
  return *it;
}

Result<std::optional<double>> optional_number(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::optional<double>();
  if (!it->is_number()) return bad(std::string("\"") + key + "\" must be a number");
  return std::optional<double>(it->get<double>());
}

Result<StepKind> kind_field(const Json& j) {
  auto s = required_string(j, "kind");
  if (!s) return s.error();
  auto k = step_kind_from(*s);
  if (!k)
    return bad("unknown step kind \"" + s->substr(0, 32) + "\" (one of " + step_kind_list() + ")");
  return *k;
}

Result<void> require_object(const Json& j, const char* what) {
  if (!j.is_object()) return bad(std::string(what) + " must be a JSON object");
  return {};
}

}  // namespace revive::protocol::fields
