#include "certificate.hpp"

#include <gtest/gtest.h>

#include "certificate_pdf.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace revive::cert {
namespace {

IssueContext context() {
  IssueContext c;
  c.workshop = "Cyberbank Amsterdam";
  c.operator_name = "alice";
  c.issued_at = "2026-11-22T10:00:00Z";
  c.device = {{"device_id", 7},
              {"vendor", "HP"},
              {"model", "HP EliteBook 840 G5"},
              {"serial", "5CG8413RLZ"},
              {"system_uuid", "b1e6a4f2-3c77-4e1a-9d2f-6a0c58e2d9b3"},
              {"asset_tag", "CB-0042"}};
  c.donor_batch = {{"name", "ministry-2026-11"}, {"donor", "Ministerie van BZK"}};
  return c;
}

Json evidence() {
  return {{"drive",
           {{"name", "nvme0n1"},
            {"model", "SAMSUNG MZVLB256HAHQ"},
            {"serial", "S4DPNX0M123456"},
            {"size_bytes", 256060514304ull},
            {"media", "ssd"},
            {"transport", "nvme"}}},
          {"method", "overwrite"},
          {"nist_level", "Clear"},
          {"why", "a full overwrite reaches every addressable sector: Clear"},
          {"tool", "revive-agent 0.1.0"},
          {"started_at", "2026-11-22T09:00:00Z"},
          {"finished_at", "2026-11-22T09:20:00Z"},
          {"pattern", "zeros"},
          {"hpa_dco", "none"},
          {"verification",
           {{"method", "sampled"},
            {"seed", "12345"},
            {"samples", 1000},
            {"bytes_checked", 25606051430ull},
            {"coverage_permille", 100},
            {"mismatches", 0},
            {"read_errors", 0}}},
          {"smart_before", {{"power_on_hours", 4211}, {"wear", 0.5}}},
          {"result", "passed"}};
}

TEST(Certificate, DriveCertificateCarriesTheRequiredFields) {
  auto c = drive_certificate(context(), evidence());
  ASSERT_TRUE(c) << c.error().message;
  const Json& b = *c;
  EXPECT_EQ(b["format"], kFormat);
  EXPECT_EQ(b["certificate_id"].get<std::string>().size(), 36u);
  for (const char* k :
       {"issued_at", "workshop", "operator", "donor_batch", "device", "drive", "sanitization",
        "verification", "smart", "result", "reverification", "validator"}) {
    EXPECT_TRUE(b.contains(k)) << k;
  }
  EXPECT_EQ(b["device"]["asset_tag"], "CB-0042");
  EXPECT_EQ(b["sanitization"]["nist_level"], "Clear");
  EXPECT_EQ(b["result"], "passed");
  EXPECT_EQ(b["smart"]["before"]["wear"], "0.500");  // no floats in a signed document
  EXPECT_NE(drive_certificate(context(), evidence())->at("certificate_id"), b["certificate_id"]);
}

TEST(Certificate, EvidenceThatDoesNotHoldUpIsNeverPassed) {
  Json e = evidence();
  e["verification"]["coverage_permille"] = 50;
  EXPECT_EQ((*drive_certificate(context(), e))["result"], "unverified");
  e = evidence();
  e["verification"]["method"] = "none";
  EXPECT_EQ((*drive_certificate(context(), e))["result"], "unverified");
  e = evidence();
  e["verification"]["mismatches"] = 1;
  EXPECT_EQ((*drive_certificate(context(), e))["result"], "unverified");
  e = evidence();
  e["nist_level"] = "Destroy";
  EXPECT_FALSE(drive_certificate(context(), e));
  e = evidence();
  e["verification"]["samples"] = -1;
  EXPECT_FALSE(drive_certificate(context(), e));
  e = evidence();
  e.erase("drive");
  auto r = drive_certificate(context(), e);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("\"drive\""), std::string::npos);
}

TEST(Certificate, LaptopCertificatePassesOnlyWhenEveryDriveDid) {
  auto a = *drive_certificate(context(), evidence());
  Json e = evidence();
  e["result"] = "failed";
  e["reason"] = "1 unwritable range(s), the first at offset 4096";
  auto b = *drive_certificate(context(), e);
  EXPECT_EQ(laptop_certificate(context(), {a})["result"], "passed");
  const Json l = laptop_certificate(context(), {a, b});
  EXPECT_EQ(l["result"], "failed");
  EXPECT_EQ(l["drives"].size(), 2u);
  EXPECT_EQ(l["drives"][1]["certificate_id"], b["certificate_id"]);
  EXPECT_EQ(laptop_certificate(context(), {})["result"], "failed");
}

TEST(Certificate, SignedJsonVerifiesOnlyUntouchedAndWithTheRightKey) {
  const KeyPair key = KeyPair::generate();
  const std::string doc = sign(*drive_certificate(context(), evidence()), key);
  auto v = verify_json(doc, key.public_key());
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->body["drive"]["serial"], "S4DPNX0M123456");
  EXPECT_FALSE(verify_json(doc, KeyPair::generate().public_key()));
  std::string tampered = doc;
  tampered.replace(tampered.find("\"Clear\""), 7, "\"Purge\"");
  auto t = verify_json(tampered, key.public_key());
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code, Errc::bad_signature);
  EXPECT_FALSE(verify_json("{\"certificate\": {}}", key.public_key()));
}

TEST(CertificatePdf, RendersDeterministicallyAndVerifiesOffline) {
  const KeyPair key = KeyPair::generate();
  const std::string doc = sign(*drive_certificate(context(), evidence()), key);
  auto pdf = render_pdf(doc);
  ASSERT_TRUE(pdf) << pdf.error().message;
  EXPECT_EQ(pdf->substr(0, 5), "%PDF-");
  EXPECT_GT(pdf->size(), 2000u);
  EXPECT_EQ(*render_pdf(doc), *pdf);  // same certificate, same bytes
  EXPECT_EQ(*signed_json_from_pdf(*pdf), doc);
  auto v = verify_file_contents(*pdf, key.public_key());
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->body["kind"], "drive");
  EXPECT_FALSE(verify_file_contents(*pdf, KeyPair::generate().public_key()));
  // One changed byte in the page content (not the embedded document): refused.
  std::string edited = *pdf;
  const auto stream = edited.find("stream", edited.find("/Length"));
  ASSERT_NE(stream, std::string::npos);
  edited[stream + 20] = static_cast<char>(edited[stream + 20] ^ 0x01);
  auto e = verify_pdf(edited, key.public_key());
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("differ"), std::string::npos) << e.error().message;
  EXPECT_FALSE(verify_pdf("%PDF-1.3 nothing here", key.public_key()));
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A PDF given to a donor is verified by drawing its embedded certificate again and comparing
// bytes, so any change in how a certificate is drawn would make every PDF already handed out
// fail to verify. The bytes are pinned here. REVIVE_WRITE_GOLDEN=1 writes them anew: only
// for a deliberate change that comes with a way to verify the old PDFs.
TEST(CertificatePdf, DrawingIsPinnedSoPdfsAlreadyHandedOutKeepVerifying) {
  const std::string dir = std::string(REVIVE_TEST_DATA) + "/certificates/";
  if (std::getenv("REVIVE_WRITE_GOLDEN") != nullptr) {
    const std::string doc = sign(*drive_certificate(context(), evidence()), KeyPair::generate());
    std::ofstream(dir + "drive.json", std::ios::binary) << doc;
    std::ofstream(dir + "drive.pdf", std::ios::binary) << *render_pdf(doc);
  }
  const std::string doc = slurp(dir + "drive.json");
  ASSERT_FALSE(doc.empty()) << "missing " << dir << "drive.json";
  auto pdf = render_pdf(doc);
  ASSERT_TRUE(pdf) << pdf.error().message;
  EXPECT_TRUE(*pdf == slurp(dir + "drive.pdf")) << "the certificate PDF is drawn differently now";
}

// The first drawing put every value through the WinAnsi conversion twice, so a letter outside
// ASCII came out as '?' (or ate the letter after it). A certificate drawn that way still
// verifies: verify_pdf knows both drawings. Its golden files were written by the first
// drawing's code (REVIVE_WRITE_GOLDEN_V1=1 did, before the fix); the newer drawing of the
// same certificate shows the letters and verifies too.
TEST(CertificatePdf, ACertificateWithAccentsDrawnTheFirstWayStillVerifies) {
  const std::string dir = std::string(REVIVE_TEST_DATA) + "/certificates/";
  if (std::getenv("REVIVE_WRITE_GOLDEN_V1") != nullptr) {
    IssueContext c = context();
    c.workshop = "Repair Café Gent";
    c.operator_name = "Zoë";
    c.donor_batch = {{"name", "bxl-2026-12"}, {"donor", "Région de Bruxelles-Capitale"}};
    const KeyPair key = KeyPair::generate();
    const std::string doc = sign(*drive_certificate(c, evidence()), key);
    std::ofstream(dir + "drive-accents.json", std::ios::binary) << doc;
    std::ofstream(dir + "drive-accents-v1.pdf", std::ios::binary) << *render_pdf(doc);
    std::ofstream(dir + "drive-accents.pub", std::ios::binary)
        << public_key_to_text(key.public_key());
  }
  const std::string doc = slurp(dir + "drive-accents.json");
  const std::string v1 = slurp(dir + "drive-accents-v1.pdf");
  auto key = public_key_from_text(slurp(dir + "drive-accents.pub"));
  ASSERT_TRUE(key) << key.error().message;
  auto old = verify_pdf(v1, *key);
  EXPECT_TRUE(old) << (old ? "" : old.error().message);
  EXPECT_EQ(*render_pdf(doc, Drawing::first), v1) << "the first drawing is kept as it was";
  auto now = render_pdf(doc);
  ASSERT_TRUE(now) << now.error().message;
  EXPECT_NE(*now, v1);
  auto current = verify_pdf(*now, *key);
  EXPECT_TRUE(current) << (current ? "" : current.error().message);
  // What a reader sees: the letters, not '?' (the text is WinAnsi inside the PDF).
  const std::string tmp = testing::TempDir() + "/accents.pdf";
  std::ofstream(tmp, std::ios::binary) << *now;
  FILE* text = popen(("pdftotext " + tmp + " - 2>/dev/null").c_str(), "r");
  ASSERT_NE(text, nullptr);
  std::string shown;
  for (int c; (c = std::fgetc(text)) != EOF;) shown += static_cast<char>(c);
  pclose(text);
  EXPECT_NE(shown.find("Repair Café Gent"), std::string::npos) << shown;
  EXPECT_NE(shown.find("Zoë"), std::string::npos);
  EXPECT_NE(shown.find("Région de Bruxelles-Capitale"), std::string::npos);
}

// A laptop back from a loan: its new certificate names the previous visit's, signed, in the
// PDF as well (whose verification draws it again, "Previous visit" row included).
TEST(CertificatePdf, APreviousVisitsCertificateIsNamedOnTheLaptopsPdf) {
  const KeyPair key = KeyPair::generate();
  Json laptop = laptop_certificate(context(), {*drive_certificate(context(), evidence())});
  laptop["previous_certificate"] = "c0ffee00-0000-4000-8000-000000000001";
  auto with = render_pdf(sign(laptop, key));
  ASSERT_TRUE(with) << with.error().message;
  auto v = verify_file_contents(*with, key.public_key());
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->body["previous_certificate"], "c0ffee00-0000-4000-8000-000000000001");
}

// render_pdf is public: a document with fields missing (a hand-made or damaged file given to
// `revivectl cert verify`) is drawn with "(not recorded)", never read past its end.
TEST(CertificatePdf, ACertificateWithFieldsMissingIsStillDrawn) {
  for (const char* kind : {"drive", "laptop", "batch"}) {
    const Json doc = {{"certificate", {{"kind", kind}, {"drive", 5}, {"smart", "x"}}}};
    auto pdf = render_pdf(doc.dump());
    ASSERT_TRUE(pdf) << kind << ": " << pdf.error().message;
    EXPECT_EQ(pdf->substr(0, 5), "%PDF-") << kind;
  }
}

TEST(Certificate, ReverificationByASecondPersonSupersedes) {
  const Json drive = *drive_certificate(context(), evidence());
  const Json laptop = laptop_certificate(context(), {drive});
  EXPECT_FALSE(revalidated(laptop, "alice", "confirmed", "",
                           "2026-11-23T09:00:00Z"));  // the operator of record
  EXPECT_FALSE(revalidated(laptop, "bob", "maybe", "", "2026-11-23T09:00:00Z"));
  auto ok =
      revalidated(laptop, "bob", "confirmed", "spot check of 20 sectors", "2026-11-23T09:00:00Z");
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ((*ok)["supersedes"], laptop["certificate_id"]);
  EXPECT_NE((*ok)["certificate_id"], laptop["certificate_id"]);
  EXPECT_EQ((*ok)["validator"]["name"], "bob");
  EXPECT_EQ((*ok)["reverification"]["done"], true);
  EXPECT_EQ((*ok)["result"], "passed");
  auto twice = revalidated(*ok, "carol", "confirmed", "", "2026-11-23T10:00:00Z");
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code, Errc::conflict);
  auto disputed = revalidated(laptop, "bob", "disputed", "old data readable at the end of the disk",
                              "2026-11-23T09:00:00Z");
  ASSERT_TRUE(disputed);
  EXPECT_EQ((*disputed)["result"], "failed");
  EXPECT_NE((*disputed)["reason"].get<std::string>().find("old data readable"), std::string::npos);
}

TEST(Certificate, BatchCsvNeutralisesSpreadsheetFormulas) {
  // A serial a spreadsheet would run as a formula stays text (the device export did this, the
  // donor's batch CSV did not).
  IssueContext ctx = context();
  ctx.device["serial"] = "=HYPERLINK(\"http://evil\")";
  ctx.device["asset_tag"] = "@SUM(1)";
  const Json laptop = laptop_certificate(ctx, {*drive_certificate(ctx, evidence())});
  const std::string csv =
      batch_csv(batch_summary("W", ctx.donor_batch, "2026-11-23T09:00:00Z", {laptop}));
  EXPECT_NE(csv.find(",\"'=HYPERLINK(\"\"http://evil\"\")\","), std::string::npos) << csv;
  EXPECT_NE(csv.find(",'@SUM(1),"), std::string::npos) << csv;
  EXPECT_EQ(csv.find(",=HYPERLINK"), std::string::npos) << csv;
}

TEST(Certificate, BatchSummaryCsvAndPdf) {
  const Json a = laptop_certificate(context(), {*drive_certificate(context(), evidence())});
  Json e = evidence();
  e["result"] = "failed";
  IssueContext other = context();
  other.device["serial"] = "5CG, \"quoted\"";
  const Json b = laptop_certificate(other, {*drive_certificate(other, e)});
  const Json s = batch_summary("Cyberbank", context().donor_batch, "2026-11-23T09:00:00Z", {a, b});
  EXPECT_EQ(s["kind"], "batch");
  EXPECT_EQ(s["laptop_count"], 2);
  EXPECT_EQ(s["passed_count"], 1);
  EXPECT_EQ(s["result"], "failed");
  const std::string csv = batch_csv(s);
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "certificate_id,serial,model,asset_tag,drives,methods,nist_levels,result,validated");
  EXPECT_NE(csv.find("\"5CG, \"\"quoted\"\"\""), std::string::npos) << csv;
  EXPECT_NE(csv.find(",1,overwrite,Clear,passed,no\n"), std::string::npos) << csv;
  const KeyPair key = KeyPair::generate();
  auto pdf = render_pdf(sign(s, key));
  ASSERT_TRUE(pdf) << pdf.error().message;
  auto v = verify_pdf(*pdf, key.public_key());
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->body["laptops"].size(), 2u);
}

}  // namespace
}  // namespace revive::cert
