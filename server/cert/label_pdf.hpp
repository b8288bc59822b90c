#pragma once
// Printable laptop labels (libharu): what a volunteer sticks under a refurbished laptop and a
// recipient reads. One label per page on 62 mm continuous tape (Brother QL and compatible
// printers), or 24 to an A4 sheet (3 x 8 labels of 70 x 37 mm, a common die-cut sheet). Each
// label: model, asset tag or serial, the specs, the grade in large type, Windows 11 readiness
// and a QR code that opens the laptop's erasure certificate.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "revive/error.hpp"

namespace revive::cert {

/// One laptop's label, already in words (the caller chooses the language). UTF-8; the
/// built-in PDF fonts draw Latin-1, anything else becomes '?'.
struct LabelFacts {
  std::string title;               ///< "LENOVO ThinkPad T480"
  std::string identity;            ///< "Asset A-1042" or "S/N PF1ABC23"
  std::vector<std::string> specs;  ///< "Intel Core i5-8350U", "8 GB RAM", ... (at most 4 drawn)
  std::string grade;               ///< "A", "B", "C", "reject" or "" (not graded yet)
  std::string grade_word;          ///< "Grade" in the label's language
  std::string windows11;           ///< "Windows 11 ready" / "Not for Windows 11"
  std::string link;                ///< what the QR code opens; no QR when empty
  std::string link_caption;        ///< under the QR: "Erasure certificate"
  std::string footer;              ///< the workshop's name
};

enum class LabelStock {
  tape_62mm,  ///< 62 x 50 mm per label, one label per page
  a4_sheet,   ///< A4 with 3 x 8 labels of 70 x 37 mm
};

/// "62mm" or "a4"; nullopt for anything else.
std::optional<LabelStock> parse_label_stock(std::string_view name);

/// A PDF with the labels in order (A4: filling each sheet row by row). invalid_input when
/// there is no label to print or more than `kMaxLabels`.
Result<std::string> render_labels(const std::vector<LabelFacts>& labels, LabelStock stock);

/// A batch of this size prints in well under a second; more is a mistake, not a batch.
inline constexpr std::size_t kMaxLabels = 2000;

}  // namespace revive::cert
