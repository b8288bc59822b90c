#pragma once
// The hand-over list (libharu, A4): what a partner organisation signs when it takes a set of
// refurbished laptops. A heading with the organisation, the date and the operator, then a table
// of the laptops (continued on further pages), then lines for both signatures.

#include <string>
#include <utility>
#include <vector>

#include "revive/error.hpp"

namespace revive::cert {

/// One hand-over, already in words (the caller chooses the language). UTF-8; the built-in PDF
/// fonts draw Latin-1, anything else becomes '?'.
struct HandoverListFacts {
  std::string title;                                       ///< "Hand-over list 12"
  std::vector<std::pair<std::string, std::string>> about;  ///< ("Organisation", "Library N"), ...
  std::vector<std::string> columns;                        ///< the table's headings
  std::vector<std::vector<std::string>> rows;              ///< one per laptop, as many cells
  std::vector<std::string> signatures;                     ///< "Handed over by", "Received by"
  std::string footer;                                      ///< the workshop's name
};

/// The PDF. invalid_input when there is no laptop, more than 2000, or a row whose cell count
/// differs from the columns'.
Result<std::string> render_handover_list(const HandoverListFacts& facts);

}  // namespace revive::cert
