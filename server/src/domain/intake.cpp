#include "domain/intake.hpp"

#include <algorithm>
#include <cctype>

#include "boot_script.hpp"

namespace revive::server {

namespace {

constexpr Seconds kLongestIntake = Seconds{31} * 86400;
constexpr std::size_t kMaxListed = 1000;
constexpr std::size_t kTurnedAwayKept = 50;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool listed_mac(const IntakeRow& i, const std::vector<std::string>& macs) {
  for (const auto& m : macs) {
    const auto norm = boot::normalise_mac(m);
    if (norm && std::find(i.macs.begin(), i.macs.end(), *norm) != i.macs.end()) return true;
  }
  return false;
}

bool listed_vendor(const IntakeRow& i, const std::string& vendor) {
  const std::string v = lower(vendor);
  return std::any_of(i.vendors.begin(), i.vendors.end(),
                     [&](const std::string& p) { return v.rfind(lower(p), 0) == 0; });
}

Result<std::vector<std::string>> clean_macs(const std::vector<std::string>& macs) {
  std::vector<std::string> out;
  for (const auto& m : macs) {
    auto norm = boot::normalise_mac(m);
    if (!norm)
      return make_error(Errc::invalid_input, "not a MAC address: \"" + m.substr(0, 40) + "\"");
    out.push_back(*norm);
  }
  return out;
}

}  // namespace

Admission admission(const std::optional<IntakeRow>& intake, Seconds now,
                    const std::vector<std::string>& macs,
                    const std::optional<std::string>& vendor) {
  Admission a;
  if (!intake) {
    a.reason =
        "not in intake: no intake is open on this server (an operator opens one with "
        "`revivectl intake open BATCH --until TIME`)";
    return a;
  }
  if (now >= intake->until) {
    a.reason = "not in intake: the intake ran out";
    return a;
  }
  if (!intake->macs.empty() && !listed_mac(*intake, macs)) {
    a.reason = "not in intake: the open intake lists other MAC addresses";
    return a;
  }
  if (vendor && !intake->vendors.empty() && !listed_vendor(*intake, *vendor)) {
    a.reason = "not in intake: the open intake is for other vendors than \"" + *vendor + "\"";
    return a;
  }
  a.admitted = true;
  a.batch_id = intake->batch_id;
  a.operator_name = intake->opened_by;
  a.reason = "intake open (opened by " + intake->opened_by + ")";
  return a;
}

Result<IntakeRow> Intake::open(const IntakeRequest& r, const std::string& who) {
  const Seconds now = ctx_.now();
  if (r.until <= now || r.until > now + kLongestIntake)
    return make_error(Errc::invalid_input, "an intake runs until a time within the next 31 days");
  if (r.macs.size() > kMaxListed || r.vendors.size() > kMaxListed)
    return make_error(Errc::invalid_input, "an intake lists at most 1000 MACs and vendors");
  for (const auto& v : r.vendors) {
    if (v.empty() || v.size() > 64)
      return make_error(Errc::invalid_input, "a vendor is 1 to 64 characters");
  }
  REVIVE_ASSIGN(macs, clean_macs(r.macs));
  Storage& s = ctx_.storage();
  REVIVE_ASSIGN(batch, s.batches().find(r.batch));
  if (!batch) return make_error(Errc::not_found, "batch \"" + r.batch + "\" does not exist");
  IntakeRow row{0, batch->id, now, r.until, macs, r.vendors, who, std::nullopt, std::nullopt};
  REVIVE_ASSIGN(uow, s.begin());
  REVIVE_ASSIGN(id, s.intakes().open(row));
  row.id = id;
  REVIVE_TRY(ctx_.log(std::nullopt, "intake-opened",
                      {{"batch", r.batch},
                       {"until", r.until},
                       {"macs", macs},
                       {"vendors", r.vendors},
                       {"operator", who}}));
  REVIVE_TRY(uow->commit());
  turned_away_.clear();
  return row;
}

Result<void> Intake::close(const std::string& who) {
  Storage& s = ctx_.storage();
  REVIVE_ASSIGN(current, s.intakes().current());
  if (!current) return {};
  REVIVE_ASSIGN(uow, s.begin());
  REVIVE_TRY(s.intakes().close(ctx_.now(), who));
  REVIVE_TRY(ctx_.log(std::nullopt, "intake-closed", {{"operator", who}}));
  return uow->commit();
}

Result<std::optional<IntakeRow>> Intake::open_intake() {
  REVIVE_ASSIGN(current, ctx_.storage().intakes().current());
  if (current && ctx_.now() >= current->until) return std::optional<IntakeRow>();
  return current;
}

Result<Json> Intake::status() {
  REVIVE_ASSIGN(current, open_intake());
  Json out = {{"open", current.has_value()}, {"demo", demo_}};
  if (current) {
    REVIVE_ASSIGN(batch, ctx_.storage().batches().find(current->batch_id));
    out.update({{"batch", batch ? Json(batch->name) : Json()},
                {"until", current->until},
                {"macs", current->macs},
                {"vendors", current->vendors},
                {"opened_by", current->opened_by},
                {"opened_at", current->opened_at}});
  }
  Json away = Json::array();
  for (const auto& t : turned_away_) away.push_back({{"mac", t.mac}, {"why", t.why}, {"at", t.at}});
  out["turned_away"] = std::move(away);
  return out;
}

Result<Admission> Intake::decide(const std::vector<std::string>& macs,
                                 const std::optional<std::string>& vendor) {
  REVIVE_ASSIGN(current, open_intake());
  Admission a = admission(current, ctx_.now(), macs, vendor);
  if (demo_ && !a.admitted) {
    // Demo mode trusts the network: everyone joins (the open intake's batch, if any).
    a = Admission{true, "demo mode: every machine is admitted", std::nullopt, std::nullopt};
  }
  return a;
}

Result<Admission> Intake::admits_boot(const std::string& mac) {
  return decide({mac}, std::nullopt);
}

Result<Admission> Intake::admits_enrolment(const std::vector<std::string>& macs,
                                           const std::string& vendor) {
  return decide(macs, vendor);
}

void Intake::turned_away(const std::string& mac, const std::string& why) {
  std::erase_if(turned_away_, [&](const TurnedAway& t) { return t.mac == mac; });
  turned_away_.push_front({mac, why, ctx_.now()});
  if (turned_away_.size() > kTurnedAwayKept) turned_away_.pop_back();
}

}  // namespace revive::server
