#include "revive/agent/smbios.hpp"

#include <gtest/gtest.h>

#include "test_files.hpp"

#ifndef REVIVE_TEST_DATA
#error "REVIVE_TEST_DATA must point at tests/data"
#endif

namespace revive::agent {
namespace {

const std::string kT480 =
    std::string(REVIVE_TEST_DATA) + "/laptops/thinkpad-t480/sys/firmware/dmi/tables/";

TEST(Smbios, ThinkPadT480) {
  const auto ep = test::read_all(kT480 + "smbios_entry_point");
  const auto table = test::read_all(kT480 + "DMI");
  const auto info = parse_smbios(ep, table);
  EXPECT_TRUE(info.warnings.empty()) << info.warnings.front();
  EXPECT_EQ(info.version, "3.0.0");
  EXPECT_EQ(info.bios.vendor, "LENOVO");
  EXPECT_EQ(info.bios.version, "N24ET72W (1.47 )");
  EXPECT_EQ(info.bios.date, "01/03/2023");
  EXPECT_EQ(info.system.vendor, "LENOVO");
  EXPECT_EQ(info.system.product, "20L5CTO1WW");
  EXPECT_EQ(info.system.version, "ThinkPad T480");
  EXPECT_EQ(info.system.serial, "PF1R2D7X");
  EXPECT_EQ(info.system.uuid, "8B3C71E2-5A4F-11E8-9C2D-FA7AE01BBEBC");
  EXPECT_EQ(info.system.sku, "LENOVO_MT_20L5_BU_Think_FM_ThinkPad T480");
  EXPECT_EQ(info.board.version, "SDK0J40709 WIN");
  EXPECT_EQ(info.chassis.type, 10);
  EXPECT_EQ(info.chassis.type_name, "Notebook");
  EXPECT_EQ(info.chassis.asset_tag, "");  // "No Asset Information" is a placeholder
  ASSERT_EQ(info.memory.size(), 2u);
  EXPECT_EQ(info.memory[0].locator, "ChannelA-DIMM0");
  EXPECT_EQ(info.memory[0].size_mib, 16384u);
  EXPECT_EQ(info.memory[0].type, "DDR4");
  EXPECT_EQ(info.memory[0].form_factor, "SODIMM");
  EXPECT_EQ(info.memory[0].speed_mts, 2400u);
  EXPECT_EQ(info.memory[0].part_number, "M471A2K43CB1-CRC");
  EXPECT_EQ(info.memory[1].serial, "");  // "00000000"
  EXPECT_EQ(info.memory_mib(), 32768u);
  EXPECT_EQ(info.populated_slots(), 2u);
}

TEST(Smbios, TruncatedTablesGiveWhatWasReadAndAWarning) {
  const auto ep = test::read_all(kT480 + "smbios_entry_point");
  const auto table = test::read_all(kT480 + "DMI");
  for (std::size_t n = 0; n < table.size(); n += 7) {
    const auto info = parse_smbios(ep, std::span(table).first(n));
    if (n > 0 && n < table.size()) {
      EXPECT_FALSE(info.warnings.empty()) << n;
    }
    EXPECT_LE(info.memory.size(), 2u);
  }
  const auto half = parse_smbios(ep, std::span(table).first(table.size() / 2));
  EXPECT_EQ(half.system.product, "20L5CTO1WW");  // early structures survive
}

TEST(Smbios, GarbageAndEmptyInputs) {
  EXPECT_TRUE(parse_smbios({}, {}).version.empty());
  std::vector<std::byte> junk(64, std::byte{0xFF});
  const auto info = parse_smbios(junk, junk);
  EXPECT_FALSE(info.warnings.empty());
  EXPECT_TRUE(info.system.serial.empty());
  // A structure claiming a length shorter than its header.
  std::vector<std::byte> bad{std::byte{1}, std::byte{2}, std::byte{0}, std::byte{0}};
  EXPECT_FALSE(parse_smbios({}, bad).warnings.empty());
}

TEST(Smbios, Placeholders) {
  for (const char* p :
       {"To be filled by O.E.M.", "Default string", "0123456789", " ", "", "System Serial Number",
        "00000000", "FFFFFFFFFFFF", "Not Specified", "--", "System SKU#",
        "0x000000000000000000000000000000000000", "Type1ProductConfigId"}) {
    EXPECT_TRUE(is_placeholder(p)) << p;
  }
  for (const char* p : {"PF1R2D7X", "5CG8301XYZ", "C02XK1ABJG5J", "1234", "0x02FE"}) {
    EXPECT_FALSE(is_placeholder(p)) << p;
  }
}

}  // namespace
}  // namespace revive::agent
