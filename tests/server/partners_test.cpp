// Partner organisations, hand-overs and loans (issue 16): the rules over fake repositories and
// a hand-driven clock; the hand-over list's CSV and PDF facts (pure).
#include "domain/partners.hpp"

#include <gtest/gtest.h>

#include "domain/handover_list.hpp"
#include "domain/loans.hpp"
#include "domain_fixture.hpp"

namespace revive::server {
namespace {

class PartnersTest : public test::DomainTest {
 protected:
  PartnersTest() : partners(ctx, views), loans(ctx) {
    EXPECT_TRUE(catalog.put_workflow("short", Json::array({{{"kind", "test"}}})));
    EXPECT_TRUE(catalog.set_setting("default_workflow", "short"));
  }

  /// A laptop whose run is done with this grade (or none: null).
  std::int64_t finished(const std::string& serial, const Json& grade) {
    const std::int64_t d = enrol(serial);
    auto step = advance_to(d, protocol::StepKind::test);
    EXPECT_TRUE(result(d, step, protocol::StepStatus::ok, {{"grading", {{"grade", grade}}}}));
    EXPECT_EQ(next(d).state, protocol::NextResponse::State::done);
    return d;
  }

  std::int64_t organisation(const std::string& name) {
    auto o = partners.create_organisation({name, "Anna, 0470 12 34 56", "library"});
    EXPECT_TRUE(o) << o.error().message;
    return o ? (*o)["id"].get<std::int64_t>() : 0;
  }

  Partners partners;
  Loans loans;
};

TEST_F(PartnersTest, OrganisationsAreCheckedCreatedListedAndEdited) {
  const auto lib = organisation("Bibliotheek Noord");
  EXPECT_EQ(partners.create_organisation({"", "", "school"}).error().code, Errc::invalid_input);
  auto bad_kind = partners.create_organisation({"Club", "", "club"});
  ASSERT_FALSE(bad_kind);
  EXPECT_NE(bad_kind.error().message.find("library, welfare, school or other"), std::string::npos);
  EXPECT_EQ(partners.create_organisation({"Bibliotheek Noord", "", "other"}).error().code,
            Errc::conflict);
  auto school = partners.create_organisation({"Atheneum", std::nullopt, "school"});
  ASSERT_TRUE(school);

  auto edited = partners.update_organisation(lib, {std::nullopt, "Bart", "welfare"});
  ASSERT_TRUE(edited) << edited.error().message;
  EXPECT_EQ((*edited)["name"], "Bibliotheek Noord") << "an absent field keeps its value";
  EXPECT_EQ((*edited)["contact"], "Bart");
  EXPECT_EQ((*edited)["kind"], "welfare");
  EXPECT_EQ(partners.update_organisation(lib, {"Atheneum", {}, {}}).error().code, Errc::conflict);
  EXPECT_EQ(partners.update_organisation(999, {"X", {}, {}}).error().code, Errc::not_found);
  EXPECT_EQ(partners.update_organisation(lib, {{}, {}, "bank"}).error().code, Errc::invalid_input);

  auto all = partners.organisations();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2U);
  EXPECT_EQ((*all)[0]["name"], "Atheneum") << "by name";
  EXPECT_EQ((*all)[1]["contact"], "Bart");
}

TEST_F(PartnersTest, OnlyFinishedGradedLaptopsAreHandedOverOnce) {
  const auto org = organisation("Bibliotheek Noord");
  const auto a = finished("SN01", "A");
  const auto b = finished("SN02", "B");
  const auto ungraded = finished("SN03", Json());
  const auto rejected = finished("SN04", "reject");
  const auto busy = enrol("SN05");  // its run has not finished

  auto candidates = partners.candidates();
  ASSERT_TRUE(candidates);
  ASSERT_EQ(candidates->size(), 2U);
  EXPECT_EQ((*candidates)[0]["id"], a);
  EXPECT_EQ((*candidates)[1]["id"], b);

  auto refused = partners.hand_over(org, {a, busy, ungraded, rejected}, "alice");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::conflict);
  const std::string why = refused.error().message;
  EXPECT_NE(why.find("laptop " + std::to_string(busy) + " is not finished (running)"),
            std::string::npos)
      << why;
  EXPECT_NE(why.find("laptop " + std::to_string(ungraded) + " has no grade"), std::string::npos);
  EXPECT_NE(why.find("laptop " + std::to_string(rejected) + " was graded reject"),
            std::string::npos);
  EXPECT_TRUE(storage.data.handovers.empty()) << "nothing is handed over when one is refused";

  EXPECT_EQ(partners.hand_over(org, {}, "alice").error().code, Errc::invalid_input);
  EXPECT_EQ(partners.hand_over(org, {a, a}, "alice").error().code, Errc::invalid_input);
  EXPECT_EQ(partners.hand_over(999, {a}, "alice").error().code, Errc::not_found);
  EXPECT_EQ(partners.hand_over(org, {4242}, "alice").error().code, Errc::not_found);

  now += 60;
  auto h = partners.hand_over(org, {b, a}, "alice");
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ((*h)["operator"], "alice");
  EXPECT_EQ((*h)["at"], now);
  EXPECT_EQ((*h)["organisation"]["name"], "Bibliotheek Noord");
  ASSERT_EQ((*h)["laptops"].size(), 2U);
  EXPECT_EQ((*h)["laptops"][0]["id"], a);
  EXPECT_EQ((*h)["laptops"][0]["grade"], "A");
  EXPECT_EQ((*h)["laptops"][1]["serial"], "SN02");
  EXPECT_EQ(storage.events_of("handed-over").size(), 2U);

  auto again = partners.hand_over(org, {a}, "bob");
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message.find("was handed over already"), std::string::npos);
  EXPECT_TRUE(partners.candidates()->empty());

  auto went = whereabouts(ctx, a);
  ASSERT_TRUE(went);
  EXPECT_EQ((*went)["handover"]["organisation"]["name"], "Bibliotheek Noord");
  EXPECT_TRUE((*went)["current"]);
  auto list = partners.handovers();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1U);
  EXPECT_EQ((*list)[0]["laptops"], 2);
}

TEST_F(PartnersTest, ALoanIsLentAndReturnedAndItsReferenceErasedAfterTheRetention) {
  const auto org = organisation("OCMW");
  const auto a = finished("SN01", "B");
  const auto kept = finished("SN02", "A");
  EXPECT_EQ(loans.lend(a, "", "alice").error().code, Errc::conflict) << "not handed over yet";
  ASSERT_TRUE(partners.hand_over(org, {a, kept}, "alice"));

  EXPECT_EQ(loans.lend(a, std::string(201, 'x'), "alice").error().code, Errc::invalid_input);
  auto lent = loans.lend(a, "card 0042", "alice");
  ASSERT_TRUE(lent) << lent.error().message;
  ASSERT_EQ((*lent)["loans"].size(), 1U);
  EXPECT_EQ((*lent)["loans"][0]["reference"], "card 0042");
  EXPECT_TRUE((*lent)["loans"][0]["returned_at"].is_null());
  EXPECT_EQ(loans.lend(a, "", "alice").error().code, Errc::conflict) << "lent already";
  EXPECT_EQ(loans.give_back(kept, "alice").error().code, Errc::conflict) << "not lent";
  ASSERT_TRUE(loans.lend(kept, "no 7", "alice"));
  // The event log never holds the reference: it outlives the loans' retention.
  for (const auto& e : storage.events_of("loan-lent"))
    EXPECT_EQ(e.data.dump().find("card"), std::string::npos) << e.data.dump();

  now += 3600;
  auto back = loans.give_back(a, "bob");
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ((*back)["loans"][0]["returned_at"], now);
  EXPECT_EQ((*back)["loans"][0]["returned_by"], "bob");

  EXPECT_TRUE(catalog.set_setting("loan_reference_keep_days", "2"));
  now += 86400;
  EXPECT_EQ(*erase_loan_references(ctx), 0) << "one day after the return: kept";
  now += 2L * 86400;
  EXPECT_EQ(*erase_loan_references(ctx), 1);
  auto went = whereabouts(ctx, a);
  EXPECT_EQ((*went)["loans"][0]["reference"], "");
  EXPECT_TRUE((*went)["loans"][0]["reference_erased"]);
  EXPECT_EQ((*whereabouts(ctx, kept))["loans"][0]["reference"], "no 7") << "still out: kept";
  EXPECT_EQ(*erase_loan_references(ctx), 0) << "erased once";

  EXPECT_TRUE(catalog.set_setting("loan_reference_keep_days", "soon"));
  EXPECT_EQ(erase_loan_references(ctx).error().code, Errc::invalid_input);
  SettingsUpdate u;
  u.loan_reference_keep_days = "-1";
  EXPECT_EQ(catalog.update_settings(u).error().code, Errc::invalid_input);
  u.loan_reference_keep_days = "365";
  EXPECT_TRUE(catalog.update_settings(u));
}

TEST_F(PartnersTest, AReturnedLaptopThatComesBackIsANewVisitAndMayGoOutAgain) {
  const auto org = organisation("Atheneum");
  const auto a = finished("SN01", "B");
  ASSERT_TRUE(partners.hand_over(org, {a}, "alice"));
  ASSERT_TRUE(loans.lend(a, "", "alice"));
  now += 60;
  ASSERT_TRUE(loans.give_back(a, "alice"));
  EXPECT_FALSE((*whereabouts(ctx, a))["current"]) << "back in the workshop";
  auto summary = views.device_summary(a);
  EXPECT_EQ((*summary)["state"], "running") << "a new visit waits for its network boot";
  // The school brings it back; it network-boots: the same device, the new run.
  now += 86400;
  EXPECT_EQ(enrol("SN01"), a);
  EXPECT_EQ(loans.lend(a, "", "alice").error().code, Errc::conflict);
  auto not_yet = partners.hand_over(org, {a}, "alice");
  ASSERT_FALSE(not_yet);
  EXPECT_NE(not_yet.error().message.find("is not finished"), std::string::npos);
  auto step = advance_to(a, protocol::StepKind::test);
  ASSERT_TRUE(result(a, step, protocol::StepStatus::ok, {{"grading", {{"grade", "C"}}}}));
  EXPECT_EQ(next(a).state, protocol::NextResponse::State::done);
  now += 60;
  auto out_again = partners.hand_over(org, {a}, "bob");
  ASSERT_TRUE(out_again) << out_again.error().message;
  EXPECT_EQ((*out_again)["laptops"][0]["grade"], "C");
}

// Handed over, lent and returned within one second (the browser test does it that fast): the
// new run starts in the hand-over's second, and is still a new visit.
TEST_F(PartnersTest, ALoanReturnedInTheHandOversSecondIsANewVisitToo) {
  const auto org = organisation("Atheneum");
  const auto a = finished("SN01", "B");
  ASSERT_TRUE(partners.hand_over(org, {a}, "alice"));
  ASSERT_TRUE(loans.lend(a, "", "alice"));
  ASSERT_TRUE(loans.give_back(a, "alice"));
  EXPECT_FALSE((*whereabouts(ctx, a))["current"]) << "back in the workshop";
}

TEST_F(PartnersTest, AReturnedLoansNewCertificateChainsToThePreviousOne) {
  EXPECT_TRUE(catalog.put_workflow("wipe", Json::array({{{"kind", "wipe"}}, {{"kind", "test"}}})));
  EXPECT_TRUE(catalog.set_setting("default_workflow", "wipe"));
  const auto org = organisation("OCMW");
  const auto a = finished("SN01", "B");
  auto laptop_certificates = [this] {
    std::vector<Json> out;
    for (const auto& b : signed_bodies)
      if (b["kind"] == "laptop") out.push_back(b);
    return out;
  };
  ASSERT_EQ(laptop_certificates().size(), 1U);
  const Json first = laptop_certificates()[0];
  EXPECT_EQ(first["result"], "passed");
  EXPECT_FALSE(first.contains("previous_certificate")) << "a first visit has nothing before it";

  ASSERT_TRUE(partners.hand_over(org, {a}, "alice"));
  ASSERT_TRUE(loans.lend(a, "", "alice"));
  now += 365L * 86400;
  ASSERT_TRUE(loans.give_back(a, "alice"));
  // It network-boots again: the same laptop, wiped and tested again.
  EXPECT_EQ(enrol("SN01"), a);
  auto step = advance_to(a, protocol::StepKind::test);
  ASSERT_TRUE(result(a, step, protocol::StepStatus::ok, {{"grading", {{"grade", "B"}}}}));
  const auto certs = laptop_certificates();
  ASSERT_EQ(certs.size(), 2U);
  EXPECT_EQ(certs[1]["device"]["device_id"], a);
  EXPECT_EQ(certs[1]["previous_certificate"], first["certificate_id"])
      << "the new certificate names the previous visit's";
  auto page = whereabouts(ctx, a);
  EXPECT_EQ((*page)["loans"].size(), 1U) << "the same laptop, with its history";
}

Json sample_handover() {
  return {
      {"id", 12},
      {"at", 1'800'000'000},
      {"operator", "alice"},
      {"organisation", {{"name", "Bibliotheek, Noord"}, {"kind", "library"}, {"contact", "An"}}},
      {"laptops", Json::array({{{"id", 7},
                                {"vendor", "LENOVO"},
                                {"model", "LENOVO ThinkPad T480"},
                                {"serial", "=PF1"},
                                {"grade", "B"},
                                {"certificate", "cert-7"}},
                               {{"id", 9},
                                {"vendor", "HP"},
                                {"model", "Stream 11"},
                                {"serial", "CND1"},
                                {"grade", Json()},
                                {"certificate", Json()}}})}};
}

TEST(HandoverList, CsvHasALinePerLaptopAndNeutralisesFormulas) {
  const std::string csv = handover_csv(sample_handover());
  EXPECT_EQ(csv,
            "handover,organisation,handed_over_at,operator,laptop,vendor,model,serial,grade,"
            "certificate\r\n"
            "12,\"Bibliotheek, Noord\",\"2027-01-15T08:00:00Z\",\"alice\",7,\"LENOVO\","
            "\"LENOVO ThinkPad T480\",\"'=PF1\",\"B\",\"cert-7\"\r\n"
            "12,\"Bibliotheek, Noord\",\"2027-01-15T08:00:00Z\",\"alice\",9,\"HP\",\"Stream 11\","
            "\"CND1\",\"\",\"\"\r\n");
}

TEST(HandoverList, PdfFactsAreInTheWorkshopsWords) {
  HandoverWords nl;
  nl.title = "Overdrachtslijst";
  nl.organisation = "Organisatie";
  nl.kind_library = "Bibliotheek";
  nl.model = "Model";
  nl.received_by = "Ontvangen door";
  const auto f = handover_list_facts(sample_handover(), "Werkplaats Gent", nl);
  EXPECT_EQ(f.title, "Overdrachtslijst 12");
  EXPECT_EQ(f.about.at(0), (std::pair<std::string, std::string>{
                               "Organisatie", "Bibliotheek, Noord (Bibliotheek)"}));
  EXPECT_EQ(f.about.at(2).second, "2027-01-15 08:00 UTC");
  EXPECT_EQ(f.columns.at(1), "Model");
  ASSERT_EQ(f.rows.size(), 2U);
  EXPECT_EQ(f.rows[0],
            (std::vector<std::string>{"7", "LENOVO ThinkPad T480", "=PF1", "B", "cert-7"}))
      << "the vendor is not said twice";
  EXPECT_EQ(f.rows[1], (std::vector<std::string>{"9", "HP Stream 11", "CND1", "-", ""}));
  EXPECT_EQ(f.signatures.back(), "Ontvangen door");
  EXPECT_EQ(f.footer, "Werkplaats Gent");
  auto pdf = cert::render_handover_list(f);
  ASSERT_TRUE(pdf) << pdf.error().message;
  EXPECT_EQ(pdf->substr(0, 5), "%PDF-");
}

}  // namespace
}  // namespace revive::server
