#include "domain/wipe_accounting.hpp"

#include <algorithm>

#include "domain/json_fields.hpp"

namespace revive::server {

namespace {

Json drive_of(const Json& entry) {
  return entry.is_object() ? entry.value("drive", Json::object()) : Json::object();
}

bool simulated(const Json& entry) {
  return drive_of(entry).value("simulated", Json(false)) == Json(true);
}

// Whether an evidence entry is about this job drive.
bool about(const Json& entry, const Json& job_drive) {
  const Json drive = drive_of(entry);
  const std::string serial = text_field(job_drive, "serial");
  if (!serial.empty()) return text_field(drive, "serial") == serial;
  const std::string name = text_field(job_drive, "name");
  const std::string got = text_field(drive, "name");
  return !name.empty() && (got == name || got == "/dev/" + name);
}

std::string drive_label(const Json& d) {
  const std::string serial = text_field(d, "serial");
  return text_field(d, "name") + (serial.empty() ? "" : " (serial " + serial + ")");
}

// The job drives each entry is about; refused when one entry is about two or two about one.
std::string pair_by_identity(const Json& job, const Json& evidence, EvidenceMatch& m,
                             std::vector<bool>& used) {
  for (std::size_t i = 0; i < job.size(); ++i) {
    for (std::size_t e = 0; e < evidence.size(); ++e) {
      if (!about(evidence[e], job[i])) continue;
      if (m.by_job_drive[i]) return "two evidence entries for drive " + drive_label(job[i]);
      if (used[e]) return "one evidence entry claims two drives: " + drive_label(job[i]);
      m.by_job_drive[i] = e;
      used[e] = true;
    }
  }
  return "";
}

}  // namespace

EvidenceMatch match_evidence(const Json& job, const Json& evidence, bool accept_simulated) {
  EvidenceMatch m;
  const Json jobs = job.is_array() ? job : Json::array();
  m.by_job_drive.assign(jobs.size(), std::nullopt);
  if (!evidence.is_array()) {
    m.refused = "wipe evidence: \"drives\" must be an array";
    return m;
  }
  for (const auto& e : evidence) {
    if (simulated(e) && !accept_simulated) {
      m.refused = "evidence from a simulated drive (" + drive_label(drive_of(e)) +
                  "): this server is not in demo mode and certifies real erasures only";
      return m;
    }
  }
  std::vector<bool> used(evidence.size(), false);
  m.refused = pair_by_identity(jobs, evidence, m, used);
  if (!m.refused.empty()) return m;
  for (std::size_t e = 0; e < evidence.size(); ++e) {
    if (used[e]) continue;
    std::size_t i = 0;
    while (i < jobs.size() && m.by_job_drive[i]) ++i;
    if (accept_simulated && simulated(evidence[e]) && i < jobs.size()) {
      m.by_job_drive[i] = e;
      continue;
    }
    m.refused =
        "evidence for a drive the wipe job did not name: " + drive_label(drive_of(evidence[e]));
    return m;
  }
  return m;
}

namespace {

Json disk_entry(const Json& d) {
  return {{"kind", "disk"},
          {"name", text_field(d, "name")},
          {"model", text_field(d, "model")},
          {"serial", text_field(d, "serial")},
          {"size_bytes", d.value("size_bytes", Json())},
          {"transport", text_field(d, "transport")},
          {"removable", d.value("removable", Json(false)) == Json(true)},
          {"revive_stick", d.value("revive_stick", Json(false)) == Json(true)}};
}

// A drive the job named: accounted for only by a passed certificate.
bool add_certified(Json& entry, const std::optional<Json>& cert) {
  if (!cert) {
    entry["status"] = "not erased";
    entry["reason"] = "no wipe evidence for this drive";
    return false;
  }
  const bool passed = (*cert)["result"] == "passed";
  entry["status"] = passed ? "erased" : "not erased";
  entry["certificate_id"] = (*cert)["certificate_id"];
  entry["result"] = (*cert)["result"];
  entry["reason"] = passed ? Json("") : (*cert).value("reason", Json(""));
  return passed;
}

// A disk the job did not name: external media or an internal drive the job left out.
bool add_unnamed(Json& entry) {
  const bool external = entry["removable"] == true || entry["transport"] == "USB";
  const Json size = entry["size_bytes"];
  if (external && size.is_number_integer() && size.get<long long>() == 0) {
    entry["status"] = "empty";
    entry["reason"] = "no medium";
    return true;
  }
  // The Revive stick this laptop booted from (the agent matched its GPT GUID with the one on
  // the kernel command line): it holds the live agent, and the agent never writes to it.
  if (external && entry["revive_stick"] == true) {
    entry["status"] = "boot medium";
    entry["reason"] = "the Revive USB stick this laptop booted from: it holds no donor data";
    return true;
  }
  entry["status"] = "not erased";
  entry["reason"] = external ? "USB-attached or removable media are never erased by Revive: it "
                               "may hold the donor's data; remove it, then wipe again"
                             : "the wipe job did not name this internal drive";
  return false;
}

// The controller's name on the certificate: its PCI address, MMC host or USB interface.
std::string controller_address(const Json& c) {
  const std::string pci = text_field(c, "pci");
  return pci.empty() ? text_field(c, "address") : pci;
}

// A storage controller: accounted for when a driver shows what is behind it and every drive
// it shows is on the certificate's list of disks (`listed`).
bool add_controller(Json& entry, const Json& c, const std::vector<std::string>& listed) {
  const std::string driver = text_field(c, "driver");
  const Json disks = c.value("disks", Json::array());
  entry["disks"] = disks.is_array() ? disks : Json::array();
  if (driver.empty()) {
    entry["status"] = "not accounted for";
    entry["reason"] = "no driver is bound to it: the drives behind it cannot be seen";
    return false;
  }
  for (const auto& d : entry["disks"]) {
    const std::string name = d.is_string() ? d.get<std::string>() : "";
    if (std::find(listed.begin(), listed.end(), name) == listed.end()) {
      entry["status"] = "not accounted for";
      entry["reason"] = "drive " + name + " behind it is not in the inventory's disk list";
      return false;
    }
  }
  if (!entry["disks"].empty()) {
    entry["status"] = "drives listed";
    entry["reason"] = "";
    return true;
  }
  if (text_field(c, "class").rfind("0x0108", 0) == 0) {
    entry["status"] = "not accounted for";
    entry["reason"] = "an NVMe controller without a visible namespace";
    return false;
  }
  entry["status"] = "no drive attached";
  entry["reason"] =
      "driver " + driver + " is bound and shows no drive behind it" +
      (text_field(c, "bus") == "pci" || !text_field(c, "pci").empty() ? "" : " (no medium)");
  return true;
}

std::optional<std::size_t> job_index(const Json& job, const std::string& name) {
  for (std::size_t i = 0; i < job.size(); ++i) {
    if (text_field(job[i], "name") == name) return i;
  }
  return std::nullopt;
}

// Fails closed: without the controller list, a drive the agent did not see as a disk (behind
// a controller whose driver is missing, say) could be anywhere.
void add_controllers(const Json& inv, const std::vector<std::string>& listed, StorageAccount& out) {
  const Json controllers = inv.value("storage_controllers", Json());
  if (!controllers.is_array()) {
    out.note = "the agent did not report the storage controllers";
    out.unaccounted.emplace_back(
        "storage controllers: not reported, so drives behind them cannot be accounted for");
    return;
  }
  for (const auto& c : controllers) {
    if (!c.is_object()) continue;
    Json entry = {{"kind", "controller"},
                  {"pci", text_field(c, "pci")},
                  {"address", controller_address(c)},
                  {"bus", text_field(c, "bus").empty() ? Json("pci") : Json(text_field(c, "bus"))},
                  {"class", text_field(c, "class")},
                  {"driver", text_field(c, "driver")}};
    if (!add_controller(entry, c, listed))
      out.unaccounted.push_back("controller " + controller_address(c) + ": " +
                                entry["reason"].get<std::string>());
    out.entries.push_back(std::move(entry));
  }
}

}  // namespace

StorageAccount account_storage(const std::optional<Json>& inventory, const Json& job_drives,
                               const std::vector<std::optional<Json>>& certs) {
  StorageAccount out;
  const Json job = job_drives.is_array() ? job_drives : Json::array();
  std::vector<bool> listed(job.size(), false);
  std::vector<std::string> disk_names;
  const Json inv = inventory && inventory->is_object() ? *inventory : Json::object();
  const Json disks = inv.value("disks", Json::array());
  for (const auto& d : disks.is_array() ? disks : Json::array()) {
    if (!d.is_object() || text_field(d, "name").empty()) continue;
    Json entry = disk_entry(d);
    disk_names.push_back(text_field(d, "name"));
    const auto i = job_index(job, text_field(d, "name"));
    if (i) listed[*i] = true;
    const bool ok =
        i ? add_certified(entry, *i < certs.size() ? certs[*i] : std::nullopt) : add_unnamed(entry);
    if (!ok)
      out.unaccounted.push_back(text_field(d, "name") + ": " + entry["reason"].get<std::string>());
    out.entries.push_back(std::move(entry));
  }
  for (std::size_t i = 0; i < job.size(); ++i) {
    if (listed[i]) continue;  // a drive the job named that the inventory does not list
    Json entry = disk_entry(job[i]);
    if (!add_certified(entry, i < certs.size() ? certs[i] : std::nullopt))
      out.unaccounted.push_back(text_field(job[i], "name") + ": " +
                                entry["reason"].get<std::string>());
    out.entries.push_back(std::move(entry));
  }
  if (!inventory || !inventory->is_object()) {
    out.note = "the laptop sent no inventory: only the drives the job named are listed";
    out.unaccounted.emplace_back(
        "no inventory: the laptop's other storage cannot be accounted for");
    return out;
  }
  add_controllers(inv, disk_names, out);
  return out;
}

}  // namespace revive::server
