#pragma once
// What every Revive PDF (certificates, labels) is drawn with: a libharu document that
// collects libharu's first error instead of printing it, text in the built-in fonts' WinAnsi
// encoding, QR codes (libqrencode) as filled squares, and the finished bytes.

#include <hpdf.h>

#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

#include "revive/error.hpp"

namespace revive::cert {

/// Built-in PDF fonts speak WinAnsi: Latin-1 letters map through, anything else becomes '?'.
std::string to_winansi(std::string_view utf8);

class PdfDocument {
 public:
  PdfDocument();
  /// internal when libharu could not create the document.
  Result<void> ok() const;
  HPDF_Doc get() const { return doc_.get(); }
  /// The finished PDF; internal with libharu's first error if any call failed on the way.
  Result<std::string> bytes();

 private:
  std::string error_;  // before doc_: the error handler writes here until doc_ is freed
  std::unique_ptr<std::remove_pointer_t<HPDF_Doc>, decltype(&HPDF_Free)> doc_;
};

/// Text at (x, y) in `font` at `size` points, converted to WinAnsi.
void draw_text(HPDF_Page page, HPDF_Font font, float size, float x, float y, std::string_view utf8);
/// The same for text in WinAnsi already (to_winansi's output, measured for wrapping).
void draw_winansi(HPDF_Page page, HPDF_Font font, float size, float x, float y,
                  const std::string& winansi);

/// A QR code of `text` (error correction M) as a `size`-point square whose lower left corner
/// is (x, y); false when libqrencode cannot encode it (too long).
bool draw_qr(HPDF_Page page, const std::string& text, float x, float y, float size);

}  // namespace revive::cert
