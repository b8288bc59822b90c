#pragma once
// The reasons grade() gives, by code. Each reason comes twice in a grading: in `reasons`, the
// English sentence (the agent's log, the API, what older pages show), and in `reason_codes`,
// the same reason in the same place as {code, vars, at_most}, from which a page words it in its
// own language (ui.reason.<code> in server/web/i18n, each {name} filled from vars). at_most is
// the grade the reason caps at (A, B, C or reject), absent for a note that caps nothing.

#include <span>
#include <string_view>

namespace revive {

/// One kind of reason: its code and its English wording, with {name}s for its values.
struct ReasonWording {
  std::string_view code;
  std::string_view english;
};

/// Every reason grade() can give, the grade's and Windows 11's.
std::span<const ReasonWording> reason_wordings();

/// What grade() says a laptop suits (`suitable_for`), by code: one per grade (A, B, C, reject),
/// then `windows11` or `linux` around it as {use}. A page words it as ui.suitable.<code>.
std::span<const ReasonWording> suitable_wordings();

}  // namespace revive
