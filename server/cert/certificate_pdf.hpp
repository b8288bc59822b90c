#pragma once
// The printable certificate: a one-page PDF (libharu) rendered deterministically from the
// signed certificate, with a QR code carrying the certificate id and signature. The signed
// JSON travels inside the PDF (document info), so the PDF alone can be verified offline:
// extract, check the signature, render again and compare byte for byte.

#include <string>
#include <string_view>

#include "certificate.hpp"

namespace revive::cert {

/// How a certificate is drawn. A PDF handed out must keep verifying, so a drawing that
/// changes becomes a new one and verify_pdf accepts every drawing there was.
enum class Drawing {
  /// The first: every value went through the WinAnsi conversion twice, so letters outside
  /// ASCII ("Café", "Zoë") came out as '?'. Certificates in ASCII draw alike in both.
  first = 1,
  /// Letters of Latin-1 (Dutch, French, German names) drawn as they are.
  latin1 = 2,
};
inline constexpr Drawing kCurrentDrawing = Drawing::latin1;

/// PDF bytes for a signed certificate document (its signature is not checked here).
Result<std::string> render_pdf(std::string_view signed_json, Drawing drawing = kCurrentDrawing);

/// The signed JSON a Revive certificate PDF carries.
Result<std::string> signed_json_from_pdf(std::string_view pdf);

/// Verifies a certificate PDF: the embedded document is authentic and the PDF is exactly a
/// rendering of it, in one of the drawings (no edited text, no swapped page).
Result<Verified> verify_pdf(std::string_view pdf, const PublicKey& trusted);

/// Verifies a certificate file, JSON or PDF (by its first bytes).
Result<Verified> verify_file_contents(std::string_view contents, const PublicKey& trusted);

}  // namespace revive::cert
