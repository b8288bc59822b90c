#include "revive/csv.hpp"

#include <gtest/gtest.h>

namespace revive {
namespace {

TEST(Csv, FieldsAreQuotedAndFormulasNeutralised) {
  EXPECT_EQ(csv_field("PF0ABC12"), "\"PF0ABC12\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field(""), "\"\"");
  for (const char* formula : {"=1+1", "+1", "-1", "@SUM(A1)"}) {
    EXPECT_EQ(csv_field(formula), "\"'" + std::string(formula) + "\"") << formula;
  }
  EXPECT_EQ(csv_field("a=b"), "\"a=b\"");
}

TEST(Csv, WhenNeededQuotesOnlyWhatMustBe) {
  EXPECT_EQ(csv_field("plain", CsvQuoting::when_needed), "plain");
  EXPECT_EQ(csv_field("a,b", CsvQuoting::when_needed), "\"a,b\"");
  EXPECT_EQ(csv_field("two\nlines", CsvQuoting::when_needed), "\"two\nlines\"");
  EXPECT_EQ(csv_field("=HYPERLINK(\"x\")", CsvQuoting::when_needed), "\"'=HYPERLINK(\"\"x\"\")\"");
  EXPECT_EQ(csv_field("=1+1", CsvQuoting::when_needed), "'=1+1");
}

}  // namespace
}  // namespace revive
