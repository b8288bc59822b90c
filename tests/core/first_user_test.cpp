#include "revive/first_user.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace revive {
namespace {

TEST(FirstUser, LoginNamesAsUseraddTakesThemAndNoSystemAccount) {
  const std::vector<std::string> good_names = {"gebruiker",    "a",       "ontvanger-2",
                                               "jan_de_vries", "x9",      std::string(32, 'z'),
                                               "rootje",       "systemd", "admin"};
  for (const auto& good : good_names) {
    auto r = check_first_user_name(good);
    EXPECT_TRUE(r) << good << ": " << r.error().message;
  }
  struct Bad {
    std::string name;
    const char* why;  ///< a part of the message
  };
  const Bad bad[] = {{"", "must not be empty"},
                     {std::string(33, 'a'), "at most 32"},
                     {"Gebruiker", "lower-case"},
                     {"9lives", "starting with a letter"},
                     {"-x", "starting with a letter"},
                     {"_apt", "starting with a letter"},
                     {"jan de vries", "lower-case"},
                     {"jan.devries", "lower-case"},
                     {"jan$", "lower-case"},
                     {"jos\xc3\xa9", "lower-case"},
                     {"adm", "already has"},  // the list's first and last
                     {"wdagutilityaccount", "already has"},
                     {"root", "already has"},
                     {"daemon", "already has"},
                     {"bin", "already has"},
                     {"sys", "already has"},
                     {"nobody", "already has"},
                     {"nogroup", "already has"},
                     {"www-data", "already has"},
                     {"sudo", "already has"},
                     {"audio", "already has"},
                     {"messagebus", "already has"},
                     {"lightdm", "already has"},
                     {"systemd-network", "already has"},
                     {"systemd-anything", "already has"},
                     {"administrator", "already has"},
                     {"guest", "already has"}};
  for (const auto& b : bad) {
    SCOPED_TRACE(b.name);
    auto r = check_first_user_name(b.name);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::invalid_input);
    EXPECT_NE(r.error().message.find("profile field \"first_user.name\""), std::string::npos)
        << r.error().message;
    EXPECT_NE(r.error().message.find(b.why), std::string::npos) << r.error().message;
  }
}

TEST(FirstUser, FullNamesAreOneLineOfTextWithoutSeparatorsOrQuotes) {
  std::string accented;  // 100 characters of two bytes each
  for (int i = 0; i < 100; ++i) accented += "\xc3\xa9";
  const std::vector<std::string> good_names = {
      "",      "Nieuwe gebruiker", "Jan & Piet", "Zo\xc3\xab Dupr\xc3\xa9", std::string(100, 'a'),
      accented};
  for (const auto& good : good_names) {
    auto r = check_first_user_full_name(good);
    EXPECT_TRUE(r) << good << ": " << r.error().message;
  }
  const std::string bad[] = {"Jan \"Piet\"",
                             "N'Diaye",
                             "a\\b",
                             "$(reboot)",
                             "`id`",
                             "Piet: admin",
                             "Piet,,,",
                             "a\nb",
                             "a\rb",
                             "tab\there",
                             std::string("nul\0x", 5),
                             std::string(101, 'a')};
  for (const auto& b : bad) {
    SCOPED_TRACE(b);
    auto r = check_first_user_full_name(b);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::invalid_input);
    EXPECT_NE(r.error().message.find("profile field \"first_user.full_name\""), std::string::npos)
        << r.error().message;
  }
}

TEST(FirstUser, TheNameIsCheckedFirst) {
  EXPECT_TRUE(check_first_user("gebruiker", "Nieuwe gebruiker"));
  EXPECT_TRUE(check_first_user("gebruiker", ""));
  EXPECT_NE(check_first_user("root", "a:b").error().message.find("first_user.name"),
            std::string::npos);
  EXPECT_NE(check_first_user("gebruiker", "a:b").error().message.find("first_user.full_name"),
            std::string::npos);
  EXPECT_TRUE(reserved_account_name("root"));
  EXPECT_FALSE(reserved_account_name("gebruiker"));
}

}  // namespace
}  // namespace revive
