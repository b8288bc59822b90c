#include "revive/agent/wipe_drive.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <random>
#include <thread>

#include "revive/agent/deploy.hpp"
#include "revive/agent/disk_safety.hpp"
#include "revive/agent/inventory.hpp"
#include "revive/agent/wipe.hpp"
#include "revive/encoding.hpp"

namespace revive::agent {

using Json = nlohmann::json;

namespace {

std::string text(const Json& j, const char* k) {
  return j.is_object() && j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : std::string();
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\0')) s.pop_back();
  while (!s.empty() && s.front() == ' ') s.erase(0, 1);
  return s;
}

Json verification_json(const VerifyReport& v) {
  return {{"method", v.method}, {"seed", std::to_string(v.seed)}, {"samples", v.samples}, {"bytes_checked", v.bytes_checked},
          {"coverage_permille", static_cast<std::uint64_t>(v.coverage * 1000)}, {"mismatches", v.mismatch_count},
          {"read_errors", v.read_errors.size()}};
}

VerifyReport not_verified() {
  VerifyReport v;
  v.method = "none";
  return v;
}

bool is_nvme_method(WipeMethod m) {
  return m == WipeMethod::nvme_sanitize_crypto || m == WipeMethod::nvme_sanitize_block || m == WipeMethod::nvme_format_crypto ||
         m == WipeMethod::nvme_format_user_data;
}

}  // namespace

Json wipe_drive(const DriveWipeRequest& req, const DriveWipeDeps& deps) {
  const std::string name = req.device.filename().string();
  const std::string started = now_rfc3339();
  Json drive = {{"name", req.device.string()},
                {"model", text(req.inventory_disk, "model")},
                {"serial", text(req.inventory_disk, "serial")},
                {"size_bytes", 0},
                {"media", req.inventory_disk.value("rotational", Json(false)) == Json(true) ? "hdd" : "ssd"},
                {"transport", req.simulate ? "virtual" : text(req.inventory_disk, "transport")},
                {"simulated", req.simulate}};
  Json ev = {{"drive", drive},
             {"method", "none"},
             {"nist_level", "Clear"},
             {"why", ""},
             {"plan", Json::array()},
             {"attempts", Json::array()},
             {"tool", "revive-agent " REVIVE_VERSION},
             {"started_at", started},
             {"finished_at", started},
             {"pattern", "none"},
             {"hpa_dco", req.simulate ? "not applicable (simulated disk)" : "not checked (NVMe has no HPA/DCO)"},
             {"verification", verification_json(not_verified())},
             {"write_errors", 0},
             {"smart_before", req.inventory_disk.value("smart", Json())},
             {"smart_after", Json()},
             {"result", "failed"},
             {"reason", ""}};
  auto refuse = [&](const std::string& why) {
    ev["reason"] = why + "; nothing was written";
    ev["finished_at"] = now_rfc3339();
    return ev;
  };

  // ---- which drive is this, and may we touch it?
  const bool nvme = !req.simulate && name.rfind("nvme", 0) == 0;
  DriveFacts facts;
  facts.transport = req.simulate ? "virtual" : nvme ? "nvme" : text(req.inventory_disk, "transport") == "USB" ? "usb" : "sata";
  facts.rotational = ev["drive"]["media"] == "hdd";
  std::unique_ptr<NvmeAdmin> admin;
  int admin_fd = -1;
  struct FdCloser {
    int& fd;
    ~FdCloser() {
      if (fd >= 0) ::close(fd);
    }
  } closer{admin_fd};
  std::uint32_t nsid = 0;
  std::optional<sanitize::NvmeNamespace> ns;
  if (nvme) {
    admin_fd = ::open(req.device.c_str(), O_RDONLY | O_CLOEXEC);
    if (admin_fd < 0) return refuse("cannot open " + req.device.string() + " for NVMe admin commands: " + errno_error(errno, "open").message);
    admin = deps.nvme_admin ? deps.nvme_admin(admin_fd, name) : linux_nvme_admin(admin_fd, name);
    auto c = nvme_identify_controller(*admin);
    if (!c) return refuse("NVMe Identify Controller failed: " + c.error().message);
    facts.nvme = *c;
    ev["drive"]["serial"] = c->serial;
    ev["drive"]["model"] = c->model;
    auto id = admin->namespace_id();
    if (!id) return refuse(id.error().message);
    nsid = *id;
    auto n = nvme_identify_namespace(*admin, nsid);
    if (!n) return refuse("NVMe Identify Namespace failed: " + n.error().message);
    ns = *n;
  }
  if (!req.simulate) {
    // The server's job names the drive by serial; the drive in front of us must be that one.
    const std::string have = trim(ev["drive"]["serial"].get<std::string>());
    if (req.expected_serial.empty()) return refuse("the server's job names no serial for " + name);
    if (have.empty() || have != trim(req.expected_serial)) {
      return refuse(name + " has serial \"" + have + "\", the server's job names \"" + req.expected_serial + "\"");
    }
  }
  if (deps.system != nullptr) {
    if (auto why = disk_in_use(*deps.system, req.device)) return refuse(*why);
  }
  auto dev = open_block_device(req.device, {.direct = true, .exclusive = true});
  if (!dev) return refuse(dev.error().message);
  ev["drive"]["size_bytes"] = (*dev)->size();

  // ---- the plan, strongest first; a method the drive rejects falls through to the next
  const auto plan = plan_wipe(facts);
  for (const auto& p : plan) ev["plan"].push_back(std::string(to_string(p.method)));
  OverwriteOptions o;
  o.random_pattern = req.random_pattern;
  o.seed = std::random_device{}();
  o.full_verify = req.full_verify;
  o.stop = req.stop;
  o.progress = req.progress;
  auto finish = [&](const PlannedMethod& m, const std::string& pattern, const VerifyReport& v, const std::string& result,
                    const std::string& reason) {
    ev["method"] = std::string(to_string(m.method));
    ev["nist_level"] = std::string(to_string(m.level));
    ev["why"] = m.why;
    ev["pattern"] = pattern;
    ev["verification"] = verification_json(v);
    ev["result"] = result;
    ev["reason"] = reason;
    ev["finished_at"] = now_rfc3339();
    if (deps.exec != nullptr && !req.simulate) {
      if (auto s = deps.exec->run({"smartctl", "-j", "-a", req.device.string()}, 120)) ev["smart_after"] = parse_smartctl(s->out, s->exit_code);
    }
    return ev;
  };
  for (const auto& m : plan) {
    if (req.stop && req.stop->load()) return refuse("stopped");
    if (m.method == WipeMethod::overwrite) {
      const auto t0 = std::chrono::steady_clock::now();
      auto r = overwrite_device(**dev, o);
      if (!r) {
        ev["attempts"].push_back({{"method", "overwrite"}, {"error", r.error().message}});
        ev["reason"] = "overwrite: " + r.error().message;
        ev["finished_at"] = now_rfc3339();
        return ev;
      }
      ev["write_errors"] = r->write_errors.size();
      ev["write_seconds"] = r->write_seconds;
      ev["verify_seconds"] = r->verify_seconds;
      ev["write_mb_per_s"] = r->write_seconds > 0 ? static_cast<double>(r->bytes_written) / r->write_seconds / 1e6 : 0;
      ev["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      return finish(m, r->pattern, r->verify, r->result, r->reason);
    }
    if (!is_nvme_method(m.method) || !admin) {
      // ATA erase commands (SG_IO) are not wired to the hardware yet: fall through to overwrite.
      ev["attempts"].push_back({{"method", std::string(to_string(m.method))}, {"error", "not available in this agent yet"}});
      continue;
    }
    auto canaries = place_canaries(**dev, o.seed ^ 0x5eedc0de);
    if (!canaries) return refuse("writing the verification canaries failed: " + canaries.error().message);
    const auto t0 = std::chrono::steady_clock::now();
    Result<void> done{};
    bool uniform = true;
    switch (m.method) {
      case WipeMethod::nvme_sanitize_crypto:
      case WipeMethod::nvme_sanitize_block: {
        const auto action = m.method == WipeMethod::nvme_sanitize_crypto ? sanitize::NvmeSanitizeAction::crypto_erase
                                                                         : sanitize::NvmeSanitizeAction::block_erase;
        uniform = m.method == WipeMethod::nvme_sanitize_block;
        auto s = nvme_sanitize(*admin, action, std::chrono::hours(4),
                               [&](double f) {
                                 if (req.progress) req.progress("sanitizing", static_cast<std::uint64_t>(f * 1000), 1000);
                               },
                               [&](std::chrono::milliseconds d) {
                                 if (deps.sleep) {
                                   deps.sleep(d);
                                 } else {
                                   std::this_thread::sleep_for(d);
                                 }
                               });
        if (!s) done = s.error();
        break;
      }
      case WipeMethod::nvme_format_crypto:
      case WipeMethod::nvme_format_user_data:
        uniform = m.method == WipeMethod::nvme_format_user_data;
        if (req.progress) req.progress("formatting (firmware erase)", 0, 1);
        done = nvme_format(*admin, facts.nvme->format_all_namespaces ? 0xffffffffu : nsid, *ns,
                           m.method == WipeMethod::nvme_format_crypto ? 2 : 1, std::chrono::hours(2));
        break;
      default: break;
    }
    if (!done) {
      ev["attempts"].push_back({{"method", std::string(to_string(m.method))}, {"error", done.error().message}});
      continue;  // canaries are still there: the next method erases them too
    }
    const double erase_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    auto v = verify_firmware_erase(**dev, *canaries, uniform, o);
    ev["erase_seconds"] = erase_seconds;
    ev["verify_seconds"] = v.seconds;
    ev["canaries"] = {{"placed", v.canaries}, {"surviving", v.canaries_surviving}, {"seed", std::to_string(canaries->seed)}};
    ev["attempts"].push_back({{"method", std::string(to_string(m.method))}, {"result", v.result}});
    return finish(m, uniform ? "firmware (reads as a uniform pattern)" : "firmware (cryptographic erase)", v.verify, v.result, v.reason);
  }
  ev["reason"] = "no wipe method could be carried out on " + name;
  ev["finished_at"] = now_rfc3339();
  return ev;
}

}  // namespace revive::agent
