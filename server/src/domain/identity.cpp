#include "domain/identity.hpp"

#include <algorithm>
#include <cctype>

#include "domain/step_params.hpp"

namespace revive::server {

namespace {

std::string lower_trimmed(std::string_view raw) {
  std::string s;
  for (char c : raw) s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.erase(s.begin());
  return s;
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

bool one_repeated_character(const std::string& s) {
  return s.size() >= 4 && std::all_of(s.begin(), s.end(), [&](char c) { return c == s[0]; });
}

// Kernel drivers of USB network adapters: a MAC seen on one of these is a dongle's or a dock's.
bool usb_nic_driver(const std::string& driver) {
  static const char* const kUsb[] = {
      "r8152",    "r8153_ecm",      "asix",       "ax88179_178a", "ax88172a",   "cdc_ether",
      "cdc_ncm",  "cdc_eem",        "cdc_mbim",   "cdc_subset",   "rndis_host", "smsc75xx",
      "smsc95xx", "lan78xx",        "aqc111",     "dm9601",       "mcs7830",    "sr9700",
      "sr9800",   "pegasus",        "rtl8150",    "catc",         "kaweth",     "ipheth",
      "qmi_wwan", "zaurus",         "plusb",      "net1080",      "int51x1",    "cx82310_eth",
      "gl620a",   "huawei_cdc_ncm", "sierra_net", "ch9200",       "kalmia"};
  const std::string base = driver.substr(driver.rfind('/') + 1);  // a driver link's target
  return std::any_of(std::begin(kUsb), std::end(kUsb), [&](const char* d) { return base == d; });
}

bool shares_one(const Json& a, const Json& b) {
  for (const auto& x : a) {
    if (std::find(b.begin(), b.end(), x) != b.end()) return true;
  }
  return false;
}

}  // namespace

bool placeholder_uuid(std::string_view raw) {
  const std::string u = upper(lower_trimmed(raw));
  if (u.size() != 36) return true;
  static const char* const kDefaults[] = {
      "03000200-0400-0500-0006-000700080009",  // AMI Aptio's default
      "00020003-0004-0005-0006-000700080009",  // the same, byte-swapped
      "12345678-1234-5678-90AB-CDDEEFAABBCC",  // another AMI default
      "4C4C4544-0000-0000-0000-000000000000",  // Dell's prefix on an unprogrammed board
      "00000000-0000-0000-0000-000000000001", "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFE"};
  if (std::any_of(std::begin(kDefaults), std::end(kDefaults),
                  [&](const char* d) { return u == d; }))
    return true;
  std::string hex;
  for (char c : u) {
    if (c == '-') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) return true;
    hex += c;
  }
  return hex.size() != 32 || one_repeated_character(hex);
}

bool placeholder_serial(std::string_view raw) {
  const std::string s = lower_trimmed(raw);
  if (s.empty()) return true;
  static const char* const kPlaceholders[] = {"to be filled by o.e.m.",
                                              "to be filled by oem",
                                              "default string",
                                              "system serial number",
                                              "chassis serial number",
                                              "base board serial number",
                                              "serial number",
                                              "not specified",
                                              "not applicable",
                                              "not available",
                                              "none",
                                              "n/a",
                                              "na",
                                              "oem",
                                              "o.e.m.",
                                              "0",
                                              "0123456789",
                                              "123456789",
                                              "1234567890",
                                              "12345678",
                                              "invalid",
                                              "unknown",
                                              "--",
                                              "xxxxxxxxxx",
                                              "type2 - board serial number",
                                              "serialnumber",
                                              "sn12345678"};
  if (std::any_of(std::begin(kPlaceholders), std::end(kPlaceholders),
                  [&](const char* p) { return s == p; }))
    return true;
  if (s.size() > 2 && s.compare(0, 2, "0x") == 0 &&
      std::all_of(s.begin() + 2, s.end(), [](char c) { return c == '0'; }))
    return true;
  return one_repeated_character(s);
}

IdentityKey identity_key(const protocol::Identity& id, const Json& inventory) {
  IdentityKey k;
  if (!placeholder_uuid(id.system_uuid)) k.system_uuid = upper(lower_trimmed(id.system_uuid));
  if (!placeholder_serial(id.serial)) k.serial = id.serial;
  k.model = id.model;
  k.vendor = id.vendor;
  std::vector<std::string> disks;
  std::optional<Json> inv;
  if (inventory.is_object()) inv = inventory;
  for (const auto& d : wipe_targets(inv)) {
    const std::string serial = d.value("serial", std::string());
    if (!placeholder_serial(serial)) disks.push_back(serial);
  }
  std::sort(disks.begin(), disks.end());
  disks.erase(std::unique(disks.begin(), disks.end()), disks.end());
  k.disk_serials = disks;
  return k;
}

bool identifiable(const IdentityKey& k) {
  return !k.system_uuid.empty() || !k.serial.empty() || !k.disk_serials.empty();
}

bool same_laptop(const IdentityKey& k, const DeviceRow& d) {
  if (d.model != k.model) return false;
  // What was stored before placeholders were recognised reads as unknown too.
  const std::string uuid = placeholder_uuid(d.system_uuid) ? "" : upper(d.system_uuid);
  const std::string serial = placeholder_serial(d.serial) ? "" : d.serial;
  const Json disks = d.disk_serials.is_array() ? d.disk_serials : Json::array();
  const bool uuid_known = !uuid.empty() && !k.system_uuid.empty();
  const bool serial_known = !serial.empty() && !k.serial.empty();
  const bool disks_known = !disks.empty() && !k.disk_serials.empty();
  if (uuid_known && uuid != k.system_uuid) return false;
  if (serial_known && serial != k.serial) return false;
  if (disks_known && !shares_one(disks, k.disk_serials)) return false;
  return (uuid_known && uuid == k.system_uuid) || (serial_known && serial == k.serial) ||
         (disks_known && shares_one(disks, k.disk_serials));
}

bool builtin_mac(const std::optional<Json>& inventory, const std::string& mac) {
  if (!inventory || !inventory->is_object()) return true;
  const Json nics = inventory->value("nics", Json::array());
  if (!nics.is_array()) return true;
  const std::string want = lower_trimmed(mac);
  for (const auto& n : nics) {
    if (!n.is_object() || !n.value("mac", Json()).is_string()) continue;
    if (lower_trimmed(n["mac"].get<std::string>()) != want) continue;
    const Json driver = n.value("driver", Json());
    return !(driver.is_string() && usb_nic_driver(driver.get<std::string>()));
  }
  return true;
}

}  // namespace revive::server
