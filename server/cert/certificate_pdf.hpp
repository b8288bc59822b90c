#pragma once
// The printable certificate: a one-page PDF (libharu) rendered deterministically from the
// signed certificate, with a QR code carrying the certificate id and signature. The signed
// JSON travels inside the PDF (document info), so the PDF alone can be verified offline:
// extract, check the signature, render again and compare byte for byte.

#include <string>
#include <string_view>

#include "certificate.hpp"

namespace revive::cert {

/// PDF bytes for a signed certificate document (its signature is not checked here).
Result<std::string> render_pdf(std::string_view signed_json);

/// The signed JSON a Revive certificate PDF carries.
Result<std::string> signed_json_from_pdf(std::string_view pdf);

/// Verifies a certificate PDF: the embedded document is authentic and the PDF is exactly the
/// rendering of it (no edited text, no swapped page).
Result<Verified> verify_pdf(std::string_view pdf, const PublicKey& trusted);

/// Verifies a certificate file, JSON or PDF (by its first bytes).
Result<Verified> verify_file_contents(std::string_view contents, const PublicKey& trusted);

}  // namespace revive::cert
