#include "pdf_kit.hpp"

#include <qrencode.h>

namespace revive::cert {

namespace {
extern "C" void on_hpdf_error(HPDF_STATUS error, HPDF_STATUS detail, void* user) {
  auto* e = static_cast<std::string*>(user);
  if (e->empty())
    *e = "libharu error " + std::to_string(error) + " (detail " + std::to_string(detail) + ")";
}
}  // namespace

std::string to_winansi(std::string_view utf8) {
  std::string out;
  for (std::size_t i = 0; i < utf8.size(); ++i) {
    const auto c = static_cast<unsigned char>(utf8[i]);
    if (c < 0x80) {
      out += (c >= 0x20 || c == '\t') ? static_cast<char>(c) : ' ';
    } else if ((c & 0xE0) == 0xC0 && i + 1 < utf8.size()) {
      const unsigned cp = ((c & 0x1Fu) << 6) | (static_cast<unsigned char>(utf8[i + 1]) & 0x3Fu);
      out += cp >= 0xA0 && cp <= 0xFF ? static_cast<char>(cp) : '?';
      ++i;
    } else {
      out += '?';
      while (i + 1 < utf8.size() && (static_cast<unsigned char>(utf8[i + 1]) & 0xC0) == 0x80) ++i;
    }
  }
  return out;
}

PdfDocument::PdfDocument() : doc_(HPDF_New(on_hpdf_error, &error_), &HPDF_Free) {
  if (doc_) HPDF_SetCompressionMode(doc_.get(), HPDF_COMP_ALL);
}

Result<void> PdfDocument::ok() const {
  if (!doc_) return make_error(Errc::internal, "libharu: cannot create a document");
  return {};
}

Result<std::string> PdfDocument::bytes() {
  REVIVE_TRY(ok());
  if (!error_.empty()) return make_error(Errc::internal, error_);
  if (HPDF_SaveToStream(doc_.get()) != HPDF_OK)
    return make_error(Errc::internal, "libharu: " + error_);
  std::string out(HPDF_GetStreamSize(doc_.get()), '\0');
  auto n = static_cast<HPDF_UINT32>(out.size());
  HPDF_ResetStream(doc_.get());
  if (HPDF_ReadFromStream(doc_.get(), reinterpret_cast<HPDF_BYTE*>(out.data()), &n) != HPDF_OK &&
      n != out.size()) {
    return make_error(Errc::internal, "libharu: cannot read the rendered PDF");
  }
  out.resize(n);
  return out;
}

void draw_text(HPDF_Page page, HPDF_Font font, float size, float x, float y,
               std::string_view utf8) {
  draw_winansi(page, font, size, x, y, to_winansi(utf8));
}

void draw_winansi(HPDF_Page page, HPDF_Font font, float size, float x, float y,
                  const std::string& winansi) {
  HPDF_Page_BeginText(page);
  HPDF_Page_SetFontAndSize(page, font, size);
  HPDF_Page_TextOut(page, x, y, winansi.c_str());
  HPDF_Page_EndText(page);
}

bool draw_qr(HPDF_Page page, const std::string& text, float x, float y, float size) {
  QRcode* qr = QRcode_encodeString(text.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1);
  if (qr == nullptr) return false;
  const float module = size / static_cast<float>(qr->width);
  for (int row = 0; row < qr->width; ++row) {
    for (int col = 0; col < qr->width; ++col) {
      if (qr->data[row * qr->width + col] & 1)
        HPDF_Page_Rectangle(page, x + static_cast<float>(col) * module,
                            y + static_cast<float>(qr->width - 1 - row) * module, module, module);
    }
  }
  HPDF_Page_Fill(page);
  QRcode_free(qr);
  return true;
}

}  // namespace revive::cert
