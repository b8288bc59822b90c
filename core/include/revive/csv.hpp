#pragma once
// CSV fields (RFC 4180) for spreadsheets: the one writer the device export and the donor's
// batch summary use. A value a spreadsheet would run as a formula (starting with = + - @) is
// neutralised with a leading apostrophe: a laptop serial like "=HYPERLINK(...)" stays text.

#include <string>
#include <string_view>

namespace revive {

enum class CsvQuoting {
  always,       ///< every field in double quotes
  when_needed,  ///< only fields holding a comma, a quote or a line break
};

/// One field, neutralised and quoted.
std::string csv_field(std::string_view value, CsvQuoting quoting = CsvQuoting::always);

}  // namespace revive
