#include "certificate_pdf.hpp"

#include <vector>

#include "pdf_kit.hpp"
#include "revive/encoding.hpp"

namespace revive::cert {

namespace {

constexpr std::string_view kMarker = "revive-certificate:";

// The member at `path`, or null when any step is missing or not an object: a certificate that
// lacks a field is drawn with "(not recorded)", never read past its end.
const Json& at(const Json& j, std::initializer_list<const char*> path) {
  static const Json kNull;
  const Json* p = &j;
  for (const char* k : path) {
    if (!p->is_object()) return kNull;
    const auto it = p->find(k);
    if (it == p->end()) return kNull;
    p = &*it;
  }
  return *p;
}

bool flag(const Json& j, std::initializer_list<const char*> path) {
  const Json& v = at(j, path);
  return v.is_boolean() && v.get<bool>();
}

std::string str(const Json& j, std::initializer_list<const char*> path) {
  const Json* p = &j;
  for (const char* k : path) {
    if (!p->is_object() || !p->contains(k)) return "";
    p = &(*p)[k];
  }
  if (p->is_string()) return p->get<std::string>();
  if (p->is_null()) return "";
  return p->dump();
}

// "passed, power-on 8711 h, attribute 5 = 23, ..." from the SMART summary object.
std::string smart_summary(const Json& j) {
  if (!j.is_object()) return j.is_null() ? "" : j.dump();
  if (!j.value("available", true)) return "not available";
  std::string s;
  auto add = [&](const std::string& part) { s += (s.empty() ? "" : ", ") + part; };
  if (j.contains("passed") && j["passed"].is_boolean())
    add(j["passed"].get<bool>() ? "overall passed" : "overall FAILED");
  for (const auto& [k, v] : j.items()) {
    if (k == "passed" || k == "available" || k == "model" || k == "serial") continue;
    if (v.is_object()) {
      for (const auto& [ak, av] : v.items())
        add(k.substr(0, k.find('_')) + " " + ak + " = " +
            (av.is_string() ? av.get<std::string>() : av.dump()));
    } else {
      add(k + " " + (v.is_string() ? v.get<std::string>() : v.dump()));
    }
  }
  return s;
}

using Fields = std::vector<std::pair<std::string, std::string>>;

// Who issued it and for which laptop: every kind of certificate opens with these.
Fields opening_fields(const Json& b) {
  Fields f = {
      {"Certificate id", str(b, {"certificate_id"})},
      {"Issued", str(b, {"issued_at"})},
      {"Workshop", str(b, {"workshop"})},
      {"Operator", str(b, {"operator"})},
      {"Donor batch",
       str(b, {"donor_batch", "name"}) + (str(b, {"donor_batch", "donor"}).empty()
                                              ? ""
                                              : " (" + str(b, {"donor_batch", "donor"}) + ")")},
  };
  if (b.contains("device") && b["device"].is_object()) {
    f.emplace_back("Asset tag", str(b, {"device", "asset_tag"}));
    f.emplace_back("Computer", str(b, {"device", "vendor"}) + " " + str(b, {"device", "model"}) +
                                   ", serial " + str(b, {"device", "serial"}));
  }
  return f;
}

// One drive's erasure: the drive, the method and its NIST level, the verification, SMART.
void add_drive_fields(const Json& b, Fields& f) {
  f.insert(
      f.end(),
      {
          {"Drive", str(b, {"drive", "model"}) + ", serial " + str(b, {"drive", "serial"})},
          {"Size / media", str(b, {"drive", "size_bytes"}) + " bytes, " +
                               str(b, {"drive", "media"}) + ", " + str(b, {"drive", "transport"}) +
                               (flag(b, {"drive", "simulated"}) ? " (simulated)" : "")},
          {"Method",
           str(b, {"sanitization", "method"}) + " (" + str(b, {"sanitization", "pattern"}) + ")"},
          {"NIST SP 800-88 level", str(b, {"sanitization", "nist_level"})},
          {"Why", str(b, {"sanitization", "why"})},
          {"Tool", str(b, {"sanitization", "tool"})},
          {"HPA / DCO", str(b, {"sanitization", "hpa_dco"})},
          {"Started / finished", str(b, {"sanitization", "started_at"}) + " / " +
                                     str(b, {"sanitization", "finished_at"})},
          {"Verification", str(b, {"verification", "method"}) + ", " +
                               str(b, {"verification", "samples"}) + " samples, " +
                               str(b, {"verification", "coverage_permille"}) + " per mille, seed " +
                               str(b, {"verification", "seed"})},
          {"Verification result", str(b, {"verification", "result"}) + ", mismatches " +
                                      str(b, {"verification", "mismatches"}) + ", read errors " +
                                      str(b, {"verification", "read_errors"})},
          {"SMART before", smart_summary(at(b, {"smart", "before"}))},
          {"SMART after", smart_summary(at(b, {"smart", "after"}))},
      });
}

// A laptop: each drive's certificate, then every block device and controller it showed.
void add_laptop_fields(const Json& b, Fields& f) {
  for (const auto& d : b.value("drives", Json::array())) {
    f.emplace_back("Drive " + str(d, {"serial"}), str(d, {"model"}) + ": " + str(d, {"method"}) +
                                                      ", " + str(d, {"nist_level"}) + ", " +
                                                      str(d, {"result"}) + " (certificate " +
                                                      str(d, {"certificate_id"}) + ")");
  }
  // Every block device and controller the laptop showed, erased or why not (issue 15).
  for (const auto& e : b.value("storage", Json::array())) {
    const bool disk = str(e, {"kind"}) == "disk";
    // "address" names MMC hosts and USB interfaces too; older certificates have "pci" only
    // (and must render as they did: a PDF is checked by rendering its JSON again).
    const std::string where = str(e, {"address"}).empty() ? str(e, {"pci"}) : str(e, {"address"});
    f.emplace_back(
        (disk ? "Storage " + str(e, {"name"}) : "Controller " + where),
        (disk ? str(e, {"model"}) + " " + str(e, {"serial"}) + " (" + str(e, {"transport"}) + "): "
              : str(e, {"driver"}) + ": ") +
            str(e, {"status"}) + (str(e, {"reason"}).empty() ? "" : ", " + str(e, {"reason"})));
  }
  if (b.contains("storage_note")) f.emplace_back("Storage note", str(b, {"storage_note"}));
}

// A batch summary: how many passed, then one line per laptop.
void add_batch_fields(const Json& b, Fields& f) {
  f.emplace_back("Laptops",
                 str(b, {"passed_count"}) + " of " + str(b, {"laptop_count"}) + " passed");
  for (const auto& l : b.value("laptops", Json::array())) {
    std::string drives;
    for (const auto& d : l.value("drives", Json::array()))
      drives +=
          (drives.empty() ? "" : "; ") + str(d, {"method"}) + " (" + str(d, {"nist_level"}) + ")";
    f.emplace_back(str(l, {"serial"}),
                   str(l, {"model"}) +
                       (str(l, {"asset_tag"}).empty() ? "" : ", asset " + str(l, {"asset_tag"})) +
                       ": " + drives + ": " + str(l, {"result"}) +
                       (l.value("validated", false) ? ", re-verified" : ""));
  }
}

// The verdict, and the second volunteer's check (or a line to sign on).
void add_closing_fields(const Json& b, Fields& f) {
  f.insert(
      f.end(),
      {{"Result",
        str(b, {"result"}) + (str(b, {"reason"}).empty() ? "" : ": " + str(b, {"reason"}))},
       {"Re-verification", flag(b, {"reverification", "selected"})
                               ? "selected for a second volunteer's check"
                               : "not selected"},
       {"Validated by",
        at(b, {"validator"}).is_object()
            ? str(b, {"validator", "name"}) + ", " + str(b, {"validator", "verdict"}) + " at " +
                  str(b, {"validator", "at"}) +
                  (str(b, {"validator", "note"}).empty() ? ""
                                                         : ": " + str(b, {"validator", "note"}))
            : "________________________"}});
}

Fields fields(const Json& b) {
  Fields f = opening_fields(b);
  if (b.value("kind", "") == "drive") {
    add_drive_fields(b, f);
  } else if (b.value("kind", "") == "laptop") {
    add_laptop_fields(b, f);
  } else {
    add_batch_fields(b, f);
  }
  add_closing_fields(b, f);
  if (b.contains("supersedes")) f.insert(f.begin() + 1, {"Supersedes", str(b, {"supersedes"})});
  if (b.contains("previous_certificate"))
    f.insert(f.begin() + 1, {"Previous visit", str(b, {"previous_certificate"})});
  return f;
}

// Wraps long values at spaces (or hard) to fit `width` points.
std::vector<std::string> wrap(HPDF_Page page, const std::string& s, float width) {
  std::vector<std::string> lines;
  std::string rest = s;
  while (!rest.empty()) {
    HPDF_REAL real = 0;
    auto n = HPDF_Page_MeasureText(page, rest.c_str(), width, HPDF_TRUE, &real);
    if (n == 0) n = HPDF_Page_MeasureText(page, rest.c_str(), width, HPDF_FALSE, &real);
    if (n == 0) n = 1;
    lines.push_back(rest.substr(0, n));
    rest = rest.substr(n);
    while (!rest.empty() && rest[0] == ' ') rest.erase(0, 1);
    if (lines.size() > 8) break;
  }
  return lines;
}

}  // namespace

Result<std::string> render_pdf(std::string_view signed_json, Drawing drawing) {
  const Json doc = Json::parse(signed_json, nullptr, false);
  if (!doc.is_object() || !doc.contains("certificate") || !doc["certificate"].is_object()) {
    return make_error(Errc::invalid_input, "not a signed certificate document");
  }
  const Json& b = doc["certificate"];
  const std::string sig = str(doc, {"signature", "sig"});
  PdfDocument pdf;
  REVIVE_TRY(pdf.ok());
  HPDF_SetInfoAttr(pdf.get(), HPDF_INFO_CREATOR, "revive");
  HPDF_SetInfoAttr(pdf.get(), HPDF_INFO_TITLE, "Certificate of data sanitisation");
  // The signed document rides along, base64 so it needs no escaping.
  const std::string embedded =
      std::string(kMarker) +
      to_base64({reinterpret_cast<const std::uint8_t*>(signed_json.data()), signed_json.size()});
  HPDF_SetInfoAttr(pdf.get(), HPDF_INFO_KEYWORDS, embedded.c_str());
  HPDF_Page page = HPDF_AddPage(pdf.get());
  HPDF_Page_SetSize(page, HPDF_PAGE_SIZE_A4, HPDF_PAGE_PORTRAIT);
  HPDF_Font regular = HPDF_GetFont(pdf.get(), "Helvetica", "WinAnsiEncoding");
  HPDF_Font bold = HPDF_GetFont(pdf.get(), "Helvetica-Bold", "WinAnsiEncoding");
  const float height = HPDF_Page_GetHeight(page);
  auto text = [&](HPDF_Font f, float size, float x, float y, const std::string& s) {
    draw_text(page, f, size, x, y, s);
  };
  const bool drive = b.value("kind", "") == "drive";
  const std::string kind = b.value("kind", "");
  text(bold, 18, 50, height - 60,
       drive             ? "Certificate of data sanitisation"
       : kind == "batch" ? "Data sanitisation summary: donor batch"
                         : "Certificate of data sanitisation: computer");
  text(regular, 10, 50, height - 78,
       "NIST SP 800-88 Rev. 1 / IEEE 2883-2022. Result: " + str(b, {"result"}));
  // QR code: certificate id and signature, for a phone check against the workshop's records.
  const std::string qr_text = "revive-cert:" + str(b, {"certificate_id"}) + ":" + sig;
  draw_qr(page, qr_text, 440, height - 160, 110);
  float y = height - 190;
  for (const auto& [label, value] : fields(b)) {
    text(bold, 9, 50, y, label);
    HPDF_Page_SetFontAndSize(page, regular, 9);
    for (const auto& line : wrap(page, to_winansi(value.empty() ? "(not recorded)" : value), 360)) {
      // The lines are WinAnsi already: the first drawing converted them once more.
      if (drawing == Drawing::first) {
        text(regular, 9, 185, y, line);
      } else {
        draw_winansi(page, regular, 9, 185, y, line);
      }
      y -= 12;
    }
    y -= 3;
    if (y < 70) break;
  }
  text(regular, 7, 50, 40,
       "Signed by the workshop server (ed25519, key " + str(doc, {"signature", "key_id"}) +
           "). Check offline: revivectl cert verify FILE --pubkey KEYFILE");
  return pdf.bytes();
}

Result<std::string> signed_json_from_pdf(std::string_view pdf) {
  const auto at = pdf.find(kMarker);
  if (at == std::string_view::npos)
    return make_error(Errc::invalid_input, "this PDF carries no Revive certificate");
  const auto start = at + kMarker.size();
  auto end = start;
  while (end < pdf.size() && (std::isalnum(static_cast<unsigned char>(pdf[end])) ||
                              pdf[end] == '+' || pdf[end] == '/' || pdf[end] == '='))
    ++end;
  auto raw = from_base64(pdf.substr(start, end - start));
  if (!raw) return make_error(Errc::corrupt, "the certificate inside this PDF is damaged");
  return std::string(raw->begin(), raw->end());
}

Result<Verified> verify_pdf(std::string_view pdf, const PublicKey& trusted) {
  auto json = signed_json_from_pdf(pdf);
  if (!json) return json.error();
  auto v = verify_json(*json, trusted);
  if (!v) return v.error();
  for (const Drawing d : {kCurrentDrawing, Drawing::first}) {
    auto again = render_pdf(*json, d);
    if (!again) return again.error();
    if (*again == pdf) return v;
  }
  return make_error(
      Errc::bad_signature,
      "the PDF's pages differ from the signed certificate it carries (edited after signing?)");
}

Result<Verified> verify_file_contents(std::string_view contents, const PublicKey& trusted) {
  if (contents.substr(0, 5) == "%PDF-") return verify_pdf(contents, trusted);
  return verify_json(contents, trusted);
}

}  // namespace revive::cert
