// The hand-over list PDF: a long list continues on further pages; bad input is refused.
#include "handover_pdf.hpp"

#include <gtest/gtest.h>

#include <regex>

namespace revive::cert {
namespace {

HandoverListFacts facts(std::size_t laptops) {
  HandoverListFacts f;
  f.title = "Overdrachtslijst 3";
  f.about = {{"Organisatie", "Bibliotheek Noord (Bibliotheek)"}, {"Datum", "2027-01-15 08:00 UTC"}};
  f.columns = {"#", "Model", "Serienummer", "Klasse", "Wiscertificaat"};
  for (std::size_t i = 0; i < laptops; ++i)
    f.rows.push_back({std::to_string(i + 1), "LENOVO ThinkPad T480 with a far too long name",
                      "PF1ABC" + std::to_string(i), "B", "c0ffee-" + std::to_string(i)});
  f.signatures = {"Overgedragen door", "Ontvangen door"};
  f.footer = "Werkplaats Noord";
  return f;
}

int page_count(const std::string& pdf) {
  std::smatch m;
  static const std::regex count(R"(/Type /Pages[^>]*?/Count (\d+))");
  return std::regex_search(pdf, m, count) ? std::stoi(m[1]) : -1;
}

TEST(HandoverPdf, AShortListIsOnePageAndALongOneContinues) {
  auto one = render_handover_list(facts(3));
  ASSERT_TRUE(one) << one.error().message;
  EXPECT_EQ(one->substr(0, 5), "%PDF-");
  EXPECT_EQ(page_count(*one), 1);
  auto many = render_handover_list(facts(120));
  ASSERT_TRUE(many) << many.error().message;
  EXPECT_GE(page_count(*many), 3) << "about 45 rows a page";
}

TEST(HandoverPdf, NothingTooManyOrARaggedRowIsRefused) {
  EXPECT_EQ(render_handover_list(facts(0)).error().code, Errc::invalid_input);
  EXPECT_EQ(render_handover_list(facts(2001)).error().code, Errc::invalid_input);
  auto ragged = facts(2);
  ragged.rows[1].pop_back();
  auto r = render_handover_list(ragged);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("4 cells for 5 columns"), std::string::npos);
}

}  // namespace
}  // namespace revive::cert
