#include "revive/agent/wipe_drive.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <random>
#include <thread>

#include "revive/agent/block_device.hpp"
#include "revive/agent/disk_safety.hpp"
#include "revive/agent/inventory.hpp"
#include "revive/agent/wipe.hpp"
#include "revive/encoding.hpp"

namespace revive::agent {

using Json = nlohmann::json;

namespace {

std::string text(const Json& j, const char* k) {
  return j.is_object() && j.contains(k) && j[k].is_string() ? j[k].get<std::string>()
                                                            : std::string();
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\0')) s.pop_back();
  while (!s.empty() && s.front() == ' ') s.erase(0, 1);
  return s;
}

Json verification_json(const VerifyReport& v) {
  return {{"method", v.method},
          {"seed", std::to_string(v.seed)},
          {"samples", v.samples},
          {"bytes_checked", v.bytes_checked},
          {"coverage_permille", static_cast<std::uint64_t>(v.coverage * 1000)},
          {"mismatches", v.mismatch_count},
          {"read_errors", v.read_errors.size()}};
}

VerifyReport not_verified() {
  VerifyReport v;
  v.method = "none";
  return v;
}

bool is_nvme_method(WipeMethod m) {
  return m == WipeMethod::nvme_sanitize_crypto || m == WipeMethod::nvme_sanitize_block ||
         m == WipeMethod::nvme_format_crypto || m == WipeMethod::nvme_format_user_data;
}

bool is_ata_sanitize(WipeMethod m) {
  return m == WipeMethod::ata_sanitize_crypto || m == WipeMethod::ata_sanitize_block ||
         m == WipeMethod::ata_sanitize_overwrite;
}

bool is_mmc_method(WipeMethod m) {
  return m == WipeMethod::emmc_sanitize || m == WipeMethod::emmc_secure_erase;
}

bool is_ata_security(WipeMethod m) {
  return m == WipeMethod::ata_security_erase || m == WipeMethod::ata_security_erase_enhanced;
}

std::string hidden_area_default(const std::string& transport) {
  if (transport == "virtual") return "not applicable (simulated disk)";
  if (transport == "nvme") return "not applicable (NVMe has no HPA/DCO)";
  if (transport == "mmc") return "not applicable (eMMC has no HPA/DCO)";
  if (transport == "usb") return "not checked (ATA commands are never sent through a USB bridge)";
  return "not checked";
}

// Which hidden sectors a method reaches. ACS: SECURITY ERASE UNIT and SANITIZE both work up to
// the native max address (so through an HPA); SANITIZE covers all user data, also what a
// configuration overlay hides. An overwrite reaches only what the system can address.
std::optional<std::string> hidden_sectors_missed(const HiddenArea& h, WipeMethod m) {
  const bool hpa = is_ata_sanitize(m) || is_ata_security(m);
  const bool dco = is_ata_sanitize(m);
  std::string missed;
  if (h.hpa_hidden() > 0 && !hpa)
    missed = std::to_string(h.hpa_hidden()) + " sectors behind a Host Protected Area";
  if (h.dco_hidden() > 0 && !dco) {
    missed += (missed.empty() ? "" : " and ") + std::to_string(h.dco_hidden()) +
              " sectors behind a Device Configuration Overlay";
  }
  if (missed.empty()) return std::nullopt;
  return missed;
}

std::string temporary_password() {
  std::random_device rd;
  char b[24];
  std::snprintf(b, sizeof b, "revive-%08x", static_cast<unsigned>(rd()));
  return b;
}

}  // namespace

Json wipe_drive(const DriveWipeRequest& req, const DriveWipeDeps& deps) {
  const std::string name = req.device.filename().string();
  const std::string started = now_rfc3339();
  Json drive = {
      {"name", req.device.string()},
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
             {"hpa_dco", "not checked"},
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
  facts.transport = req.simulate                                     ? "virtual"
                    : nvme                                           ? "nvme"
                    : text(req.inventory_disk, "transport") == "USB" ? "usb"
                    : name.rfind("mmcblk", 0) == 0                   ? "mmc"
                                                                     : "sata";
  facts.rotational = ev["drive"]["media"] == "hdd";
  ev["hpa_dco"] = hidden_area_default(facts.transport);
  std::unique_ptr<NvmeAdmin> admin;
  std::unique_ptr<AtaPassThrough> ata;
  std::optional<HiddenArea> hidden;
  int admin_fd = -1;
  struct FdCloser {
    int& fd;
    ~FdCloser() {
      if (fd >= 0) ::close(fd);
    }
  } closer{admin_fd};
  // The descriptor the drive's own commands go through (NVMe admin, SG_IO, MMC); "" when open.
  auto open_for_commands = [&](int flags, const char* kind) -> std::string {
    admin_fd = ::open(req.device.c_str(), flags | O_CLOEXEC);
    if (admin_fd >= 0) return "";
    return "cannot open " + req.device.string() + " for " + kind + ": " +
           errno_error(errno, "open").message;
  };
  std::uint32_t nsid = 0;
  std::optional<sanitize::NvmeNamespace> ns;
  if (nvme) {
    if (auto why = open_for_commands(O_RDONLY, "NVMe admin commands"); !why.empty())
      return refuse(why);
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
  if (facts.transport == "sata") {
    // Read-only questions first (IDENTIFY, native max, DCO): the serial interlock below uses
    // the drive's own answer.
    if (auto why = open_for_commands(O_RDWR, "ATA commands"); !why.empty()) return refuse(why);
    ata = deps.ata ? deps.ata(admin_fd, name) : linux_ata_pass_through(admin_fd, name);
    auto id = ata_identify_device(*ata);
    if (!id) {
      // A SCSI/SAS disk or a controller that does not translate ATA: only the overwrite is left,
      // and the serial is the one the system reported.
      ev["attempts"].push_back({{"method", "ata-identify"}, {"error", id.error().message}});
      ev["hpa_dco"] =
          "not checked (ATA commands do not reach this drive: " + id.error().message + ")";
      facts.transport = "scsi";
      ata.reset();
    } else {
      facts.ata = *id;
      facts.rotational = id->rotational;
      ev["drive"]["serial"] = id->serial;
      ev["drive"]["model"] = id->model;
      ev["drive"]["media"] = id->rotational ? "hdd" : "ssd";
      ev["drive"]["identified_by"] = "ATA IDENTIFY DEVICE";
      hidden = ata_hidden_area(*ata, *id);
      ev["hpa_dco"] = hidden->summary();
      ev["hidden_area"] = {{"accessible_sectors", hidden->accessible},
                           {"native_sectors", hidden->native ? Json(*hidden->native) : Json()},
                           {"dco_max_sectors", hidden->dco_max ? Json(*hidden->dco_max) : Json()},
                           {"hpa_hidden_sectors", hidden->hpa_hidden()},
                           {"dco_hidden_sectors", hidden->dco_hidden()}};
    }
  }
  std::unique_ptr<MmcCommands> mmc;
  if (facts.transport == "mmc" && deps.system != nullptr &&
      deps.system->line("sys/block/" + name + "/device/type") != "MMC") {
    // An SD card in the laptop's reader: CMD8 means something else to it. Overwrite only.
    ev["attempts"].push_back({{"method", "emmc-ext-csd"},
                              {"error", "not an eMMC device (sysfs device/type is not MMC)"}});
  } else if (facts.transport == "mmc") {
    if (auto why = open_for_commands(O_RDWR, "eMMC commands"); !why.empty()) return refuse(why);
    mmc = deps.mmc ? deps.mmc(admin_fd, name) : linux_mmc_commands(admin_fd, name);
    std::array<std::uint8_t, 512> ext{};
    auto r = mmc->read_ext_csd(ext);
    auto e = r ? sanitize::parse_mmc_ext_csd(ext) : std::nullopt;
    if (!e) {
      ev["attempts"].push_back(
          {{"method", "emmc-ext-csd"}, {"error", r ? "EXT_CSD is malformed" : r.error().message}});
      mmc.reset();
    } else {
      facts.mmc = *e;
      ev["drive"]["ext_csd_revision"] = e->revision;
    }
  }
  if (!req.simulate) {
    // The server's job names the drive by serial; the drive in front of us must be that one.
    const std::string have = trim(ev["drive"]["serial"].get<std::string>());
    if (req.expected_serial.empty()) return refuse("the server's job names no serial for " + name);
    if (have.empty() || have != trim(req.expected_serial)) {
      return refuse(name + " has serial \"" + have + "\", the server's job names \"" +
                    req.expected_serial + "\"");
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
  std::string password_left;  // a temporary ATA password the drive still holds: never "passed"
  auto finish = [&](const PlannedMethod& m, const std::string& pattern, const VerifyReport& v,
                    const std::string& result, const std::string& reason) {
    ev["method"] = std::string(to_string(m.method));
    ev["nist_level"] = std::string(to_string(m.level));
    ev["why"] = m.why;
    ev["pattern"] = pattern;
    ev["verification"] = verification_json(v);
    ev["result"] = result;
    ev["reason"] = reason;
    if (hidden) {
      const auto missed = hidden_sectors_missed(*hidden, m.method);
      ev["hidden_area"]["included"] = !missed;
      if (missed && result == "passed") {
        ev["result"] = "failed";
        ev["reason"] = "the drive is flagged: " + *missed + " were not reached by " +
                       std::string(to_string(m.method)) +
                       "; remove the hidden area (hdparm -N / --dco-restore) and wipe again";
      }
    }
    if (!password_left.empty()) {
      ev["result"] = "failed";
      ev["reason"] = "the temporary ATA security password \"" + password_left +
                     "\" is still set (the drive will lock at its next power-on): remove it with "
                     "hdparm --user-master u --security-disable " +
                     password_left;
    }
    ev["finished_at"] = now_rfc3339();
    if (deps.exec != nullptr && !req.simulate) {
      if (auto s = deps.exec->run({"smartctl", "-j", "-a", req.device.string()}, 120))
        ev["smart_after"] = parse_smartctl(s->out, s->exit_code);
    }
    return ev;
  };
  auto pause = [&](std::chrono::milliseconds d) {
    if (deps.sleep) {
      deps.sleep(d);
    } else {
      std::this_thread::sleep_for(d);
    }
  };
  auto sanitize_progress = [&](double f) {
    if (req.progress) req.progress("sanitizing", static_cast<std::uint64_t>(f * 1000), 1000);
  };
  // BIOSes freeze ATA security (and sometimes sanitize) at boot so that nothing can set a
  // password; a suspend/resume cycle powers the drive down and the BIOS does not freeze it
  // again on resume. Tried at most once per drive; "" when the drive is no longer frozen.
  bool unfreeze_tried = false;
  auto unfreeze = [&]() -> std::string {
    if (unfreeze_tried) return "still frozen (a suspend/resume cycle was tried already)";
    unfreeze_tried = true;
    if (deps.exec == nullptr) return "frozen, and this agent cannot suspend the laptop";
    if (req.progress) req.progress("unfreezing the drive (suspend/resume)", 0, 1);
    auto r = deps.exec->run({"rtcwake", "-m", "mem", "-s", "5"}, 120);
    ev["unfreeze"] = {{"command", "rtcwake -m mem -s 5"},
                      {"exit_code", r ? Json(r->exit_code) : Json()}};
    if (!r || r->exit_code != 0)
      return "frozen; the suspend/resume cycle failed: " + (r ? r->err : r.error().message);
    auto id = ata_identify_device(*ata);
    if (!id) return "IDENTIFY after resume failed: " + id.error().message;
    facts.ata = *id;
    ev["unfreeze"]["security_frozen_after"] = id->security_frozen;
    if (id->security_frozen)
      return "still frozen after a suspend/resume cycle (the firmware froze it again)";
    return "";
  };
  auto sanitize_frozen = [&]() {
    auto r = ata->command(sanitize::ata_sanitize_status(), {}, {}, std::chrono::seconds(30));
    return r && sanitize::parse_ata_sanitize_status(r->count, r->lba).frozen;
  };
  // A failure after something may have been written (canaries, an attempted erase): unlike
  // refuse(), it claims nothing about the drive's contents.
  auto fail = [&](const std::string& why) {
    ev["reason"] = why;
    ev["finished_at"] = now_rfc3339();
    return ev;
  };
  bool touched = false;
  for (const auto& m : plan) {
    if (req.stop && req.stop->load()) return touched ? fail("stopped") : refuse("stopped");
    if (m.method == WipeMethod::overwrite) {
      const auto t0 = std::chrono::steady_clock::now();
      auto r = overwrite_device(**dev, o);
      if (!r) {
        ev["attempts"].push_back({{"method", "overwrite"}, {"error", r.error().message}});
        return fail("overwrite: " + r.error().message);
      }
      ev["write_errors"] = r->write_errors.size();
      ev["write_seconds"] = r->write_seconds;
      ev["verify_seconds"] = r->verify_seconds;
      ev["write_mb_per_s"] =
          r->write_seconds > 0 ? static_cast<double>(r->bytes_written) / r->write_seconds / 1e6 : 0;
      ev["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      return finish(m, r->pattern, r->verify, r->result, r->reason);
    }
    const std::string method_name(to_string(m.method));
    const bool ata_method = is_ata_sanitize(m.method) || is_ata_security(m.method);
    if ((ata_method && !ata) || (is_nvme_method(m.method) && !admin) ||
        (is_mmc_method(m.method) && !mmc)) {
      ev["attempts"].push_back(
          {{"method", method_name}, {"error", "the drive's commands are not reachable"}});
      continue;
    }
    if (is_ata_security(m.method) && facts.ata->security_frozen) {
      if (auto why = unfreeze(); !why.empty()) {
        ev["attempts"].push_back({{"method", method_name}, {"error", why}});
        continue;
      }
    }
    touched = true;
    auto canaries = place_canaries(**dev, o.seed ^ 0x5eedc0de);
    if (!canaries)
      return fail("writing the verification canaries failed: " + canaries.error().message);
    const auto t0 = std::chrono::steady_clock::now();
    Result<void> done{};
    bool uniform = true;
    switch (m.method) {
      case WipeMethod::nvme_sanitize_crypto:
      case WipeMethod::nvme_sanitize_block: {
        const auto action = m.method == WipeMethod::nvme_sanitize_crypto
                                ? sanitize::NvmeSanitizeAction::crypto_erase
                                : sanitize::NvmeSanitizeAction::block_erase;
        uniform = m.method == WipeMethod::nvme_sanitize_block;
        auto s = nvme_sanitize(*admin, action, std::chrono::hours(4), sanitize_progress, pause);
        if (!s) done = s.error();
        break;
      }
      case WipeMethod::nvme_format_crypto:
      case WipeMethod::nvme_format_user_data:
        uniform = m.method == WipeMethod::nvme_format_user_data;
        if (req.progress) req.progress("formatting (firmware erase)", 0, 1);
        done =
            nvme_format(*admin, facts.nvme->format_all_namespaces ? 0xffffffffu : nsid, *ns,
                        m.method == WipeMethod::nvme_format_crypto ? 2 : 1, std::chrono::hours(2));
        break;
      case WipeMethod::ata_sanitize_crypto:
      case WipeMethod::ata_sanitize_block:
      case WipeMethod::ata_sanitize_overwrite: {
        const auto start = m.method == WipeMethod::ata_sanitize_crypto
                               ? sanitize::ata_sanitize_crypto_scramble()
                           : m.method == WipeMethod::ata_sanitize_block
                               ? sanitize::ata_sanitize_block_erase()
                               : sanitize::ata_sanitize_overwrite(0, 1, false);
        uniform = m.method != WipeMethod::ata_sanitize_crypto;
        done = ata_sanitize(*ata, start, std::chrono::hours(24), sanitize_progress, pause);
        if (!done && sanitize_frozen()) {
          // A BIOS may have sent SANITIZE FREEZE LOCK: one suspend/resume cycle, then once more.
          if (auto why = unfreeze(); why.empty()) {
            done = ata_sanitize(*ata, start, std::chrono::hours(24), sanitize_progress, pause);
          } else {
            done = make_error(Errc::unsupported, done.error().message + "; " + why);
          }
        }
        break;
      }
      case WipeMethod::ata_security_erase:
      case WipeMethod::ata_security_erase_enhanced: {
        const bool enhanced = m.method == WipeMethod::ata_security_erase_enhanced;
        // A normal erase writes zeros; an enhanced one a vendor pattern (often a new key).
        uniform = !enhanced;
        const unsigned reported =
            enhanced ? facts.ata->enhanced_erase_minutes : facts.ata->erase_minutes;
        const auto timeout = std::chrono::minutes(reported > 0 ? 2 * reported + 30 : 12 * 60);
        if (req.progress) req.progress("security erase (firmware)", 0, 1);
        const std::string password = temporary_password();
        SecurityEraseLog log;
        done = ata_security_erase(*ata, enhanced, password, timeout, log);
        ev["security_erase"] = {{"steps", log.steps}, {"password_removed", log.password_removed}};
        if (!log.password_removed) password_left = password;
        break;
      }
      case WipeMethod::emmc_sanitize:
        if (req.progress) req.progress("discarding, then sanitizing (eMMC firmware)", 0, 1);
        done = mmc->discard((*dev)->size());
        if (done) done = mmc->sanitize(std::chrono::minutes(30));
        break;
      case WipeMethod::emmc_secure_erase:
        if (req.progress) req.progress("secure erase (eMMC firmware)", 0, 1);
        done = mmc->secure_discard((*dev)->size());
        break;
      default:
        break;
    }
    if (!done) {
      ev["attempts"].push_back({{"method", method_name}, {"error", done.error().message}});
      continue;  // canaries are still there: the next method erases them too
    }
    const double erase_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    auto v = verify_firmware_erase(**dev, *canaries, uniform, o);
    ev["erase_seconds"] = erase_seconds;
    ev["verify_seconds"] = v.seconds;
    ev["canaries"] = {{"placed", v.canaries},
                      {"surviving", v.canaries_surviving},
                      {"seed", std::to_string(canaries->seed)}};
    ev["attempts"].push_back({{"method", method_name}, {"result", v.result}});
    return finish(m,
                  uniform ? "firmware (reads as a uniform pattern)"
                          : "firmware (old data unreadable: new key or vendor pattern)",
                  v.verify, v.result, v.reason);
  }
  std::string why = "no wipe method could be carried out on " + name;
  if (!password_left.empty())
    why += "; the temporary ATA password \"" + password_left + "\" is still set";
  return fail(why);
}

}  // namespace revive::agent
