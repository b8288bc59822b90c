#include "revive/agent/power.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "temp_dir.hpp"

namespace revive::agent {
namespace {

class PowerTest : public ::testing::Test {
 protected:
  test::TempDir dir_;
  MachineRoot root_{dir_.path()};

  void file(const std::string& supply, const std::string& name, const std::string& value) {
    const auto d = dir_ / "sys/class/power_supply" / supply;
    std::filesystem::create_directories(d);
    std::ofstream(d / name) << value << "\n";
  }
};

TEST_F(PowerTest, EnergyAndChargeBatteriesAddUpAndAMouseDoesNotCount) {
  file("AC", "type", "Mains");
  file("AC", "online", "0");
  file("BAT0", "type", "Battery");
  file("BAT0", "energy_now", "12000000");  // µWh
  file("BAT0", "energy_full", "24000000");
  file("BAT1", "type", "Battery");
  file("BAT1", "charge_now", "1000000");  // µAh x 12 V
  file("BAT1", "charge_full", "2000000");
  file("BAT1", "voltage_min_design", "12000000");
  file("hidpp_battery_0", "type", "Battery");
  file("hidpp_battery_0", "scope", "Device");
  file("hidpp_battery_0", "capacity", "5");
  const PowerState p = read_power(root_);
  EXPECT_TRUE(p.has_battery);
  EXPECT_FALSE(p.on_charger);
  EXPECT_DOUBLE_EQ(*p.energy_wh, 24.0);
  EXPECT_DOUBLE_EQ(*p.full_wh, 48.0);
  EXPECT_DOUBLE_EQ(*p.charge_pct, 50.0);
  EXPECT_EQ(*low_battery_refusal(p, 60),
            "the laptop runs on its battery at 50% (below 60%): plug in the charger, then retry");
  EXPECT_FALSE(low_battery_refusal(p, 25));
}

TEST_F(PowerTest, AChargerNoBatteryOrAnUnknownChargeNeverRefuses) {
  EXPECT_FALSE(read_power(root_).has_battery);
  EXPECT_FALSE(low_battery_refusal(read_power(root_), 25)) << "a desktop";
  file("BAT0", "type", "Battery");
  EXPECT_FALSE(read_power(root_).charge_pct);
  EXPECT_FALSE(low_battery_refusal(read_power(root_), 25)) << "firmware that does not say";
  file("BAT0", "capacity", "7");
  EXPECT_TRUE(low_battery_refusal(read_power(root_), 25)) << "only its percentage";
  file("ucsi-source-psy-USBC000:001", "type", "USB");
  file("ucsi-source-psy-USBC000:001", "online", "1");
  EXPECT_TRUE(read_power(root_).on_charger) << "a USB-C charger";
  EXPECT_FALSE(low_battery_refusal(read_power(root_), 25));
}

}  // namespace
}  // namespace revive::agent
