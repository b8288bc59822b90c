#include "label_pdf.hpp"

#include <algorithm>

#include "pdf_kit.hpp"

namespace revive::cert {

namespace {

constexpr float kPointsPerMm = 72.0f / 25.4f;

float mm(float v) { return v * kPointsPerMm; }

struct Fonts {
  HPDF_Font regular;
  HPDF_Font bold;
};

struct Box {
  float x, y, w, h;  // lower left corner, size; points
};

// Draws `utf8` at (x, y) within `width` points: at `size` if it fits, else smaller down to
// 70% of it, else cut with "..." at that size. Returns the size used.
float put_fitted(HPDF_Page page, HPDF_Font font, float size, float x, float y,
                 std::string_view utf8, float width) {
  std::string s = to_winansi(utf8);
  const float smallest = size * 0.7f;
  HPDF_Page_SetFontAndSize(page, font, size);
  const float natural = HPDF_Page_TextWidth(page, s.c_str());
  float used = size;
  if (natural > width) {
    used = std::max(smallest, size * width / natural);
    HPDF_Page_SetFontAndSize(page, font, used);
    if (HPDF_Page_TextWidth(page, s.c_str()) > width) {
      while (!s.empty() && HPDF_Page_TextWidth(page, (s + "...").c_str()) > width) s.pop_back();
      s += "...";
    }
  }
  HPDF_Page_BeginText(page);
  HPDF_Page_TextOut(page, x, y, s.c_str());
  HPDF_Page_EndText(page);
  return used;
}

// Text flush right at `right`.
void put_right(HPDF_Page page, HPDF_Font font, float size, float right, float y,
               std::string_view utf8) {
  const std::string s = to_winansi(utf8);
  HPDF_Page_SetFontAndSize(page, font, size);
  HPDF_Page_BeginText(page);
  HPDF_Page_TextOut(page, right - HPDF_Page_TextWidth(page, s.c_str()), y, s.c_str());
  HPDF_Page_EndText(page);
}

// One label inside `b`: the model and identity across the top; below them the specs on the
// left, and on the right the grade (what a recipient or partner looks for first) above the
// QR code. Sizes follow the box, so the tape label and the sheet label share one layout.
void draw_label(HPDF_Page page, const Fonts& f, const Box& b, const LabelFacts& l) {
  const float pad = mm(2.5f);
  const float line = std::clamp(b.h / 15.0f, 6.0f, 9.0f);  // body text size, points
  const float full = b.w - 2 * pad;
  const float top = b.y + b.h - pad;
  put_fitted(page, f.bold, line * 1.2f, b.x + pad, top - line * 1.2f, l.title, full);
  put_fitted(page, f.regular, line, b.x + pad, top - line * 2.5f, l.identity, full);
  // The right column: grade word, grade letter, QR code with its caption.
  const float caption = line * 0.75f;
  const float column = std::min(b.h * 0.42f, b.w * 0.3f);
  const float right = b.x + b.w - pad;
  const float below_id = top - line * 3.2f;
  const float grade_size = std::min(line * 2.6f, below_id - (b.y + pad + caption * 1.4f + column));
  put_right(page, f.regular, caption, right, below_id - caption, l.grade_word);
  const std::string grade = l.grade.empty() ? "-" : l.grade == "reject" ? "X" : l.grade;
  put_right(page, f.bold, grade_size, right, below_id - caption - grade_size * 0.8f, grade);
  if (!l.link.empty()) {
    draw_qr(page, l.link, right - column, b.y + pad + caption * 1.4f, column);
    put_right(page, f.regular, caption, right, b.y + pad, l.link_caption);
  }
  // The left column: specs, Windows 11 readiness, the workshop at the foot.
  const float text_w = full - column - pad;
  float y = below_id - line;
  for (std::size_t i = 0; i < l.specs.size() && i < 4; ++i) {
    put_fitted(page, f.regular, line, b.x + pad, y, l.specs[i], text_w);
    y -= line * 1.2f;
  }
  if (!l.windows11.empty()) put_fitted(page, f.bold, line, b.x + pad, y, l.windows11, text_w);
  put_fitted(page, f.regular, caption, b.x + pad, b.y + pad, l.footer, text_w);
}

void tape(HPDF_Doc doc, const Fonts& f, const std::vector<LabelFacts>& labels) {
  const Box box{0, 0, mm(62), mm(50)};
  for (const LabelFacts& l : labels) {
    HPDF_Page page = HPDF_AddPage(doc);
    HPDF_Page_SetWidth(page, box.w);
    HPDF_Page_SetHeight(page, box.h);
    draw_label(page, f, box, l);
  }
}

void sheets(HPDF_Doc doc, const Fonts& f, const std::vector<LabelFacts>& labels) {
  constexpr std::size_t kColumns = 3;
  constexpr std::size_t kRows = 8;
  const float w = mm(70);
  const float h = mm(37);
  HPDF_Page page = nullptr;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const std::size_t slot = i % (kColumns * kRows);
    if (slot == 0) {
      page = HPDF_AddPage(doc);
      HPDF_Page_SetSize(page, HPDF_PAGE_SIZE_A4, HPDF_PAGE_PORTRAIT);
    }
    const float top =
        HPDF_Page_GetHeight(page) - (HPDF_Page_GetHeight(page) - static_cast<float>(kRows) * h) / 2;
    const std::size_t row = slot / kColumns;  // whole rows above this label
    const std::size_t column = slot % kColumns;
    const Box box{static_cast<float>(column) * w, top - static_cast<float>(row + 1) * h, w, h};
    draw_label(page, f, box, labels[i]);
  }
}

}  // namespace

std::optional<LabelStock> parse_label_stock(std::string_view name) {
  if (name == "62mm") return LabelStock::tape_62mm;
  if (name == "a4") return LabelStock::a4_sheet;
  return std::nullopt;
}

Result<std::string> render_labels(const std::vector<LabelFacts>& labels, LabelStock stock) {
  if (labels.empty()) return make_error(Errc::invalid_input, "no laptop to print a label for");
  if (labels.size() > kMaxLabels) {
    return make_error(Errc::invalid_input, std::to_string(labels.size()) +
                                               " labels in one PDF; print at most " +
                                               std::to_string(kMaxLabels) + " at a time");
  }
  PdfDocument pdf;
  REVIVE_TRY(pdf.ok());
  HPDF_SetInfoAttr(pdf.get(), HPDF_INFO_CREATOR, "revive");
  HPDF_SetInfoAttr(pdf.get(), HPDF_INFO_TITLE, "Laptop labels");
  const Fonts f{HPDF_GetFont(pdf.get(), "Helvetica", "WinAnsiEncoding"),
                HPDF_GetFont(pdf.get(), "Helvetica-Bold", "WinAnsiEncoding")};
  if (stock == LabelStock::tape_62mm) {
    tape(pdf.get(), f, labels);
  } else {
    sheets(pdf.get(), f, labels);
  }
  return pdf.bytes();
}

}  // namespace revive::cert
