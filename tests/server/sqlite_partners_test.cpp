// The SQLite repositories of partner organisations, hand-overs and loans (issue 16): what they
// store survives a reopen, names stay unique, one loan is out per laptop at a time, and the
// retention empties only returned loans' references.
#include <gtest/gtest.h>

#include "storage/sqlite/sqlite_storage.hpp"
#include "temp_dir.hpp"

namespace revive::server {
namespace {

class SqlitePartnersTest : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }
  void reopen() {
    storage_.reset();
    auto s = sqlite::open_storage(dir_ / "revive.db");
    ASSERT_TRUE(s) << s.error().message;
    storage_ = std::move(*s);
  }
  std::int64_t device(const std::string& serial) {
    NewDevice d;
    d.system_uuid = "uuid-" + serial;
    d.serial = serial;
    d.model = "ThinkPad T480";
    auto id = storage_->devices().insert(d);
    EXPECT_TRUE(id) << id.error().message;
    return id ? *id : 0;
  }
  Storage& s() { return *storage_; }

  test::TempDir dir_;
  std::unique_ptr<Storage> storage_;
};

TEST_F(SqlitePartnersTest, OrganisationsKeepUniqueNamesAndSurviveAReopen) {
  auto& orgs = s().organisations();
  auto lib = orgs.create({0, "Bibliotheek Noord", "Anna", "library", 100});
  ASSERT_TRUE(lib) << lib.error().message;
  auto school = orgs.create({0, "Atheneum", "", "school", 101});
  ASSERT_TRUE(school);
  auto twice = orgs.create({0, "Atheneum", "", "other", 102});
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code, Errc::conflict);
  EXPECT_EQ(orgs.update({*lib, "Atheneum", "", "library", 0}).error().code, Errc::conflict);
  EXPECT_EQ(orgs.update({999, "X", "", "library", 0}).error().code, Errc::not_found);
  ASSERT_TRUE(orgs.update({*lib, "Bibliotheek Noord", "Bart", "welfare", 0}));
  reopen();
  auto all = s().organisations().list();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2U);
  EXPECT_EQ((*all)[0].name, "Atheneum") << "by name";
  auto found = s().organisations().find(*lib);
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->contact, "Bart");
  EXPECT_EQ((*found)->kind, "welfare");
  EXPECT_EQ((*found)->created_at, 100) << "an edit keeps when it was made";
}

TEST_F(SqlitePartnersTest, HandoversAndLoansAreStoredAndTheRetentionErasesReturnedReferences) {
  const auto a = device("SN1");
  const auto b = device("SN2");
  auto org = s().organisations().create({0, "OCMW", "", "welfare", 1});
  ASSERT_TRUE(org);
  auto first = s().handovers().create({0, *org, "alice", 1000, {b, a}});
  ASSERT_TRUE(first) << first.error().message;
  auto second = s().handovers().create({0, *org, "bob", 2000, {a}});
  ASSERT_TRUE(second);
  {
    auto uow = s().begin();  // dropped uncommitted, as the domain does with a failed change
    ASSERT_TRUE(uow);
    EXPECT_FALSE(s().handovers().create({0, 999, "bob", 2000, {a}}))
        << "the organisation must exist";
    EXPECT_FALSE(s().handovers().create({0, *org, "bob", 2000, {4242}})) << "so must the laptop";
  }

  auto h = s().handovers().find(*first);
  ASSERT_TRUE(h && *h);
  EXPECT_EQ((*h)->devices, (std::vector<std::int64_t>{a, b}));
  EXPECT_EQ((*h)->operator_name, "alice");
  auto latest = s().handovers().latest_for(a);
  ASSERT_TRUE(latest && *latest);
  EXPECT_EQ((*latest)->id, *second);
  EXPECT_EQ((*s().handovers().latest_for(b))->id, *first);
  auto list = s().handovers().list();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2U);
  EXPECT_EQ((*list)[0].id, *second) << "newest first";

  auto loan = s().handovers().add_loan({0, a, *second, "card 42", 3000, "alice", {}, {}, false});
  ASSERT_TRUE(loan) << loan.error().message;
  auto twice = s().handovers().add_loan({0, a, *second, "", 3001, "alice", {}, {}, false});
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code, Errc::conflict) << "one loan out per laptop";
  ASSERT_TRUE(s().handovers().add_loan({0, b, *first, "kept", 3000, "alice", {}, {}, false}));
  ASSERT_TRUE(s().handovers().mark_returned(*loan, 4000, "bob"));
  EXPECT_EQ(s().handovers().mark_returned(*loan, 4001, "bob").error().code, Errc::not_found);
  ASSERT_TRUE(s().handovers().add_loan({0, a, *second, "again", 5000, "alice", {}, {}, false}))
      << "lent again once returned";

  reopen();
  EXPECT_EQ(*s().handovers().erase_references(4000, 100), 0) << "returned at 4000: not before";
  EXPECT_EQ(*s().handovers().erase_references(4001, 100), 1);
  auto loans = s().handovers().loans_of(a);
  ASSERT_TRUE(loans);
  ASSERT_EQ(loans->size(), 2U);
  EXPECT_EQ((*loans)[0].reference, "");
  EXPECT_TRUE((*loans)[0].reference_erased);
  EXPECT_EQ((*loans)[0].returned_by, "bob");
  EXPECT_EQ((*loans)[1].reference, "again") << "still out";
  EXPECT_EQ((*s().handovers().loans_of(b))[0].reference, "kept");
  EXPECT_EQ(*s().handovers().erase_references(9999, 100), 0) << "erased once";
}

}  // namespace
}  // namespace revive::server
