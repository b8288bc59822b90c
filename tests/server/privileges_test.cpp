// Issue 15, finding 8: the daemon's privileges after binding (app/privileges.hpp). The drop
// itself changes the test process for good, so it is tested on the real binary
// (tests/integration/privilege_drop_test.py); here the policy and giving the state away.

#include "app/privileges.hpp"

#include "app/config.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "temp_dir.hpp"

namespace revive::server {
namespace {

uid_t owner_of(const std::filesystem::path& p) {
  struct stat st {};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st.st_uid;
}

TEST(Privileges, TheAccountIsReviveUnlessTheConfigNamesAnother) {
  test::TempDir dir;
  ServerConfig cfg;
  EXPECT_EQ(cfg.user, "revive");
  std::ofstream(dir / "c.toml") << "user = \"workshop\"\n";
  auto r = load_config_file(dir / "c.toml", cfg);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(cfg.user, "workshop");
  std::ofstream(dir / "bad.toml") << "user = 3\n";
  auto bad = load_config_file(dir / "bad.toml", cfg);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("\"user\" must be a string"), std::string::npos)
      << bad.error().message;
}

TEST(Privileges, NotStartedAsRootThereIsNothingToBecome) {
  auto plan = plan_privileges("revive", 1000);
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_FALSE(plan->become);
  EXPECT_FALSE(plan->stay_root);
}

TEST(Privileges, RootStaysOnlyWhenTheOperatorSaysUserRoot) {
  auto plan = plan_privileges("root", 0);
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_TRUE(plan->stay_root);
  EXPECT_FALSE(plan->become);
}

TEST(Privileges, StartedAsRootWithoutTheAccountTheStartIsRefusedWithWhatToDo) {
  auto plan = plan_privileges("revive-no-such-user", 0);
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().code, Errc::not_found);
  EXPECT_NE(plan.error().message.find("useradd --system"), std::string::npos)
      << plan.error().message;
  EXPECT_NE(plan.error().message.find("--user root"), std::string::npos);
  EXPECT_EQ(plan_privileges("", 0).error().code, Errc::invalid_input);
}

TEST(Privileges, StartedAsRootTheNamedAccountIsBecome) {
  auto plan = plan_privileges("nobody", 0);  // in every Debian system's passwd
  ASSERT_TRUE(plan) << plan.error().message;
  ASSERT_TRUE(plan->become);
  EXPECT_EQ(plan->become->name, "nobody");
  EXPECT_NE(plan->become->uid, 0u);
  EXPECT_FALSE(plan->stay_root);
}

TEST(Privileges, AHardLinkedFileIsNotGivenAway) {
  // A link the account made (in a state it owned) to a file of someone else's would hand that
  // file over at the next start as root.
  test::TempDir dir;
  const auto state = dir / "state";
  std::filesystem::create_directories(state);
  const auto outside = dir / "shadow";
  std::ofstream(outside) << "secret";
  ASSERT_EQ(::link(outside.c_str(), (state / "innocent").c_str()), 0);
  const Account nobody{"nobody", 65534, 65534};
  auto r = give_to(nobody, {state});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::forbidden);
  EXPECT_NE(r.error().message.find("hard links"), std::string::npos) << r.error().message;
  EXPECT_EQ(owner_of(outside), ::geteuid());
}

TEST(Privileges, TheStateIsGivenToTheAccountSymlinksThemselvesNotTheirTargets) {
  if (::geteuid() != 0) GTEST_SKIP() << "chown to another account needs root";
  test::TempDir dir;
  const auto state = dir / "state";
  std::filesystem::create_directories(state / "store" / "chunks");
  std::ofstream(state / "revive.db") << "db";
  const auto target = dir / "not-the-state";
  std::ofstream(target) << "x";
  std::filesystem::create_symlink(target, state / "link");
  const Account nobody{"nobody", 65534, 65534};
  auto r = give_to(nobody, {state, dir / "missing"});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, 5u);  // state, store, chunks, revive.db, link
  for (const auto& p : {state, state / "store" / "chunks", state / "revive.db", state / "link"})
    EXPECT_EQ(owner_of(p), 65534u) << p;
  EXPECT_EQ(owner_of(target), 0u);
  auto again = give_to(nobody, {state});
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, 0u);  // only what differs is changed
}

}  // namespace
}  // namespace revive::server
