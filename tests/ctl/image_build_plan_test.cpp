#include "image_build_plan.hpp"

#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

#include "build_report.hpp"
#include "child_pipeline.hpp"
#include "run_tool.hpp"
#include "temp_dir.hpp"

namespace revive::ctl {
namespace {

Recipe sample() {
  Recipe r;
  r.name = "debian-12-minimal";
  r.dir = "/recipes/debian-12-minimal";
  r.base.suite = "bookworm";
  r.base.mirror = "http://deb.debian.org/debian";
  r.disk.min_size = 2ull << 30;
  r.disk.esp_size = 128ull << 20;
  r.boot.kernel_cmdline = "console=ttyS0,115200";
  return r;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST(BuildPlan, LayoutIsAlignedAndLeavesRoomForTheBackupGpt) {
  const DiskLayout l = plan_layout(sample());
  EXPECT_EQ(l.disk_size, 2ull << 30);
  EXPECT_EQ(l.bios_offset, 1ull << 20);
  EXPECT_EQ(l.esp_offset, 2ull << 20);
  EXPECT_EQ(l.root_offset, 130ull << 20);
  EXPECT_EQ(l.root_offset + l.root_size, l.disk_size - (1ull << 20));
  const auto argv = sgdisk_argv(l, ids_for(sample()), "/tmp/d.img");
  EXPECT_TRUE(contains(argv, "1:2048:4095"));
  EXPECT_TRUE(contains(argv, "2:4096:266239"));
  EXPECT_TRUE(contains(argv, "3:266240:4192255"));
  EXPECT_TRUE(contains(argv, "3:8304"));  // the x86-64 root type: the root is found by type
}

TEST(BuildPlan, IdsAreStablePerRecipeAndDifferBetweenRecipes) {
  const BuildIds a = ids_for(sample());
  const BuildIds b = ids_for(sample());
  EXPECT_EQ(a.root_uuid, b.root_uuid);
  EXPECT_EQ(a.disk_guid, b.disk_guid);
  Recipe other = sample();
  other.name = "debian-12-desktop-nl";
  EXPECT_NE(ids_for(other).root_uuid, a.root_uuid);
  EXPECT_NE(a.root_uuid, a.root_hash_seed);
  EXPECT_EQ(a.root_uuid.size(), 36u);
  EXPECT_EQ(a.root_uuid[14], '4');
  EXPECT_EQ(a.esp_volume_id.size(), 8u);
  EXPECT_EQ(a.esp_fs_uuid.size(), 9u);
  EXPECT_EQ(a.esp_fs_uuid[4], '-');
}

TEST(BuildPlan, BootFilesNameTheFixedUuids) {
  const Recipe r = sample();
  const BuildIds ids = ids_for(r);
  EXPECT_NE(fstab_text(ids).find("UUID=" + ids.root_uuid + "\t/\text4"), std::string::npos);
  EXPECT_NE(fstab_text(ids).find("UUID=" + ids.esp_fs_uuid + "\t/boot/efi\tvfat"),
            std::string::npos);
  const std::string cfg = root_grub_cfg(r, ids);
  EXPECT_NE(cfg.find("linux /vmlinuz root=UUID=" + ids.root_uuid + " ro console=ttyS0,115200"),
            std::string::npos);
  EXPECT_NE(cfg.find("initrd /initrd.img"), std::string::npos);
  EXPECT_NE(stub_grub_cfg(ids).find("--fs-uuid --set=root " + ids.root_uuid), std::string::npos);
  EXPECT_NE(mkfs_ext4_argv(ids, {}).end(),
            std::find(mkfs_ext4_argv(ids, {}).begin(), mkfs_ext4_argv(ids, {}).end(),
                      "hash_seed=" + ids.root_hash_seed + ",nodiscard"));
}

// mkfs.vfat --invariant after -i made every ESP 1234-ABCD while fstab names the recipe's id:
// /boot/efi was never mounted (nofail hid it).
TEST(BuildPlan, EspVolumeIdComesAfterInvariant) {
  const BuildIds ids = ids_for(sample());
  const auto a = mkfs_vfat_argv(ids, {});
  const auto invariant = std::find(a.begin(), a.end(), "--invariant");
  const auto id = std::find(a.begin(), a.end(), ids.esp_volume_id);
  ASSERT_NE(invariant, a.end());
  ASSERT_NE(id, a.end());
  EXPECT_LT(invariant, id);
  EXPECT_EQ(*(id - 1), "-i");
}

TEST(BuildPlan, PackagesFollowTheBootChain) {
  Recipe r = sample();
  r.packages = {"vim", "linux-image-amd64"};
  auto p = packages_to_install(r);
  EXPECT_TRUE(contains(p, "shim-signed"));
  EXPECT_TRUE(contains(p, "grub-efi-amd64-signed"));
  EXPECT_TRUE(contains(p, "grub-pc-bin"));
  EXPECT_TRUE(contains(p, "vim"));
  EXPECT_TRUE(contains(p, "passwd"));     // useradd for the provision step's first user
  EXPECT_TRUE(contains(p, "e2fsprogs"));  // fsck of the root at boot
  EXPECT_FALSE(contains(p, "locales"));
  EXPECT_EQ(std::count(p.begin(), p.end(), "linux-image-amd64"), 1);
  r.boot.uefi = false;
  r.locale.lang = "nl_NL.UTF-8";
  p = packages_to_install(r);
  EXPECT_FALSE(contains(p, "shim-signed"));
  EXPECT_TRUE(contains(p, "locales"));
}

TEST(BuildPlan, MmdebstrapUsesTheDebCacheAndTheHook) {
  Recipe r = sample();
  r.base.security_mirror = "http://deb.debian.org/debian-security";
  BuildPaths p;
  p.work = "/w";
  p.deb_cache = "/cache/debs";
  const auto a = mmdebstrap_argv(r, p);
  EXPECT_TRUE(contains(a, "--skip=download/empty"));
  EXPECT_TRUE(contains(a, "--setup-hook=sync-in '/cache/debs' /var/cache/apt/archives/"));
  EXPECT_TRUE(contains(a, "--customize-hook=sync-out /var/cache/apt/archives '/cache/debs'"));
  EXPECT_TRUE(contains(a, "--customize-hook=sh '/w/files/customize.sh' \"$1\""));
  EXPECT_TRUE(contains(a, "/w/root.tar"));
  EXPECT_TRUE(contains(a, "deb http://deb.debian.org/debian-security bookworm-security main"));
  // The cache is written out before the hook cleans the archives.
  const auto out = std::find(a.begin(), a.end(),
                             "--customize-hook=sync-out /var/cache/apt/archives '/cache/debs'");
  const auto hook =
      std::find(a.begin(), a.end(), "--customize-hook=sh '/w/files/customize.sh' \"$1\"");
  EXPECT_LT(out, hook);
}

TEST(BuildPlan, CustomizeScriptSetsLocaleIdentityAndHooks) {
  Recipe r = sample();
  r.locale.lang = "nl_BE.UTF-8";
  r.locale.extra = {"fr_BE.UTF-8"};
  r.locale.keyboard_layout = "be";
  r.locale.timezone = "Europe/Brussels";
  r.overlay = "/recipes/x/overlay";
  r.first_boot = {{"10-welcome", "/recipes/x/hooks/welcome.sh"}};
  BuildPaths p;
  p.work = "/w";
  const std::string s = customize_script(r, p);
  const std::string install_hook =
      "install -m 0755 '/recipes/x/hooks/welcome.sh' "
      "\"$root/usr/lib/revive/first-boot.d/10-welcome\"";
  // (issue 17: a snakeoil pair is random in every build, and one key shared by every laptop)
  const std::string remove_snakeoil =
      "rm -f \"$root/etc/ssl/certs/ssl-cert-snakeoil.pem\" "
      "\"$root/etc/ssl/private/ssl-cert-snakeoil.key\"";
  for (const std::string& want : std::vector<std::string>{
           "echo 'nl_BE.UTF-8 UTF-8' >> \"$root/etc/locale.gen\"",
           "echo 'fr_BE.UTF-8 UTF-8' >> \"$root/etc/locale.gen\"", "locale-gen", "XKBLAYOUT=\"be\"",
           "/usr/share/zoneinfo/Europe/Brussels", "tar -C '/recipes/x/overlay' --owner=0 --group=0",
           install_hook, "revive-recipe-first-boot.service", ": > \"$root/etc/machine-id\"",
           "ssh_host_*", "/var/lib/apt/lists", "cp -a \"$root/usr/lib/grub/i386-pc\"",
           remove_snakeoil, "-lname ssl-cert-snakeoil.pem -delete",
           "ln -sfn /dev/null \"$root/etc/systemd/system/e2scrub_reap.service\""}) {
    EXPECT_NE(s.find(want), std::string::npos) << want << "\n" << s;
  }
}

// dumpe2fs 1.47.0's shape (from a debian-12-minimal root.ext4), with 8 inodes per group.
constexpr const char* kDumpe2fs =
    "dumpe2fs 1.47.0 (5-Feb-2023)\n"
    "Inode count:              24\n"
    "Free inodes:              12\n"
    "Group descriptor size:    64\n"
    "Inodes per group:         8\n"
    "First inode:              11\n"
    "Group 0: (Blocks 0-32767) csum 0x7599\n"
    "  Free blocks: \n"
    "  Free inodes: \n"
    "Group 1: (Blocks 32768-65535) csum 0x34de\n"
    "  Free blocks: 40000-65535\n"
    "  Free inodes: 13-14, 16\n"
    "Group 2: (Blocks 65536-98303) csum 0x663f [INODE_UNINIT]\n"
    "  Free inodes: 17-24\n";

TEST(BuildPlan, UsedInodesAreEachGroupMinusItsFreeOnes) {
  auto u = used_inodes(kDumpe2fs);
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(u->first_ino, 11u);
  EXPECT_EQ(u->ranges, (std::vector<InodeRange>{{1, 8}, {9, 12}, {15, 15}}));
  EXPECT_FALSE(used_inodes("dumpe2fs 1.47.0\nInodes per group: 8\nFirst inode: 11\n"));
  EXPECT_FALSE(
      used_inodes("Inodes per group: 8\nFirst inode: 11\nGroup 0: (Blocks 0-9)\n"
                  "  Free inodes: 5-x\n"));
}

// mke2fs 1.47.0 -d copied the unpack's time into every file's atime and ctime: the rebuilt
// root's inode tables differed (issue 17). The pass sets them for the copied inodes only.
TEST(BuildPlan, InodeTimesScriptPinsTheCopiedInodes) {
  auto u = used_inodes(kDumpe2fs);
  ASSERT_TRUE(u) << u.error().message;
  const std::string s = inode_times_script(*u, "1700000000");
  EXPECT_EQ(s,
            "sif <11> atime 1700000000\nsif <11> ctime 1700000000\n"
            "sif <12> atime 1700000000\nsif <12> ctime 1700000000\n"
            "sif <15> atime 1700000000\nsif <15> ctime 1700000000\n");
  BuildPaths p;
  p.work = "/w";
  EXPECT_EQ(debugfs_script_argv(p, "/w/files/t"),
            (std::vector<std::string>{"debugfs", "-w", "-f", "/w/files/t", "/w/root.ext4"}));
}

// debugfs -f exits 0 when a command fails: the build reads its output instead.
TEST(BuildPlan, DebugfsFailuresAreWhatIsNotAnEcho) {
  EXPECT_TRUE(debugfs_failures("\n$ debugfs -w -f /w/files/inode-times.debugfs /w/root.ext4\n"
                               "debugfs 1.47.0 (5-Feb-2023)\n"
                               "debugfs: sif <11> atime 1700000000\n"
                               "debugfs: sif <11> ctime 1700000000\n")
                  .empty());
  EXPECT_EQ(debugfs_failures("debugfs 1.47.0 (5-Feb-2023)\n"
                             "debugfs: sif <999999> atime 1700000000\n"
                             "<999999>: File not found by ext2_lookup \n"),
            (std::vector<std::string>{"<999999>: File not found by ext2_lookup "}));
}

TEST(BuildPlan, BiosBootCodePointsAtTheBiosBootPartition) {
  const DiskLayout l = plan_layout(sample());
  std::vector<std::uint8_t> boot(512, 0xAA), core(3 * 512 + 100, 0x11);
  auto c = bios_boot_code(boot, core, l);
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_EQ(c->mbr_code.size(), 440u);
  ASSERT_EQ(c->core.size(), 4u * 512);
  EXPECT_EQ(c->mbr_code[0x5c], 2048 & 0xff);
  EXPECT_EQ(c->mbr_code[0x5d], 2048 >> 8);
  EXPECT_EQ(c->core[500], (2049) & 0xff);
  EXPECT_EQ(c->core[501], 2049 >> 8);
  EXPECT_EQ(c->core[508], 3);  // sectors after the first
  EXPECT_EQ(c->core[4 * 512 - 1], 0);
  // Too big for the 1 MiB partition, or not GRUB's boot.img: refused.
  EXPECT_FALSE(bios_boot_code(boot, std::vector<std::uint8_t>(2 << 20, 1), l));
  EXPECT_FALSE(bios_boot_code(std::vector<std::uint8_t>(100), core, l));
}

TEST(BuildReport, InstalledPackagesFromDpkgStatus) {
  const auto p = installed_packages(
      "Package: zsh\nStatus: install ok installed\nVersion: 5.9-4\n\n"
      "Package: removed\nStatus: deinstall ok config-files\nVersion: 1\n\n"
      "Package: apt\nStatus: install ok installed\nPriority: required\nVersion: 2.6.1\n");
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0], (InstalledPackage{"apt", "2.6.1"}));
  EXPECT_EQ(p[1], (InstalledPackage{"zsh", "5.9-4"}));
}

TEST(BuildReport, ChunkReuseCountsContentNotOffsets) {
  auto digest = [](std::uint8_t b) {
    Digest d{};
    d[0] = b;
    return d;
  };
  Manifest before, now;
  before.image_id = "old";
  before.extents = {{0, 4, digest(1), 1}, {4, 4, digest(2), 1}, {8, 4, std::nullopt, 0}};
  now.extents = {
      {0, 4, digest(2), 1}, {4, 4, digest(3), 1}, {8, 4, digest(1), 1}, {12, 4, std::nullopt, 0}};
  const ChunkReuse r = chunk_reuse(&before, now);
  EXPECT_EQ(r.previous_image_id, "old");
  EXPECT_EQ(r.data_chunks, 3u);
  EXPECT_EQ(r.same_chunks, 2u);
  EXPECT_EQ(r.data_bytes, 12u);
  EXPECT_EQ(r.new_bytes, 4u);
  EXPECT_DOUBLE_EQ(r.bytes_fraction(), 2.0 / 3);
  EXPECT_EQ(chunk_reuse(nullptr, now).same_chunks, 0u);
}

// The RunTool tests sit here, with the builder that runs the tools, rather than in a file of
// their own: a new test source changes tests/CMakeLists.txt, which puts every test through CI's
// clang-tidy.

// True when `pid` no longer runs: gone, or a zombie nobody has reaped yet.
bool not_running(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string pid_s, comm, state;
  return !(stat >> pid_s >> comm >> state) || state == "Z";
}

// Cancels `run` once the tool has written its child's pid to `pid_file`; the child's pid.
pid_t cancel_when_started(const std::filesystem::path& pid_file, std::atomic<bool>& cancel) {
  pid_t child = 0;
  for (int i = 0; i < 500 && child == 0; ++i) {
    std::ifstream in(pid_file);
    if (!(in >> child)) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  cancel = true;
  return child;
}

struct Cancelled {
  Result<void> result;
  std::chrono::steady_clock::duration took;
  pid_t child = 0;  // the process the tool started
};

// Runs `script` (which writes its child's pid to $1) and cancels it once it is under way.
Cancelled run_and_cancel(const std::string& script, std::chrono::seconds grace) {
  test::TempDir dir;
  const auto pid_file = dir.path() / "child.pid";
  std::atomic<bool> cancel{false};
  ToolRun run{{"sh", "-c", script, "sh", pid_file.string()}, {}, dir.path() / "build.log", &cancel};
  run.grace = grace;
  pid_t child = 0;
  std::jthread canceller([&] { child = cancel_when_started(pid_file, cancel); });
  const auto t0 = std::chrono::steady_clock::now();
  auto r = run_tool(run);
  const auto took = std::chrono::steady_clock::now() - t0;
  canceller.join();
  return {std::move(r), took, child};
}

// A build is cancelled mid-step: the running tool and what it started stop at once (mmdebstrap
// runs for minutes), not at the next step.
TEST(RunTool, CancellingStopsTheToolAndWhatItStarted) {
  const Cancelled c = run_and_cancel("sleep 30 & echo $! > \"$1\"; wait", std::chrono::seconds(10));
  ASSERT_FALSE(c.result);
  EXPECT_EQ(c.result.error().code, Errc::cancelled) << c.result.error().message;
  EXPECT_LT(c.took, std::chrono::seconds(5)) << "stopped mid-step, not after the tool's 30 s";
  ASSERT_GT(c.child, 0) << "the tool started its own child";
  EXPECT_TRUE(not_running(c.child)) << "the tool's child runs on";
}

// A tool that ignores SIGTERM (and what it started) is killed once the grace period is over.
TEST(RunTool, WhatIgnoresTheStopIsKilledAfterTheGracePeriod) {
  const Cancelled c =
      run_and_cancel("trap '' TERM; sleep 30 & echo $! > \"$1\"; wait", std::chrono::seconds(1));
  ASSERT_FALSE(c.result);
  EXPECT_EQ(c.result.error().code, Errc::cancelled) << c.result.error().message;
  EXPECT_GE(c.took, std::chrono::seconds(1)) << "SIGTERM was ignored: only SIGKILL stops it";
  EXPECT_LT(c.took, std::chrono::seconds(6));
  ASSERT_GT(c.child, 0);
  EXPECT_TRUE(not_running(c.child)) << "the tool's child runs on";
}

TEST(RunTool, AToolThatFailsIsNamedWithItsStatusAndLog) {
  test::TempDir dir;
  const auto r = run_tool({{"sh", "-c", "echo the reason; exit 3"}, {}, dir.path() / "build.log"});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("sh exited with status 3"), std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("the reason"), std::string::npos) << r.error().message;
}

// An import's tool that ignores SIGTERM (qemu-img or partclone stuck on a bad disk) is killed
// once the grace period is over: a failed or cancelled import ends instead of waiting for it.
TEST(ChildPipeline, AChildThatIgnoresTheStopIsKilledAfterTheGracePeriod) {
  const auto grace = std::chrono::milliseconds(300);
  auto p = ChildPipeline::start(
      {{"sh", "-c", "trap '' TERM; echo started; while :; do sleep 0.1; done"}}, "/dev/null",
      grace);
  ASSERT_TRUE(p) << p.error().message;
  std::array<std::byte, 16> first{};
  const auto n = (*p)->read(first);  // the trap is set once it has spoken
  ASSERT_TRUE(n && *n > 0);
  const auto t0 = std::chrono::steady_clock::now();
  p->reset();
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(took, grace) << "SIGTERM was ignored: only SIGKILL stops it";
  EXPECT_LT(took, std::chrono::seconds(3));
}

}  // namespace
}  // namespace revive::ctl
