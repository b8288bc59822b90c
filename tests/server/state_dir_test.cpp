// Issue 15: the state directory (signing key, database, boot tokens) is owner-only.

#include "app/state_dir.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "temp_dir.hpp"
#include "test_files.hpp"

namespace revive::server {
namespace {

mode_t mode_of(const std::filesystem::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

TEST(StateDir, ANewOneIsCreatedOwnerOnly) {
  test::TempDir dir;
  const auto state = dir / "a" / "state";
  auto r = prepare_state_dir(state);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, StateDirChange::created);
  EXPECT_EQ(mode_of(state), 0700u);
}

TEST(StateDir, AnExistingOneOpenToOthersIsTightenedAndSaysSo) {
  test::TempDir dir;
  const auto state = dir / "state";
  std::filesystem::create_directory(state);
  ASSERT_EQ(::chmod(state.c_str(), 0755), 0);
  auto r = prepare_state_dir(state);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, StateDirChange::tightened);
  EXPECT_EQ(mode_of(state), 0700u);
  r = prepare_state_dir(state);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, StateDirChange::none) << "already owner-only: nothing to say";
}

TEST(StateDir, AFileInItsPlaceIsAnError) {
  test::TempDir dir;
  const auto state = dir / "state";
  test::make_sparse(state, 16);  // a file, not a directory
  auto r = prepare_state_dir(state);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("not a directory"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace revive::server
