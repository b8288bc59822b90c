#include "recipe.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "temp_dir.hpp"

namespace revive::ctl {
namespace {

namespace fs = std::filesystem;

constexpr const char* kGood = R"(
name = "debian-12-test"
description = "a test"
hostname = "laptop"
packages = ["firefox-esr", "libreoffice-l10n-nl", "hunspell-nl=1:2.20.19-2"]
overlay = "files"

[base]
suite = "bookworm"
mirror = "http://deb.debian.org/debian"
security_mirror = "http://deb.debian.org/debian-security"
components = ["main", "non-free-firmware"]
variant = "apt"

[disk]
min_size = "4G"
esp_size = "256M"

[locale]
lang = "nl_BE.UTF-8"
extra = ["fr_BE.UTF-8", "en_US.UTF-8"]
keyboard_layout = "be"
timezone = "Europe/Brussels"

[[first_boot]]
name = "10-welcome"
script = "hooks/welcome.sh"

[boot]
bios = true
uefi = true
kernel_cmdline = "quiet splash"
)";

class RecipeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_ / "files/etc");
    fs::create_directories(dir_ / "hooks");
    std::ofstream(dir_ / "hooks/welcome.sh") << "#!/bin/sh\n";
    std::ofstream(dir_ / "root.tar") << "";
  }
  Result<Recipe> parse(const std::string& text) const {
    return parse_recipe(text, dir_ / "recipe.toml");
  }
  test::TempDir dir_;
};

TEST_F(RecipeTest, ReadsEveryField) {
  auto r = parse(kGood);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->name, "debian-12-test");
  EXPECT_EQ(r->hostname, "laptop");
  EXPECT_EQ(r->base.suite, "bookworm");
  EXPECT_EQ(r->base.components, (std::vector<std::string>{"main", "non-free-firmware"}));
  EXPECT_EQ(r->base.security_mirror, "http://deb.debian.org/debian-security");
  EXPECT_EQ(r->disk.min_size, 4ull << 30);
  EXPECT_EQ(r->disk.esp_size, 256ull << 20);
  ASSERT_EQ(r->packages.size(), 3u);
  EXPECT_EQ(r->packages[2], "hunspell-nl=1:2.20.19-2");
  EXPECT_EQ(r->locale.lang, "nl_BE.UTF-8");
  EXPECT_EQ(r->locale.extra.size(), 2u);
  EXPECT_EQ(r->locale.keyboard_layout, "be");
  EXPECT_EQ(r->locale.timezone, "Europe/Brussels");
  EXPECT_EQ(r->overlay, dir_ / "files");
  ASSERT_EQ(r->first_boot.size(), 1u);
  EXPECT_EQ(r->first_boot[0].script, dir_ / "hooks/welcome.sh");
  EXPECT_EQ(r->boot.kernel_cmdline, "quiet splash");
}

TEST_F(RecipeTest, ArchiveBase) {
  auto r = parse(R"(
name = "from-tar"
[base]
archive = "root.tar"
[disk]
min_size = "1G"
)");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->base.from_archive());
  EXPECT_EQ(r->base.archive, dir_ / "root.tar");
}

// Each bad input is refused with a message naming the field (and the file).
TEST_F(RecipeTest, RefusesBadInputNamingTheField) {
  struct Case {
    std::string from, to, field;
  };
  const std::vector<Case> cases = {
      {"name = \"debian-12-test\"", "name = \"Debian 12!\"", "name:"},
      {"name = \"debian-12-test\"\n", "\n", "name: missing"},
      {"hostname = \"laptop\"", "hostname = \"-bad-\"", "hostname:"},
      {"suite = \"bookworm\"", "suite = 12", "base.suite: must be a string"},
      {"suite = \"bookworm\"\n", "\n", "base: give either suite"},
      {"mirror = \"http://deb.debian.org/debian\"\n", "\n", "base.mirror: missing"},
      {"mirror = \"http://deb.debian.org/debian\"", "mirror = \"ftp://x\"", "base.mirror:"},
      {"components = [\"main\", \"non-free-firmware\"]", "components = []", "base.components:"},
      {"variant = \"apt\"", "variant = \"everything\"", "base.variant:"},
      {"variant = \"apt\"", "variant = \"apt\"\narchive = \"root.tar\"", "base: give either"},
      {"variant = \"apt\"", "varient = \"apt\"", "base.varient: unknown field"},
      {"min_size = \"4G\"", "min_size = 4", "disk.min_size: must be a size"},
      {"min_size = \"4G\"", "min_size = \"4Q\"", "disk.min_size: must be a size"},
      {"min_size = \"4G\"", "min_size = \"300M\"", "disk.min_size: too small"},
      {"min_size = \"4G\"\n", "\n", "disk.min_size: missing"},
      {"min_size = \"4G\"", "min_size = \"4100K\"", "disk.min_size: must be a whole number"},
      {"esp_size = \"256M\"", "esp_size = \"8M\"", "disk.esp_size:"},
      {"[disk]", "[disks]", "disks: unknown field"},
      {"packages = [\"firefox-esr\",", "packages = [\"Firefox ESR\",", "packages[0]:"},
      {"packages = [\"firefox-esr\",", "packages = [42,", "packages[0]: must be a string"},
      {"packages = [\"firefox-esr\", \"libreoffice-l10n-nl\", \"hunspell-nl=1:2.20.19-2\"]",
       "packages = \"firefox-esr\"", "packages: must be a list"},
      {"lang = \"nl_BE.UTF-8\"", "lang = \"nl_BE\"", "locale.lang:"},
      {"extra = [\"fr_BE.UTF-8\",", "extra = [\"fr_BE.ISO-8859-1\",", "locale.extra[0]:"},
      {"keyboard_layout = \"be\"", "keyboard_layout = \"be;rm\"", "locale.keyboard_layout:"},
      {"timezone = \"Europe/Brussels\"", "timezone = \"../etc/passwd\"", "locale.timezone:"},
      {"name = \"10-welcome\"", "name = \"welcome\"", "first_boot[0].name:"},
      {"script = \"hooks/welcome.sh\"", "script = \"hooks/missing.sh\"", "first_boot[0].script:"},
      {"script = \"hooks/welcome.sh\"", "script = \"../welcome.sh\"", "first_boot[0].script:"},
      {"script = \"hooks/welcome.sh\"", "script = \"/bin/true\"", "first_boot[0].script:"},
      {"uefi = true", "uefi = \"yes\"", "boot.uefi: must be true or false"},
      {"bios = true\nuefi = true", "bios = false\nuefi = false", "boot: bios and uefi"},
      {"kernel_cmdline = \"quiet splash\"", "kernel_cmdline = \"quiet; reboot\"",
       "boot.kernel_cmdline:"},
      {"[boot]", "[boot]\nsecure = 1", "boot.secure: unknown field"},
      {"[base]", "[base]\nsuite = \"again\"", "recipe.toml:"},  // TOML syntax: duplicate key
  };
  for (const auto& c : cases) {
    std::string text = kGood;
    const auto at = text.find(c.from);
    ASSERT_NE(at, std::string::npos) << c.from;
    text.replace(at, c.from.size(), c.to);
    auto r = parse(text);
    ASSERT_FALSE(r) << "accepted: " << c.to;
    EXPECT_NE(r.error().message.find(c.field), std::string::npos)
        << "for " << c.to << " got: " << r.error().message;
    EXPECT_EQ(r.error().message.rfind("recipe.toml", 0), 0u) << r.error().message;
  }
}

TEST_F(RecipeTest, OverlayMustBeADirectoryInsideTheRecipe) {
  std::string text = kGood;
  text.erase(text.find("overlay = \"files\"\n"), 18);
  for (const std::string bad : {"nothing-here", "../files", "hooks/welcome.sh"}) {
    std::string t = text;
    t.insert(t.find("[base]"), "overlay = \"" + bad + "\"\n");
    auto r = parse(t);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message.find("overlay:"), std::string::npos) << r.error().message;
  }
}

TEST_F(RecipeTest, ArchiveBaseRefusesPackagesAndMirror) {
  auto r = parse(
      "name = \"x\"\npackages = [\"vim\"]\n[base]\narchive = \"root.tar\"\n"
      "[disk]\nmin_size = \"1G\"\n");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("packages: cannot be installed"), std::string::npos);
  r = parse(
      "name = \"x\"\n[base]\narchive = \"root.tar\"\nmirror = \"http://m/debian\"\n"
      "[disk]\nmin_size = \"1G\"\n");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("base.mirror: not used"), std::string::npos);
}

// The shipped recipes parse (the desktops are not built in CI).
TEST(ShippedRecipes, Parse) {
  const fs::path dir = fs::path(REVIVE_TEST_DATA) / "../../image-recipes";
  for (const char* name : {"debian-12-minimal", "debian-12-desktop-nl", "debian-12-desktop-be"}) {
    auto r = load_recipe(dir / name);
    ASSERT_TRUE(r) << name << ": " << r.error().message;
    EXPECT_EQ(r->name, name);
  }
}

TEST(ShippedRecipes, MissingFileIsNamed) {
  auto r = load_recipe("/nonexistent/recipe-dir");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("recipe /nonexistent/recipe-dir: cannot be read"),
            std::string::npos);
}

}  // namespace
}  // namespace revive::ctl
