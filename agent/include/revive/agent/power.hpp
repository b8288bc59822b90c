#pragma once
// What the laptop runs on, from sysfs power_supply: a charger online, the batteries' charge.
// The battery check measures the drain under load from it; a wipe refuses to start on a
// nearly empty battery (a wipe of a large disk takes hours, and a laptop that dies mid-wipe
// holds neither the old data erased with proof nor a usable disk).

#include <optional>

#include "revive/agent/system.hpp"

namespace revive::agent {

struct PowerState {
  bool has_battery = false;
  bool on_charger = false;           ///< a Mains or USB(-C) supply is online
  std::optional<double> energy_wh;   ///< charge now, summed over the batteries
  std::optional<double> full_wh;     ///< charge when full (today's capacity, not design)
  std::optional<double> charge_pct;  ///< 0-100
};

/// Reads root/sys/class/power_supply. A battery reporting charge (µAh) instead of energy
/// (µWh) is converted with its design minimum voltage (or its voltage now).
PowerState read_power(const MachineRoot& root);

/// Why a long job must not start now: on battery with less than `min_pct` charge. Empty when it
/// may (on a charger, no battery, or the charge unknown: a desktop or firmware that does not say).
std::optional<std::string> low_battery_refusal(const PowerState& p, double min_pct);

}  // namespace revive::agent
