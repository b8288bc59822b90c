// Label PDFs: one page per label on 62 mm tape, 24 labels to an A4 sheet, refusals.
#include "label_pdf.hpp"

#include <gtest/gtest.h>

#include <regex>

namespace revive::cert {
namespace {

LabelFacts label(int i) {
  LabelFacts l;
  l.title = "LENOVO ThinkPad T480 with a model name far too long for any label";
  l.identity = "Asset A-" + std::to_string(1000 + i);
  l.specs = {"Intel Core i5-8350U", "8 GB RAM", "256 GB NVMe SSD", "Battery 87%"};
  l.grade = "B";
  l.grade_word = "Klasse";
  l.windows11 = "Geschikt voor Windows 11";
  l.link = "https://10.0.0.2:8443/c/cert-" + std::to_string(i) + "/AAAAbbbbCCCCddddEEEEff";
  l.link_caption = "Wiscertificaat";
  l.footer = "Werkplaats Noord";
  return l;
}

// libharu writes the page tree uncompressed: "/Type /Pages ... /Count N".
int page_count(const std::string& pdf) {
  std::smatch m;
  static const std::regex count(R"(/Type /Pages[^>]*?/Count (\d+))");
  return std::regex_search(pdf, m, count) ? std::stoi(m[1]) : -1;
}

TEST(LabelPdf, TapeHasOnePagePerLabelAndSheetsHoldTwentyFour) {
  std::vector<LabelFacts> labels;
  labels.reserve(25);
  for (int i = 0; i < 25; ++i) labels.push_back(label(i));
  auto tape = render_labels(labels, LabelStock::tape_62mm);
  ASSERT_TRUE(tape) << tape.error().message;
  EXPECT_EQ(tape->substr(0, 5), "%PDF-");
  EXPECT_EQ(page_count(*tape), 25);
  std::smatch box;
  ASSERT_TRUE(
      std::regex_search(*tape, box, std::regex(R"(/MediaBox \[\s*0 0 ([\d.]+) ([\d.]+)\s*\])")));
  EXPECT_NEAR(std::stod(box[1]) * 25.4 / 72, 62, 0.1) << "62 mm wide";
  EXPECT_NEAR(std::stod(box[2]) * 25.4 / 72, 50, 0.1) << "50 mm long";
  auto sheet = render_labels(labels, LabelStock::a4_sheet);
  ASSERT_TRUE(sheet) << sheet.error().message;
  EXPECT_EQ(page_count(*sheet), 2) << "24 on the first sheet, one on the second";
}

TEST(LabelPdf, NothingOrTooManyIsRefused) {
  auto none = render_labels({}, LabelStock::tape_62mm);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, Errc::invalid_input);
  auto many =
      render_labels(std::vector<LabelFacts>(kMaxLabels + 1, label(1)), LabelStock::a4_sheet);
  ASSERT_FALSE(many);
  EXPECT_EQ(many.error().code, Errc::invalid_input);
}

TEST(LabelPdf, StockNames) {
  EXPECT_EQ(parse_label_stock("62mm"), LabelStock::tape_62mm);
  EXPECT_EQ(parse_label_stock("a4"), LabelStock::a4_sheet);
  EXPECT_EQ(parse_label_stock("A4; rm -rf"), std::nullopt);
}

}  // namespace
}  // namespace revive::cert
