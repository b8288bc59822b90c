#include "revive/csv.hpp"

namespace revive {

namespace {
bool starts_formula(std::string_view v) {
  return !v.empty() && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@');
}
}  // namespace

std::string csv_field(std::string_view value, CsvQuoting quoting) {
  std::string v;
  v.reserve(value.size() + 3);
  if (starts_formula(value)) v += '\'';
  v += value;
  if (quoting == CsvQuoting::when_needed && v.find_first_of(",\"\r\n") == std::string::npos) {
    return v;
  }
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace revive
