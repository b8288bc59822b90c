#include "rootfs_archive.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "temp_dir.hpp"

namespace revive::ctl {
namespace {

std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  ::pclose(p);
  return out;
}

// A root filesystem as an xz tarball (owners, a symlink, modes) comes out as a plain tar that
// GNU tar lists with the same entries, owners and modes.
TEST(RootfsArchive, CompressedTarBecomesPlainTar) {
  test::TempDir t;
  std::filesystem::create_directories(t / "root/etc");
  std::ofstream(t / "root/etc/hostname") << "laptop\n";
  std::filesystem::create_symlink("../usr/lib/os-release", t / "root/etc/os-release");
  const std::string dir = t.path().string();
  ASSERT_EQ(std::system(("tar -C " + dir + "/root --owner=0 --group=0 --mode=go-w -cJf " + dir +
                         "/root.tar.xz .")
                            .c_str()),
            0);
  ASSERT_TRUE(archive_to_tar(t / "root.tar.xz", t / "out.tar"));
  const std::string list = run("tar -tvf " + dir + "/out.tar");
  EXPECT_NE(list.find("root/root"), std::string::npos) << list;
  EXPECT_NE(list.find("./etc/hostname"), std::string::npos) << list;
  EXPECT_NE(list.find("./etc/os-release -> ../usr/lib/os-release"), std::string::npos) << list;
  EXPECT_EQ(run("tar -xOf " + dir + "/out.tar ./etc/hostname"), "laptop\n");
}

TEST(RootfsArchive, RefusesWhatIsNoArchive) {
  test::TempDir t;
  std::ofstream(t / "notes.txt") << "not an archive at all, just words\n";
  auto r = archive_to_tar(t / "notes.txt", t / "out.tar");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("base.archive " + (t / "notes.txt").string()), std::string::npos)
      << r.error().message;
  r = archive_to_tar(t / "missing.tar", t / "out.tar");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("missing.tar"), std::string::npos);
}

}  // namespace
}  // namespace revive::ctl
