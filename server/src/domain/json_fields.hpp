#pragma once
// Reading fields of JSON the server did not shape itself (an agent's inventory and step
// results, device summaries): the value when it is there with the expected type, else empty.
// A missing or mistyped field is an absent fact, never an exception.

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace revive::server {

/// The string at `key`, or "" when absent, not a string, or `j` is not an object.
std::string text_field(const nlohmann::json& j, const char* key);
/// The number at `key`, or nullopt when absent, not a number, or `j` is not an object.
std::optional<double> number_field(const nlohmann::json& j, const char* key);
/// `s` in ASCII lower case (firmware strings, filters).
std::string ascii_lower(std::string s);

}  // namespace revive::server
