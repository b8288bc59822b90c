#include "handover_pdf.hpp"

#include <algorithm>

#include "pdf_kit.hpp"

namespace revive::cert {

namespace {

constexpr float kMargin = 50;
constexpr float kRow = 16;
constexpr float kBody = 9;
constexpr std::size_t kMaxRows = 2000;

struct Fonts {
  HPDF_Font regular;
  HPDF_Font bold;
};

// Text cut with "..." to fit `width` points.
std::string fitted(HPDF_Page page, HPDF_Font font, float size, std::string_view utf8, float width) {
  std::string s = to_winansi(utf8);
  HPDF_Page_SetFontAndSize(page, font, size);
  if (HPDF_Page_TextWidth(page, s.c_str()) <= width) return s;
  while (!s.empty() && HPDF_Page_TextWidth(page, (s + "...").c_str()) > width) s.pop_back();
  return s + "...";
}

void put(HPDF_Page page, HPDF_Font font, float size, float x, float y, std::string_view utf8,
         float width) {
  const std::string s = fitted(page, font, size, utf8, width);
  HPDF_Page_BeginText(page);
  HPDF_Page_TextOut(page, x, y, s.c_str());
  HPDF_Page_EndText(page);
}

void rule(HPDF_Page page, float x0, float x1, float y) {
  HPDF_Page_SetLineWidth(page, 0.5f);
  HPDF_Page_MoveTo(page, x0, y);
  HPDF_Page_LineTo(page, x1, y);
  HPDF_Page_Stroke(page);
}

// The column widths: each column's widest text (heading or cell) plus a gap; when they do not
// fit the page, every column gives up the same share of its width (cells are then cut).
std::vector<float> column_widths(HPDF_Page page, const Fonts& f, const HandoverListFacts& facts,
                                 float width) {
  constexpr float kGap = 10;
  std::vector<float> w(facts.columns.size(), 0);
  auto widen = [&](std::size_t i, HPDF_Font font, const std::string& text) {
    HPDF_Page_SetFontAndSize(page, font, kBody);
    w[i] = std::max(w[i], HPDF_Page_TextWidth(page, to_winansi(text).c_str()) + kGap);
  };
  for (std::size_t i = 0; i < w.size(); ++i) widen(i, f.bold, facts.columns[i]);
  for (const auto& row : facts.rows)
    for (std::size_t i = 0; i < w.size(); ++i) widen(i, f.regular, row[i]);
  float total = 0;
  for (const float x : w) total += x;
  if (total > width)
    for (float& x : w) x *= width / total;
  return w;
}

class Writer {
 public:
  Writer(HPDF_Doc doc, Fonts f, const HandoverListFacts& facts) : doc_(doc), f_(f), facts_(facts) {}

  void run() {
    new_page();
    widths_ = column_widths(page_, f_, facts_, width_);
    put(page_, f_.bold, 16, kMargin, y_, facts_.title, width_);
    y_ -= 28;
    for (const auto& [label, value] : facts_.about) {
      put(page_, f_.bold, 10, kMargin, y_, label, 110);
      put(page_, f_.regular, 10, kMargin + 115, y_, value, width_ - 115);
      y_ -= 15;
    }
    y_ -= 10;
    heading();
    for (std::size_t r = 0; r < facts_.rows.size(); ++r) {
      if (y_ < kMargin + kRow) {
        new_page();
        heading();
      }
      cells(facts_.rows[r], f_.regular);
      if (r + 1 < facts_.rows.size()) rule(page_, kMargin, kMargin + width_, y_ + kRow - 4);
    }
    signatures();
  }

 private:
  void new_page() {
    page_ = HPDF_AddPage(doc_);
    HPDF_Page_SetSize(page_, HPDF_PAGE_SIZE_A4, HPDF_PAGE_PORTRAIT);
    width_ = HPDF_Page_GetWidth(page_) - 2 * kMargin;
    y_ = HPDF_Page_GetHeight(page_) - kMargin - 10;
    ++pages_;
    put(page_, f_.regular, 8, kMargin, kMargin / 2,
        facts_.footer + "  -  " + std::to_string(pages_), width_);
  }

  void heading() {
    cells(facts_.columns, f_.bold);
    rule(page_, kMargin, kMargin + width_, y_ + kRow - 3);
  }

  void cells(const std::vector<std::string>& values, HPDF_Font font) {
    float x = kMargin;
    for (std::size_t i = 0; i < values.size(); ++i) {
      put(page_, font, kBody, x, y_, values[i], widths_[i] - 6);
      x += widths_[i];
    }
    y_ -= kRow;
  }

  // Two signature lines side by side, on a new page when there is no room left.
  void signatures() {
    if (facts_.signatures.empty()) return;
    if (y_ < kMargin + 70) new_page();
    y_ -= 40;
    const float each = width_ / static_cast<float>(facts_.signatures.size());
    float x = kMargin;
    for (const auto& s : facts_.signatures) {
      rule(page_, x, x + each - 20, y_);
      put(page_, f_.regular, kBody, x, y_ - 12, s, each - 20);
      x += each;
    }
  }

  HPDF_Doc doc_;
  Fonts f_;
  const HandoverListFacts& facts_;
  HPDF_Page page_ = nullptr;
  float width_ = 0;
  std::vector<float> widths_;  // the table's columns
  float y_ = 0;
  int pages_ = 0;
};

}  // namespace

Result<std::string> render_handover_list(const HandoverListFacts& facts) {
  if (facts.rows.empty()) return make_error(Errc::invalid_input, "no laptop on the hand-over list");
  if (facts.rows.size() > kMaxRows)
    return make_error(Errc::invalid_input, "at most 2000 laptops on one hand-over list");
  for (const auto& r : facts.rows) {
    if (r.size() != facts.columns.size())
      return make_error(Errc::invalid_input, "a hand-over list row has " +
                                                 std::to_string(r.size()) + " cells for " +
                                                 std::to_string(facts.columns.size()) + " columns");
  }
  PdfDocument pdf;
  REVIVE_TRY(pdf.ok());
  HPDF_SetInfoAttr(pdf.get(), HPDF_INFO_CREATOR, "revive");
  HPDF_SetInfoAttr(pdf.get(), HPDF_INFO_TITLE, to_winansi(facts.title).c_str());
  const Fonts f{HPDF_GetFont(pdf.get(), "Helvetica", "WinAnsiEncoding"),
                HPDF_GetFont(pdf.get(), "Helvetica-Bold", "WinAnsiEncoding")};
  Writer(pdf.get(), f, facts).run();
  return pdf.bytes();
}

}  // namespace revive::cert
