// The SQLite device repository finds a laptop by any of its identities: system UUID, serial, or
// one of its internal disks' serials, which a table of their own indexes (migration 10) so a
// thousand laptops of one model are not read one by one at every enrolment (issue 19).
#include <gtest/gtest.h>

#include <algorithm>

#include "storage/sqlite/database.hpp"
#include "storage/sqlite/repositories.hpp"
#include "storage/sqlite/sqlite_storage.hpp"
#include "temp_dir.hpp"

namespace revive::server {
namespace {

class SqliteDevicesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = sqlite::open_storage(dir_ / "revive.db");
    ASSERT_TRUE(s) << s.error().message;
    storage_ = std::move(*s);
  }
  std::int64_t laptop(const std::string& uuid, const std::string& serial, Json disks,
                      const std::string& model = "Latitude 7490") {
    NewDevice d;
    d.system_uuid = uuid;
    d.serial = serial;
    d.model = model;
    d.disk_serials = std::move(disks);
    auto id = storage_->devices().insert(d);
    EXPECT_TRUE(id) << id.error().message;
    return id ? *id : 0;
  }
  // The ids of the laptops a lookup returned, ascending.
  static std::vector<std::int64_t> ids_of(const Result<std::vector<DeviceRow>>& rows) {
    EXPECT_TRUE(rows) << rows.error().message;
    std::vector<std::int64_t> ids;
    if (rows)
      for (const auto& r : *rows) ids.push_back(r.id);
    std::sort(ids.begin(), ids.end());
    return ids;
  }
  std::vector<std::int64_t> found(const std::string& model, const std::string& uuid,
                                  const std::string& serial, const Json& disks) {
    return ids_of(storage_->devices().identity_candidates(model, uuid, serial, disks));
  }
  std::vector<std::int64_t> by_mac(const std::string& mac) {
    return ids_of(storage_->devices().find_by_mac(mac, 2));
  }

  test::TempDir dir_;
  std::unique_ptr<Storage> storage_;
};

TEST_F(SqliteDevicesTest, ALaptopIsFoundByItsUuidItsSerialOrAnyOfItsDisks) {
  for (int i = 0; i < 50; ++i)  // many of the same model, as a donated batch is
    laptop("uuid-" + std::to_string(i), "SN" + std::to_string(i),
           Json::array({"DISK-" + std::to_string(i)}));
  const auto a = laptop("uuid-a", "SN-A", Json::array({"NVME-A", "SATA-A"}));
  const auto b = laptop("uuid-b", "SN-B", Json::array({"NVME-B"}));
  laptop("uuid-c", "SN-C", Json::array({"NVME-A"}), "Latitude 5490");  // another model

  using V = std::vector<std::int64_t>;
  EXPECT_EQ(found("Latitude 7490", "uuid-a", "", Json::array()), V{a});
  EXPECT_EQ(found("Latitude 7490", "", "SN-A", Json::array()), V{a});
  EXPECT_EQ(found("Latitude 7490", "", "", Json::array({"SATA-A"})), V{a});
  EXPECT_EQ(found("Latitude 7490", "uuid-a", "SN-B", Json::array()), (V{a, b}))
      << "two laptops claim this identity: both are candidates";
  EXPECT_EQ(found("Latitude 7490", "", "", Json::array({"NVME-A"})), V{a})
      << "the other model's laptop with that disk is not one";
  EXPECT_TRUE(found("Latitude 7490", "", "", Json::array()).empty()) << "empty says nothing";
  EXPECT_TRUE(found("Latitude 7490", "uuid-x", "SN-X", Json::array({"X"})).empty());
}

TEST_F(SqliteDevicesTest, ASwappedDiskNamesTheLaptopByItsNewSerialOnly) {
  const auto a = laptop("", "", Json::array({"OLD-DISK"}));
  Sighting s;
  s.disk_serials = Json::array({"NEW-DISK"});
  s.at = 10;
  ASSERT_TRUE(storage_->devices().record_sighting(a, s));
  EXPECT_EQ(found("Latitude 7490", "", "", Json::array({"NEW-DISK"})), std::vector{a});
  EXPECT_TRUE(found("Latitude 7490", "", "", Json::array({"OLD-DISK"})).empty());
  Sighting keep;  // no disk serials reported: the laptop keeps its disks
  keep.at = 11;
  ASSERT_TRUE(storage_->devices().record_sighting(a, keep));
  EXPECT_EQ(found("Latitude 7490", "", "", Json::array({"NEW-DISK"})), std::vector{a});
}

TEST_F(SqliteDevicesTest, ALaptopIsFoundByItsMacsInAnyCaseAndAfterASightingByItsNewOnes) {
  NewDevice d;
  d.system_uuid = "uuid-m";
  d.serial = "SN-M";
  d.model = "EliteBook 840 G5";
  d.macs = Json::array({"8C:16:45:AA:00:01", "8c:16:45:aa:00:02"});
  auto id = storage_->devices().insert(d);
  ASSERT_TRUE(id) << id.error().message;
  laptop("uuid-other", "SN-O", Json::array());  // no MACs: found by none
  EXPECT_EQ(by_mac("8c:16:45:aa:00:01"), std::vector{*id});
  EXPECT_EQ(by_mac("8C:16:45:AA:00:02"), std::vector{*id});
  EXPECT_TRUE(by_mac("8c:16:45:aa:00:03").empty());
  Sighting s;  // a new network card (or a dock's): the lookup follows the MACs it reports
  s.macs = Json::array({"8C:16:45:AA:00:03"});
  s.at = 10;
  ASSERT_TRUE(storage_->devices().record_sighting(*id, s));
  EXPECT_EQ(by_mac("8c:16:45:aa:00:03"), std::vector{*id});
  EXPECT_TRUE(by_mac("8c:16:45:aa:00:01").empty());
}

// The index is only half of it: the query must look the candidates up by id, not walk every
// laptop of the model and test each (the outer `model = ?` took the model index, and a
// thousand laptops of one model made every enrolment read a thousand rows).
TEST_F(SqliteDevicesTest, CandidatesAreLookedUpByIdNotByWalkingTheModel) {
  for (int i = 0; i < 50; ++i)
    laptop("u" + std::to_string(i), "s" + std::to_string(i), Json::array());
  auto db = sqlite::Database::open(dir_ / "revive.db");
  ASSERT_TRUE(db) << db.error().message;
  auto q = db->prepare("EXPLAIN QUERY PLAN " + sqlite::SqliteDevices::identity_candidates_sql());
  ASSERT_TRUE(q) << q.error().message;
  q->bind(std::string("Latitude 7490"), std::string("u7"), std::string("s7"), std::string("[]"));
  std::vector<std::string> plan;
  while (true) {
    auto row = q->step();
    ASSERT_TRUE(row) << row.error().message;
    if (!*row) break;
    plan.push_back(q->text(3));
  }
  std::string all;
  for (const auto& p : plan) all += p + "\n";
  EXPECT_NE(std::find(plan.begin(), plan.end(), "SEARCH d USING INTEGER PRIMARY KEY (rowid=?)"),
            plan.end())
      << all;
  for (const auto& p : plan) {
    EXPECT_NE(p.rfind("SEARCH d USING INDEX", 0), 0u) << all;
    EXPECT_NE(p.rfind("SCAN d", 0), 0u) << all;
  }
}

}  // namespace
}  // namespace revive::server
