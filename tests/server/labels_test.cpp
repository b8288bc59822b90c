// Laptop labels: what a label says (pure), the key its QR link carries, and the certificate
// that link opens (fake repositories).
#include "domain/labels.hpp"

#include <gtest/gtest.h>

#include "domain_fixture.hpp"
#include "revive/signing.hpp"

namespace revive::server {
namespace {

Json t480_inventory() {
  return {{"chassis", {{"asset_tag", "A-1042"}}},
          {"cpu", {{"model", "Intel(R) Core(TM) i5-8350U CPU @ 1.70GHz"}}},
          {"memory", {{"installed_mib", 8192}, {"total_mib", 7820}}},
          {"disks", Json::array({{{"name", "nvme0n1"},
                                  {"size_bytes", 256060514304},
                                  {"transport", "nvme"},
                                  {"removable", false}},
                                 {{"name", "sda"},
                                  {"size_bytes", 32000000000},
                                  {"transport", "USB"},
                                  {"removable", true}}})},
          {"batteries", Json::array({{{"name", "BAT0"}, {"health_pct", 86.6}},
                                     {{"name", "BAT1"}, {"health_pct", 91.0}}})}};
}

DeviceRow t480() {
  DeviceRow d;
  d.id = 7;
  d.vendor = "LENOVO";
  d.model = "20L5CTO1WW";
  d.serial = "PF1ABC23";
  return d;
}

TEST(LabelFacts, SaySpecsGradeAndReadinessInTheWorkshopsWords) {
  LabelWords nl;
  nl.asset = "Inventaris";
  nl.battery = "Accu";
  nl.grade = "Klasse";
  nl.windows11_ready = "Geschikt voor Windows 11";
  const Json grading = {{"grade", "B"}, {"windows11", {{"ready", true}}}};
  const auto l =
      label_facts(t480(), t480_inventory(), grading, "https://srv/c/x/k", "Werkplaats", nl);
  EXPECT_EQ(l.title, "LENOVO 20L5CTO1WW");
  EXPECT_EQ(l.identity, "Inventaris A-1042") << "the asset tag is what the workshop files by";
  EXPECT_EQ(l.specs, (std::vector<std::string>{"Intel Core i5-8350U", "8 GB RAM", "256 GB NVMe SSD",
                                               "Accu 87%"}))
      << "installed RAM, internal disks only, the worst battery";
  EXPECT_EQ(l.grade, "B");
  EXPECT_EQ(l.grade_word, "Klasse");
  EXPECT_EQ(l.windows11, "Geschikt voor Windows 11");
  EXPECT_EQ(l.link, "https://srv/c/x/k");
  EXPECT_EQ(l.footer, "Werkplaats");
}

TEST(LabelFacts, NameTheCpuAsAShopWould) {
  Json inv = {{"cpu", {{"model", "AMD Ryzen 5 PRO 2500U w/ Radeon Vega Mobile Gfx"}}}};
  EXPECT_EQ(label_facts(t480(), inv, Json(), "", "", LabelWords{}).specs.at(0),
            "AMD Ryzen 5 PRO 2500U");
  inv["cpu"]["model"] = "Intel(R) Celeron(R) CPU  N3060  @ 1.60GHz";
  EXPECT_EQ(label_facts(t480(), inv, Json(), "", "", LabelWords{}).specs.at(0),
            "Intel Celeron N3060");
}

TEST(LabelFacts, FallBackToTheSerialAndSayWhatIsMissing) {
  Json inv = t480_inventory();
  inv["chassis"]["asset_tag"] = "To Be Filled By O.E.M.";  // a firmware placeholder
  inv["batteries"] = Json::array();
  const auto l = label_facts(t480(), inv, Json(), "", "", LabelWords{});
  EXPECT_EQ(l.identity, "S/N PF1ABC23");
  EXPECT_EQ(l.specs.back(), "No battery");
  EXPECT_EQ(l.grade, "") << "not graded yet";
  EXPECT_EQ(l.windows11, "");
  EXPECT_EQ(l.link_caption, "") << "no certificate: no QR code, no caption";

  DeviceRow bare;
  bare.id = 12;
  const auto b = label_facts(bare, Json::object(), Json(), "", "", LabelWords{});
  EXPECT_EQ(b.identity, "#12");
  EXPECT_TRUE(b.specs.empty());
}

TEST(LabelFacts, KeepTheBatteryWhenThereAreManyDisks) {
  Json inv = t480_inventory();
  for (int i = 0; i < 3; ++i) {
    inv["disks"].push_back({{"size_bytes", 1e12}, {"rotational", true}, {"transport", "sata"}});
  }
  const auto l = label_facts(t480(), inv, Json(), "", "", LabelWords{});
  ASSERT_EQ(l.specs.size(), 4u);
  EXPECT_EQ(l.specs[3], "Battery 87%");
}

TEST(CertificateLinkKey, IsTheSignaturesStartMadeUrlSafe) {
  const std::string doc =
      R"({"certificate": {}, "signature": {"sig": "ab+/cdEFghIJklMNopQRstUVwxyz0123=="}})";
  EXPECT_EQ(certificate_link_key(doc), "ab-_cdEFghIJklMNopQRst");
  EXPECT_EQ(certificate_link_key(R"({"certificate": {}})"), "");
  EXPECT_EQ(certificate_link_key("not json"), "");
}

class LabelsTest : public test::DomainTest {
 protected:
  LabelsTest()
      : certificates(ctx, certifier, {KeyPair::generate().public_key()}),
        labels(ctx, certificates) {}

  // A stored laptop certificate with a signature of `sig`.
  void add_certificate(const std::string& id, std::int64_t device, const std::string& sig,
                       std::optional<std::string> supersedes = std::nullopt) {
    const Json body = {
        {"certificate", {{"kind", "laptop"}, {"certificate_id", id}, {"result", "passed"}}},
        {"signature", {{"sig", sig}, {"key_id", "k"}}}};
    storage.data.certificates.push_back(CertificateRow{id, device, std::nullopt, "laptop", "passed",
                                                       body.dump(), now, std::move(supersedes)});
  }

  Certificates certificates;
  Labels labels;
};

TEST_F(LabelsTest, ALabelsLinkOpensItsCertificateAndNothingElse) {
  const std::int64_t dev = enrol("SN01");
  add_certificate("c-1", dev, "AAAAbbbbCCCCddddEEEEffff0123456789==");
  add_certificate("c-2", dev, "ZZZZyyyyXXXXwwwwVVVVuuuu0123456789==");
  const std::string key = "AAAAbbbbCCCCddddEEEEff";
  auto d = labels.linked_certificate("c-1", key);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->content_type, "application/pdf");
  EXPECT_EQ(d->body.substr(0, 5), "%PDF-");
  // Another certificate's key, a key one character short, a guess: all the same "not found".
  for (const auto& [id, k] : {std::pair{"c-2", key},
                              {"c-1", key.substr(0, 21)},
                              {"c-1", std::string(22, 'A')},
                              {"c-9", key}}) {
    auto refused = labels.linked_certificate(id, k);
    ASSERT_FALSE(refused) << id << " " << k;
    EXPECT_EQ(refused.error().code, Errc::not_found);
    EXPECT_EQ(refused.error().message, "no such certificate");
  }
}

TEST_F(LabelsTest, ALinkToASupersededCertificateOpensTheOneThatReplacedIt) {
  const std::int64_t dev = enrol("SN02");
  add_certificate("old", dev, "AAAAbbbbCCCCddddEEEEffff0123456789==");
  add_certificate("new", dev, "ZZZZyyyyXXXXwwwwVVVVuuuu0123456789==", "old");
  auto d = labels.linked_certificate("old", "AAAAbbbbCCCCddddEEEEff");
  ASSERT_TRUE(d) << d.error().message;
  auto newest = certificates.document("new", true);
  ASSERT_TRUE(newest);
  EXPECT_EQ(d->body, newest->body) << "a second volunteer's re-verification has the last word";
}

TEST_F(LabelsTest, DeviceAndBatchLabelsArePdfs) {
  const std::int64_t dev = enrol("SN03");
  add_certificate("c-3", dev, "AAAAbbbbCCCCddddEEEEffff0123456789==");
  auto one = labels.device_label(dev, cert::LabelStock::tape_62mm, "https://srv", LabelWords{});
  ASSERT_TRUE(one) << one.error().message;
  EXPECT_EQ(one->substr(0, 5), "%PDF-");
  auto missing = labels.device_label(999, cert::LabelStock::a4_sheet, "https://srv", LabelWords{});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::not_found);
  auto no_batch = labels.batch_labels("nope", cert::LabelStock::a4_sheet, "", LabelWords{});
  ASSERT_FALSE(no_batch);
  EXPECT_EQ(no_batch.error().code, Errc::not_found);
}

}  // namespace
}  // namespace revive::server
