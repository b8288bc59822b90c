#include "domain/loans.hpp"

#include <charconv>

#include "domain/run_factory.hpp"

namespace revive::server {

namespace {
constexpr std::size_t kMaxReference = 200;
}  // namespace

Result<std::int64_t> parse_loan_reference_keep_days(const std::string& days) {
  std::int64_t v = -1;
  auto [p, ec] = std::from_chars(days.data(), days.data() + days.size(), v);
  if (ec != std::errc() || p != days.data() + days.size() || v < 0 || v > 3650)
    return make_error(Errc::invalid_input,
                      "loan_reference_keep_days must be a whole number of days from 0 to 3650");
  return v;
}

Result<Json> Loans::lend(std::int64_t device_id, const std::string& reference,
                         const std::string& operator_name) {
  if (reference.size() > kMaxReference)
    return make_error(Errc::invalid_input, "a loan's reference is at most 200 characters");
  Storage& s = ctx_.storage();
  REVIVE_ASSIGN(uow, s.begin());
  REVIVE_ASSIGN(device, s.devices().find(device_id));
  if (!device) return make_error(Errc::not_found, "no laptop " + std::to_string(device_id));
  REVIVE_ASSIGN(h, current_handover(s, device_id));
  if (!h)
    return make_error(Errc::conflict, "laptop " + std::to_string(device_id) +
                                          " is not out with an organisation: hand it over first");
  REVIVE_TRY(s.handovers().add_loan(
      LoanRow{0, device_id, h->id, reference, ctx_.now(), operator_name, {}, {}, false}));
  REVIVE_TRY(ctx_.log(device_id, "loan-lent", {{"handover", h->id}, {"operator", operator_name}}));
  REVIVE_TRY(uow->commit());
  ctx_.device_changed(device_id);
  return whereabouts(ctx_, device_id);
}

Result<Json> Loans::give_back(std::int64_t device_id, const std::string& operator_name) {
  Storage& s = ctx_.storage();
  REVIVE_ASSIGN(uow, s.begin());
  REVIVE_ASSIGN(loans, s.handovers().loans_of(device_id));
  const LoanRow* open = nullptr;
  for (const auto& l : loans)
    if (!l.returned_at) open = &l;
  if (!open)
    return make_error(Errc::conflict, "laptop " + std::to_string(device_id) + " is not lent");
  REVIVE_TRY(s.handovers().mark_returned(open->id, ctx_.now(), operator_name));
  // Back from a loan is a new visit: its next network boot gets the live agent (a done run
  // would boot its disk), and it is wiped, tested and imaged again.
  REVIVE_ASSIGN(run, create_run(ctx_, device_id));
  REVIVE_TRY(ctx_.log(device_id, "loan-returned", {{"operator", operator_name}, {"run", run}}));
  REVIVE_TRY(uow->commit());
  ctx_.device_changed(device_id);
  return whereabouts(ctx_, device_id);
}

Result<std::int64_t> erase_loan_references(DomainContext& ctx, std::int64_t batch) {
  REVIVE_ASSIGN(setting, ctx.storage().settings().get("loan_reference_keep_days"));
  std::int64_t days = kDefaultLoanReferenceKeepDays;
  if (setting) {
    REVIVE_ASSIGN(parsed, parse_loan_reference_keep_days(*setting));
    days = parsed;
  }
  REVIVE_ASSIGN(uow, ctx.storage().begin());
  REVIVE_ASSIGN(erased,
                ctx.storage().handovers().erase_references(ctx.now() - days * 86400, batch));
  if (erased == 0) return std::int64_t{0};  // nothing changed: no commit (no fsync) needed
  REVIVE_TRY(uow->commit());
  return erased;
}

}  // namespace revive::server
