// One laptop's rows are found by index (migrations 11 and 12): the lookups made for one laptop,
// at each DHCP answer, enrolment, boot and certificate, read none of the other laptops' rows,
// which a workshop counts in thousands after a year (issue 19: revoking the old agent token at
// every enrolment read every token, so a thousand laptops starting at once did half a million
// row reads). Nor does the event log's retention, which runs every minute, read the whole log
// to find its ends.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "storage/sqlite/database.hpp"
#include "storage/sqlite/migrations.hpp"
#include "storage/sqlite/repositories.hpp"
#include "temp_dir.hpp"

namespace revive::server {
namespace {

constexpr std::int64_t kLaptops = 200;
constexpr int kInBatch = 3;

class PerLaptopLookupsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = sqlite::Database::open(dir_ / "revive.db");
    ASSERT_TRUE(db) << db.error().message;
    db_ = std::make_unique<sqlite::Database>(std::move(*db));
    auto migrated = sqlite::migrate(*db_);
    ASSERT_TRUE(migrated) << migrated.error().message;
    BatchRow batch;
    batch.name = "donated by the city";
    auto b = sqlite::SqliteBatches(*db_).create(batch, 0);
    ASSERT_TRUE(b) << b.error().message;
    batch_ = *b;
    auto tx = sqlite::Transaction::begin(*db_);  // one commit, not a thousand
    ASSERT_TRUE(tx) << tx.error().message;
    for (std::int64_t i = 0; i < kLaptops; ++i) ASSERT_NO_FATAL_FAILURE(add_laptop(i));
    ASSERT_NO_FATAL_FAILURE(lend_all());
    ASSERT_TRUE(tx->commit());
  }

  static std::string mac_of(std::int64_t i) {
    char mac[18];
    std::snprintf(mac, sizeof mac, "8C:16:45:00:%02X:%02X", static_cast<unsigned>(i >> 8 & 0xff),
                  static_cast<unsigned>(i & 0xff));
    return mac;
  }

  // A laptop as a year's workshop leaves it: an agent token, events, a certificate.
  void add_laptop(std::int64_t i) {
    const std::string n = std::to_string(i);
    NewDevice d;
    d.system_uuid = "uuid-" + n;
    d.serial = "SN" + n;
    d.model = "ThinkPad T480";
    d.macs = Json::array({mac_of(i)});
    if (i < kInBatch) d.batch_id = batch_;
    auto id = sqlite::SqliteDevices(*db_).insert(d);
    ASSERT_TRUE(id) << id.error().message;
    ASSERT_TRUE(sqlite::SqliteAgentTokens(*db_).add("token-" + n, *id, 0));
    sqlite::SqliteEvents events(*db_);
    EventRow e;
    e.device_id = *id;
    for (const char* kind : {"enrolled", "boot_script", "step-done"}) {
      e.kind = kind;
      ASSERT_TRUE(events.append(e));
    }
    CertificateRow c;
    c.cert_id = "cert-" + n;
    c.device_id = *id;
    c.kind = "laptop";
    c.result = "passed";
    ASSERT_TRUE(sqlite::SqliteCertificates(*db_).add(c));
    ids_.push_back(*id);
    last_ = *id;
  }

  // Every laptop handed over to a library and lent out by it.
  void lend_all() {
    OrganisationRow library;
    library.name = "Bibliotheek Noord";
    library.kind = "library";
    auto org = sqlite::SqliteOrganisations(*db_).create(library);
    ASSERT_TRUE(org) << org.error().message;
    sqlite::SqliteHandovers handovers(*db_);
    HandoverRow h;
    h.organisation_id = *org;
    h.operator_name = "alice";
    h.devices = ids_;
    auto handover = handovers.create(h);
    ASSERT_TRUE(handover) << handover.error().message;
    for (const auto id : ids_) {
      LoanRow loan;
      loan.device_id = id;
      loan.handover_id = *handover;
      loan.reference = "card " + std::to_string(id);
      loan.lent_by = "alice";
      ASSERT_TRUE(handovers.add_loan(loan));
    }
  }

  test::TempDir dir_;
  std::unique_ptr<sqlite::Database> db_;
  std::int64_t batch_ = 0;
  std::vector<std::int64_t> ids_;
  std::int64_t last_ = 0;
};

TEST_F(PerLaptopLookupsTest, ReadNoOtherLaptopsRows) {
  const auto before = db_->full_scan_rows();
  // Every proxyDHCP answer and boot script: the laptop by its MAC (the firmware's case).
  sqlite::SqliteDevices devices(*db_);
  auto by_mac = devices.find_by_mac("8c:16:45:00:00:c7", 2);
  ASSERT_TRUE(by_mac) << by_mac.error().message;
  ASSERT_EQ(by_mac->size(), 1u);
  EXPECT_EQ(by_mac->front().id, last_);
  sqlite::SqliteAgentTokens tokens(*db_);
  sqlite::SqliteEvents events(*db_);
  sqlite::SqliteCertificates certificates(*db_);
  ASSERT_TRUE(tokens.revoke_device(last_));
  auto boot = events.latest(last_, "boot_script");
  ASSERT_TRUE(boot) << boot.error().message;
  EXPECT_TRUE(boot->has_value());
  auto timeline = events.of_device(last_, {"enrolled", "step-done"}, 10);
  ASSERT_TRUE(timeline) << timeline.error().message;
  EXPECT_EQ(timeline->size(), 2u);
  auto certs = certificates.for_device(last_);
  ASSERT_TRUE(certs) << certs.error().message;
  EXPECT_EQ(certs->size(), 1u);
  auto in_batch = certificates.newest_per_device_in_batch(batch_, "laptop");
  ASSERT_TRUE(in_batch) << in_batch.error().message;
  EXPECT_EQ(in_batch->size(), static_cast<std::size_t>(kInBatch));
  sqlite::SqliteHandovers handovers(*db_);
  auto loans = handovers.loans_of(last_);
  ASSERT_TRUE(loans) << loans.error().message;
  EXPECT_EQ(loans->size(), 1u);
  auto handed = handovers.latest_for(last_);
  ASSERT_TRUE(handed) << handed.error().message;
  EXPECT_TRUE(handed->has_value());
  // Not one laptop's, but every minute: the retention of the event log and of the returned
  // loans' references (none returned yet) finds what to drop.
  auto pruned = events.prune(/*before=*/0, /*keep=*/kLaptops * 3, /*batch=*/1000);
  ASSERT_TRUE(pruned) << pruned.error().message;
  EXPECT_EQ(*pruned, 0);
  auto erased = handovers.erase_references(/*before=*/100, /*batch=*/100);
  ASSERT_TRUE(erased) << erased.error().message;
  EXPECT_EQ(*erased, 0);

  for (const auto& [sql, rows] : db_->full_scan_rows()) {
    const auto was = before.find(sql);
    EXPECT_EQ(rows, was == before.end() ? 0 : was->second)
        << "this lookup read a whole table (" << kLaptops << " laptops' rows):\n"
        << sql;
  }
}

}  // namespace
}  // namespace revive::server
