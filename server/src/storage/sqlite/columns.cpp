#include "storage/sqlite/columns.hpp"

#include "revive/bounded_json.hpp"

namespace revive::server::sqlite {

Json json_column(const std::string& text) {
  Json j = parse_json_bounded(text);
  return j.is_discarded() ? Json() : j;
}

std::optional<Json> opt_json_column(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  return json_column(*text);
}

StepKind step_kind_column(const std::string& text) {
  // Kinds are checked when a workflow is stored, so an unknown one means a newer server wrote
  // it; inventory is the step that changes nothing on the laptop.
  return protocol::step_kind_from(text).value_or(StepKind::inventory);
}

StepState step_state_column(const std::string& text) {
  return protocol::step_state_from(text).value_or(StepState::failed);
}

RunState run_state_column(const std::string& text) {
  return protocol::run_state_from(text).value_or(RunState::failed);
}

Error unique_violation_as_conflict(const Error& e, const std::string& what) {
  if (e.message.find("UNIQUE constraint failed") != std::string::npos) {
    return make_error(Errc::conflict, what);
  }
  return e;
}

}  // namespace revive::server::sqlite
