#include "revive/agent/provision.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "revive/file_util.hpp"
#include "temp_dir.hpp"

namespace revive::agent {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

std::string slurp(const fs::path& p) {
  auto r = read_small_file(p, 1 << 20);
  return r ? *r : std::string("<missing>");
}

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

Profile profile(const Json& j) {
  auto p = parse_profile({{"profile", j}});
  EXPECT_TRUE(p) << p.error().message;
  return p ? *p : Profile{};
}

TEST(Profile, DefaultsAndClearErrors) {
  auto d = parse_profile(Json::object());
  ASSERT_TRUE(d);
  EXPECT_EQ(d->hostname, "revive-{serial}");
  EXPECT_EQ(d->timezone, "UTC");
  auto bad = [](const Json& j) {
    auto r = parse_profile({{"profile", j}});
    EXPECT_FALSE(r) << j.dump();
    return r ? std::string() : r.error().message;
  };
  EXPECT_NE(bad({{"hostname", 5}}).find("\"hostname\""), std::string::npos);
  EXPECT_NE(bad({{"locale", "nl_NL\"; rm -rf /"}}).find("quotes"), std::string::npos);
  EXPECT_NE(bad({{"timezone", "../../etc/passwd"}}).find("timezone"), std::string::npos);
  EXPECT_NE(bad({{"first_user", {{"name", "Root Admin"}}}}).find("first_user.name"),
            std::string::npos);
  EXPECT_NE(bad({{"files", {{{"path", "relative/x"}, {"content", ""}}}}}).find("not absolute"),
            std::string::npos);
  EXPECT_NE(bad({{"wifi", {{"ssid", "x"}}}}).find("Wi-Fi"), std::string::npos);
}

// Two bugs: `root` was taken as the first user (the first-boot script then skipped it, as it
// exists), and a full name that was not a string threw nlohmann's type_error out of the step.
TEST(Profile, FirstUserRootAndANonStringFullNameAreRefusedNamingTheField) {
  auto refusal = [](const Json& user) -> std::string {
    Result<Profile> r = make_error(Errc::internal, "not parsed");
    EXPECT_NO_THROW(r = parse_profile({{"profile", {{"first_user", user}}}})) << user.dump();
    EXPECT_FALSE(r) << user.dump();
    if (r) return {};
    EXPECT_EQ(r.error().code, Errc::invalid_input);
    return r.error().message;
  };
  EXPECT_NE(refusal({{"name", "root"}}).find("\"first_user.name\""), std::string::npos);
  EXPECT_NE(refusal({{"name", "root"}}).find("already has"), std::string::npos);
  for (const char* system : {"daemon", "bin", "sys", "nobody", "sudo", "administrator"})
    EXPECT_NE(refusal({{"name", system}}).find("first_user.name"), std::string::npos) << system;
  EXPECT_NE(refusal({{"name", "gebruiker"}, {"full_name", 42}}).find("\"first_user.full_name\""),
            std::string::npos);
  EXPECT_NE(refusal({{"name", "gebruiker"}, {"full_name", Json::array({"a"})}})
                .find("first_user.full_name"),
            std::string::npos);
  EXPECT_NE(refusal({{"name", 7}}).find("\"first_user\""), std::string::npos);
  EXPECT_NE(refusal({{"name", "gebruiker"}, {"full_name", "Piet: admin"}}).find("full_name"),
            std::string::npos);
  EXPECT_NE(refusal({{"name", std::string(33, 'a')}}).find("first_user.name"), std::string::npos);
  // A full name may be left out; the account is then made without a comment.
  auto ok = parse_profile({{"profile", {{"first_user", {{"name", "ontvanger"}}}}}});
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->first_user.name, "ontvanger");
  EXPECT_EQ(ok->first_user.full_name, "");
}

TEST(Profile, SetuidAndSetgidFilesAreRefused) {
  // A job that could place a setuid-root program would own every recipient's machine.
  for (unsigned mode : {04755u, 02755u, 06777u, 04000u}) {
    auto r = parse_profile(
        {{"profile",
          {{"files",
            {{{"path", "/usr/local/bin/x"}, {"content", "#!/bin/sh\n"}, {"mode", mode}}}}}}});
    ASSERT_FALSE(r) << std::oct << mode;
    EXPECT_NE(r.error().message.find("setuid/setgid"), std::string::npos) << r.error().message;
  }
  EXPECT_FALSE(
      parse_profile({{"profile", {{"files", {{{"path", "/x"}, {"content", ""}, {"mode", -1}}}}}}}));
  EXPECT_FALSE(parse_profile(
      {{"profile", {{"files", {{{"path", "/x"}, {"content", ""}, {"mode", "4755"}}}}}}}));
  // The sticky bit and ordinary modes stay allowed.
  auto ok = parse_profile(
      {{"profile", {{"files", {{{"path", "/x"}, {"content", ""}, {"mode", 01755u}}}}}}});
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->files.at(0).mode, 01755u);
}

TEST(Profile, HostnamesAreExpandedAndMadeValid) {
  DeviceFacts f{"5CG8413RLZ", "", "HP", 42};
  EXPECT_EQ(*expand_hostname("revive-{serial}", f), "revive-5cg8413rlz");
  EXPECT_EQ(*expand_hostname("{asset_tag}", f), "5cg8413rlz");  // no asset tag: the serial
  f.asset_tag = "Cyberbank #0042";
  EXPECT_EQ(*expand_hostname("{asset_tag}", f), "cyberbank-0042");
  EXPECT_EQ(*expand_hostname("ad-{device_id}-{vendor}", f), "ad-42-hp");
  EXPECT_EQ(expand_hostname(std::string(80, 'a'), f)->size(), 63u);
  EXPECT_FALSE(expand_hostname("{nope}", f));
  EXPECT_FALSE(expand_hostname("{serial", f));
  EXPECT_FALSE(expand_hostname("---", f));
}

TEST(Profile, AppliedToALinuxTree) {
  test::TempDir dir;
  const fs::path root = dir / "root";
  write(root / "etc/hostname", "template\n");
  write(root / "etc/hosts", "127.0.0.1 localhost\n127.0.1.1 template\n::1 ip6-localhost\n");
  write(root / "etc/machine-id", "0123456789abcdef0123456789abcdef\n");
  write(root / "var/lib/dbus/machine-id", "0123456789abcdef0123456789abcdef\n");
  write(root / "etc/ssh/ssh_host_ed25519_key", "secret");
  write(root / "etc/ssh/ssh_host_ed25519_key.pub", "public");
  write(root / "etc/ssh/sshd_config", "PermitRootLogin no\n");
  write(root / "usr/share/zoneinfo/Europe/Amsterdam", "TZif2");
  const Profile p = profile(
      {{"locale", "nl_NL.UTF-8"},
       {"keyboard", "us:intl"},
       {"timezone", "Europe/Amsterdam"},
       {"first_user", {{"name", "gebruiker"}, {"full_name", "Nieuwe gebruiker"}}},
       {"welcome_text", "Hulp nodig? Bel de Digihulplijn: 0800-1508"},
       {"files", {{{"path", "/etc/revive/batch"}, {"content", "AD-2026-11\n"}, {"mode", 0600}}}}});
  auto r = apply_linux_profile(root, p, "revive-5cg8413rlz");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(slurp(root / "etc/hostname"), "revive-5cg8413rlz\n");
  EXPECT_EQ(slurp(root / "etc/hosts"),
            "127.0.0.1 localhost\n::1 ip6-localhost\n127.0.1.1\trevive-5cg8413rlz\n");
  EXPECT_EQ(slurp(root / "etc/default/locale"), "LANG=nl_NL.UTF-8\n");
  EXPECT_EQ(slurp(root / "etc/locale.conf"), "LANG=nl_NL.UTF-8\n");
  EXPECT_NE(slurp(root / "etc/default/keyboard").find("XKBLAYOUT=\"us\"\nXKBVARIANT=\"intl\""),
            std::string::npos);
  EXPECT_EQ(fs::read_symlink(root / "etc/localtime"), "/usr/share/zoneinfo/Europe/Amsterdam");
  const std::string id = slurp(root / "etc/machine-id");
  EXPECT_EQ(id.size(), 33u);
  EXPECT_NE(id, "0123456789abcdef0123456789abcdef\n");
  EXPECT_EQ(id, (*r)["machine_id"].get<std::string>() + "\n");
  EXPECT_EQ(fs::read_symlink(root / "var/lib/dbus/machine-id"), "/etc/machine-id");
  EXPECT_FALSE(fs::exists(root / "etc/ssh/ssh_host_ed25519_key"));
  EXPECT_FALSE(fs::exists(root / "etc/ssh/ssh_host_ed25519_key.pub"));
  EXPECT_TRUE(fs::exists(root / "etc/ssh/sshd_config"));
  EXPECT_NE(slurp(root / "usr/local/sbin/revive-firstboot")
                .find("useradd --create-home --comment 'Nieuwe gebruiker' gebruiker"),
            std::string::npos);
  EXPECT_EQ(fs::read_symlink(root /
                             "etc/systemd/system/multi-user.target.wants/revive-firstboot.service"),
            "/etc/systemd/system/revive-firstboot.service");
  // The first boot says on the console what it made (pxe_boot reads it on the serial port).
  EXPECT_NE(slurp(root / "etc/systemd/system/revive-firstboot.service")
                .find("\nStandardOutput=journal+console\n"),
            std::string::npos);
  const std::string firstboot = slurp(root / "usr/local/sbin/revive-firstboot");
  EXPECT_NE(firstboot.find("echo \"revive-firstboot: host $(hostname), machine-id $(cat "
                           "/etc/machine-id)\"\n"),
            std::string::npos)
      << firstboot;
  const auto user_line =
      firstboot.find("echo \"revive-firstboot: first user $(getent passwd gebruiker)\"\n");
  ASSERT_NE(user_line, std::string::npos) << firstboot;
  EXPECT_LT(firstboot.find("useradd"), user_line) << firstboot;
  // A snakeoil pair of its own (the image builder removes the build's; issue 17).
  EXPECT_NE(firstboot.find("make-ssl-cert generate-default-snakeoil"), std::string::npos)
      << firstboot;
  // It removes itself without systemctl (a reload from inside the boot held it up).
  EXPECT_EQ(firstboot.find("systemctl"), std::string::npos) << firstboot;
  EXPECT_NE(firstboot.find("rm -f /etc/systemd/system/multi-user.target.wants/"
                           "revive-firstboot.service /etc/systemd/system/revive-firstboot.service"),
            std::string::npos)
      << firstboot;
  // Once the default target is reached a second unit says so on the console, and removes itself.
  EXPECT_EQ(fs::read_symlink(
                root / "etc/systemd/system/multi-user.target.wants/revive-firstboot-done.service"),
            "/etc/systemd/system/revive-firstboot-done.service");
  const std::string done = slurp(root / "etc/systemd/system/revive-firstboot-done.service");
  constexpr const char* kRemovesItself =
      "ExecStartPost=/bin/rm -f /etc/systemd/system/multi-user.target.wants/"
      "revive-firstboot-done.service /etc/systemd/system/revive-firstboot-done.service\n";
  for (const char* line :
       {"\nDefaultDependencies=no\n", "\nAfter=multi-user.target graphical.target\n",
        "\nStandardOutput=journal+console\n", "first boot done, $$t $$(systemctl is-active $$t)",
        kRemovesItself})
    EXPECT_NE(done.find(line), std::string::npos) << line << " not in\n" << done;
  EXPECT_NE(slurp(root / "etc/skel/Welcome.txt").find("0800-1508"), std::string::npos);
  EXPECT_EQ(slurp(root / "etc/revive/batch"), "AD-2026-11\n");
  struct stat st {};
  ASSERT_EQ(::stat((root / "etc/revive/batch").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  // Twice: still one 127.0.1.1 line, another fresh machine-id.
  auto again = apply_linux_profile(root, p, "revive-5cg8413rlz");
  ASSERT_TRUE(again);
  EXPECT_NE((*again)["machine_id"], (*r)["machine_id"]);
  EXPECT_EQ(slurp(root / "etc/hosts"),
            "127.0.0.1 localhost\n::1 ip6-localhost\n127.0.1.1\trevive-5cg8413rlz\n");
}

TEST(Profile, NeverWritesThroughASymlinkOrOutsideTheRoot) {
  test::TempDir dir;
  const fs::path root = dir / "root";
  const fs::path outside = dir / "outside";
  fs::create_directories(outside);
  fs::create_directories(root / "usr/share/zoneinfo");
  write(root / "usr/share/zoneinfo/UTC", "TZif2");
  fs::create_symlink(outside, root / "etc");  // a hostile image: /etc points elsewhere
  auto r = apply_linux_profile(root, Profile{}, "h");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("symlink"), std::string::npos) << r.error().message;
  EXPECT_TRUE(fs::is_empty(outside));
  fs::remove(root / "etc");
  Profile p = profile({{"files", {{{"path", "/../outside/x"}, {"content", "x"}}}}});
  r = apply_linux_profile(root, p, "h");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find(".."), std::string::npos);
  EXPECT_TRUE(fs::is_empty(outside));
  // Host keys behind a symlinked /etc/ssh cannot be reset: refused, not silently skipped.
  fs::create_directories(root / "etc");
  fs::create_symlink(outside, root / "etc/ssh");
  r = apply_linux_profile(root, Profile{}, "h");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("/etc/ssh"), std::string::npos) << r.error().message;
  fs::remove(root / "etc/ssh");
  // A time zone the image lacks is refused rather than left dangling.
  r = apply_linux_profile(root, profile({{"timezone", "Mars/Olympus"}}), "h");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("Mars/Olympus"), std::string::npos);
}

TEST(Profile, UnattendXmlFromTheSameProfile) {
  const Profile p = profile({{"locale", "nl_NL.UTF-8"},
                             {"keyboard", "nl"},
                             {"timezone", "Europe/Amsterdam"},
                             {"first_user", {{"name", "gebruiker"}, {"full_name", "Jan & Piet"}}}});
  auto x = render_unattend(p, "revive-5cg8413rlz-long-name");
  ASSERT_TRUE(x) << x.error().message;
  EXPECT_NE(x->find("<ComputerName>revive-5cg8413r</ComputerName>"),
            std::string::npos);  // 15 characters
  EXPECT_NE(x->find("<TimeZone>W. Europe Standard Time</TimeZone>"), std::string::npos);
  EXPECT_NE(x->find("<InputLocale>0413:00020409</InputLocale>"), std::string::npos);
  EXPECT_NE(x->find("<UserLocale>nl-NL</UserLocale>"), std::string::npos);
  EXPECT_NE(x->find("<DisplayName>Jan &amp; Piet</DisplayName>"), std::string::npos);
  EXPECT_NE(
      render_unattend(p, "revive-5cg8413-x")->find("<ComputerName>revive-5cg8413</ComputerName>"),
      std::string::npos);
  EXPECT_FALSE(render_unattend(profile({{"timezone", "Asia/Kathmandu"}}), "h"));
  EXPECT_TRUE(render_unattend(
      profile({{"timezone", "Asia/Kathmandu"}, {"windows_timezone", "Nepal Standard Time"}}), "h"));
}

}  // namespace
}  // namespace revive::agent
