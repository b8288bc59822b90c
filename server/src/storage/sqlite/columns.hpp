#pragma once
// Shared by the SQLite repositories: reading typed values out of columns, and the one
// assign-or-return macro they use. Internal to storage/sqlite.

#include <optional>
#include <string>
#include <vector>

#include "storage/rows.hpp"
#include "storage/sqlite/database.hpp"

namespace revive::server::sqlite {

/// A JSON column; null (not an error) when the text does not parse: the rows came from us.
Json json_column(const std::string& text);
std::optional<Json> opt_json_column(const std::optional<std::string>& text);

/// Enum columns; a value this server does not know reads as the fail-closed one.
StepKind step_kind_column(const std::string& text);
StepState step_state_column(const std::string& text);
RunState run_state_column(const std::string& text);

/// The conflict error for a unique-constraint failure, else the error as it is.
Error unique_violation_as_conflict(const Error& e, const std::string& what);

/// Every row `q` steps to, each read by `read(q)`; a failed step is the error.
template <class Read>
auto all_rows(Statement& q, Read read) -> Result<std::vector<decltype(read(q))>> {
  std::vector<decltype(read(q))> out;
  for (;;) {
    auto row = q.step();
    if (!row) return row.error();
    if (!*row) return out;
    out.push_back(read(q));
  }
}

/// The row `q` steps to first, read by `read(q)`; nullopt when there is none; a failed step is
/// the error. For lookups by a unique key or with LIMIT 1: further rows are not read.
template <class Read>
auto one_row(Statement& q, Read read) -> Result<std::optional<decltype(read(q))>> {
  auto row = q.step();
  if (!row) return row.error();
  if (!*row) return std::optional<decltype(read(q))>();
  return std::optional<decltype(read(q))>(read(q));
}

}  // namespace revive::server::sqlite

// `var` is the name being declared, which parentheses would turn into an expression: hence
// the NOLINT.
#define REVIVE_SQL_ASSIGN(var, expr)    \
  auto var##_r = (expr);                \
  if (!var##_r) return var##_r.error(); \
  auto& var = *var##_r  // NOLINT(bugprone-macro-parentheses)
