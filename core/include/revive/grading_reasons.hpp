#pragma once
// The reasons grade() gives, by code. Each reason comes twice in a grading: in `reasons`, the
// English sentence (the agent's log, the API, what older pages show), and in `reason_codes`,
// the same reason in the same place as {code, vars, at_most}, from which a page words it in its
// own language (ui.reason.<code> in server/web/i18n, each {name} filled from vars). at_most is
// the grade the reason caps at (A, B, C or reject), absent for a note that caps nothing.

#include <nlohmann/json_fwd.hpp>
#include <span>
#include <string>
#include <string_view>

namespace revive {

/// One kind of reason: its code and its English wording, with {name}s for its values.
struct ReasonWording {
  std::string_view code;
  std::string_view english;
};

/// Every reason grade() can give, the grade's and Windows 11's.
std::span<const ReasonWording> reason_wordings();

/// The English of `code` in `table`: its wording with each {name} replaced by vars[name] (a
/// string as it is, any other value written out), in one pass, so a value holding braces (a
/// battery's name) is not read again; a {name} without a value stays. The code itself when the
/// table has no such code.
std::string worded(std::span<const ReasonWording> table, std::string_view code,
                   const nlohmann::json& vars);

/// What grade() says a laptop suits (`suitable_for`), by code: one per grade (A, B, C, reject),
/// then `windows11` or `linux` around it as {use}. A page words it as ui.suitable.<code>.
std::span<const ReasonWording> suitable_wordings();

}  // namespace revive
