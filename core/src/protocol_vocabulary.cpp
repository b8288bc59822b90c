// The protocol's vocabulary (revive/protocol.hpp): each enum's names on the wire, one table per
// enum, read both ways.

#include <array>
#include <utility>

#include "protocol_fields.hpp"
#include "revive/protocol.hpp"

namespace revive::protocol {

namespace {

constexpr std::array<std::pair<StepKind, std::string_view>, 8> kStepKindNames{{
    {StepKind::inventory, "inventory"},
    {StepKind::checks, "checks"},
    {StepKind::wipe, "wipe"},
    {StepKind::test, "test"},
    {StepKind::deploy, "deploy"},
    {StepKind::provision, "provision"},
    {StepKind::certify, "certify"},
    {StepKind::finish, "finish"},
}};
constexpr std::array<std::pair<StepState, std::string_view>, 6> kStepStateNames{{
    {StepState::pending, "pending"},
    {StepState::running, "running"},
    {StepState::done, "done"},
    {StepState::failed, "failed"},
    {StepState::skipped, "skipped"},
    {StepState::cancelled, "cancelled"},
}};
constexpr std::array<std::pair<RunState, std::string_view>, 4> kRunStateNames{{
    {RunState::running, "running"},
    {RunState::failed, "failed"},
    {RunState::done, "done"},
    {RunState::cancelled, "cancelled"},
}};
constexpr std::array<std::pair<StepStatus, std::string_view>, 2> kStatusNames{{
    {StepStatus::ok, "ok"},
    {StepStatus::failed, "failed"},
}};
constexpr std::array<std::pair<NextResponse::State, std::string_view>, 4> kNextStateNames{{
    {NextResponse::State::step, "step"},
    {NextResponse::State::waiting, "waiting"},
    {NextResponse::State::done, "done"},
    {NextResponse::State::cancelled, "cancelled"},
}};

constexpr std::array<std::pair<SourceAssignment::Kind, std::string_view>, 3> kSourceKindNames{{
    {SourceAssignment::Kind::server, "server"},
    {SourceAssignment::Kind::peer, "peer"},
    {SourceAssignment::Kind::queued, "queued"},
}};

template <class E, std::size_t N>
std::string_view name_of(const std::array<std::pair<E, std::string_view>, N>& table, E v) {
  for (const auto& [e, name] : table) {
    if (e == v) return name;
  }
  return "?";
}

template <class E, std::size_t N>
std::optional<E> value_of(const std::array<std::pair<E, std::string_view>, N>& table,
                          std::string_view s) {
  for (const auto& [e, name] : table) {
    if (name == s) return e;
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(StepKind k) { return name_of(kStepKindNames, k); }
std::optional<StepKind> step_kind_from(std::string_view s) { return value_of(kStepKindNames, s); }
std::string step_kind_list() {
  std::string out;
  for (const auto& [k, name] : kStepKindNames) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}
std::string_view to_string(StepState s) { return name_of(kStepStateNames, s); }
std::optional<StepState> step_state_from(std::string_view s) {
  return value_of(kStepStateNames, s);
}
std::string_view to_string(RunState s) { return name_of(kRunStateNames, s); }
std::optional<RunState> run_state_from(std::string_view s) { return value_of(kRunStateNames, s); }
std::string_view to_string(StepStatus s) { return name_of(kStatusNames, s); }
std::optional<StepStatus> step_status_from(std::string_view s) { return value_of(kStatusNames, s); }
std::string_view to_string(NextResponse::State s) { return name_of(kNextStateNames, s); }
std::string_view to_string(SourceAssignment::Kind k) { return name_of(kSourceKindNames, k); }

namespace fields {
std::optional<NextResponse::State> next_state_from(std::string_view s) {
  return value_of(kNextStateNames, s);
}
std::optional<SourceAssignment::Kind> source_kind_from(std::string_view s) {
  return value_of(kSourceKindNames, s);
}
}  // namespace fields

}  // namespace revive::protocol
