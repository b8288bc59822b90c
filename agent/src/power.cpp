#include "revive/agent/power.hpp"

#include <fmt/core.h>

#include <cmath>

namespace revive::agent {

namespace {

// A battery's figure in Wh from sysfs: energy_* (µWh), else charge_* (µAh) x voltage (µV).
std::optional<double> watt_hours(const MachineRoot& root, const std::string& base,
                                 const std::string& what) {
  const long long energy = root.number(base + "energy_" + what, -1);
  if (energy >= 0) return static_cast<double>(energy) / 1e6;
  const long long charge = root.number(base + "charge_" + what, -1);
  long long volts = root.number(base + "voltage_min_design", -1);
  if (volts <= 0) volts = root.number(base + "voltage_now", -1);
  if (charge < 0 || volts <= 0) return std::nullopt;
  return static_cast<double>(charge) / 1e6 * static_cast<double>(volts) / 1e6;
}

void add(std::optional<double>& sum, std::optional<double> v) {
  if (v) sum = sum.value_or(0) + *v;
}

}  // namespace

PowerState read_power(const MachineRoot& root) {
  PowerState p;
  std::optional<double> capacity_sum;  // the batteries' own "capacity" (%), for lack of energy
  int capacities = 0;
  for (const auto& name : root.list("sys/class/power_supply")) {
    const std::string base = "sys/class/power_supply/" + name + "/";
    const std::string type = root.line(base + "type");
    if (type == "Mains" || type.starts_with("USB")) {
      if (root.line(base + "online") == "1") p.on_charger = true;
      continue;
    }
    // A wireless mouse's or a pen's battery has scope "Device": not the laptop's.
    if (type != "Battery" || root.line(base + "scope") == "Device") continue;
    if (root.line(base + "present") == "0") continue;
    p.has_battery = true;
    add(p.energy_wh, watt_hours(root, base, "now"));
    add(p.full_wh, watt_hours(root, base, "full"));
    const long long pct = root.number(base + "capacity", -1);
    if (pct >= 0) {
      add(capacity_sum, static_cast<double>(pct));
      ++capacities;
    }
  }
  if (p.energy_wh && p.full_wh && *p.full_wh > 0) {
    p.charge_pct = std::clamp(100 * *p.energy_wh / *p.full_wh, 0.0, 100.0);
  } else if (capacities > 0) {
    p.charge_pct = *capacity_sum / capacities;
  }
  return p;
}

std::optional<std::string> low_battery_refusal(const PowerState& p, double min_pct) {
  if (!p.has_battery || p.on_charger || !p.charge_pct || *p.charge_pct >= min_pct) {
    return std::nullopt;
  }
  return fmt::format(
      "the laptop runs on its battery at {:.0f}% (below {:.0f}%): plug in the charger, then "
      "retry",
      std::floor(*p.charge_pct), min_pct);
}

}  // namespace revive::agent
