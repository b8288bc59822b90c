#pragma once
// Internal to the protocol codec (core/src/protocol_*.cpp): the field readers every decoder
// uses, each naming the field it refuses, and the text -> enum readers of the two enums that
// live inside messages.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "revive/protocol.hpp"

namespace revive::protocol::fields {

Error bad(const std::string& what);

Result<std::int64_t> positive_int(const Json& j, const char* key);
/// Absent or null reads as 0; a negative or non-integer value is refused.
Result<std::uint64_t> count(const Json& j, const char* key);
Result<std::string> required_string(const Json& j, const char* key);
/// Absent or null reads as empty; any other non-string is refused.
Result<std::string> optional_string(const Json& j, const char* key);
/// Absent or null reads as false.
Result<bool> optional_bool(const Json& j, const char* key);
/// Absent or null reads as an empty object.
Result<Json> optional_object(const Json& j, const char* key);
Result<std::optional<double>> optional_number(const Json& j, const char* key);
/// The "kind" field as a StepKind; an unknown kind is refused, listing the known ones.
Result<StepKind> kind_field(const Json& j);
/// invalid_input "<what> must be a JSON object" unless `j` is one.
Result<void> require_object(const Json& j, const char* what);

std::optional<NextResponse::State> next_state_from(std::string_view s);
std::optional<SourceAssignment::Kind> source_kind_from(std::string_view s);

}  // namespace revive::protocol::fields

/// Declares `var` as the value of a Result-returning `expr`, or returns its error. `var` is the
/// name being declared, which parentheses would turn into an expression: hence the NOLINT.
#define REVIVE_FIELD(var, expr)         \
  auto var##_r = (expr);                \
  if (!var##_r) return var##_r.error(); \
  auto& var = *var##_r  // NOLINT(bugprone-macro-parentheses)
