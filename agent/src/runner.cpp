#include "revive/agent/runner.hpp"

#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <random>
#include <thread>

#include "revive/agent/client.hpp"
#include "revive/agent/deploy.hpp"
#include "revive/agent/disk_safety.hpp"
#include "revive/agent/fit.hpp"
#include "revive/agent/grading.hpp"
#include "revive/agent/hwtests.hpp"
#include "revive/agent/inventory.hpp"
#include "revive/agent/provision.hpp"
#include "revive/agent/wipe.hpp"
#include "revive/agent/wipe_drive.hpp"
#include "revive/encoding.hpp"
#include "revive/file_util.hpp"
#include "revive/parallel.hpp"

namespace revive::agent {

namespace {

struct StepContext {
  const RunnerOptions& opts;
  AgentClient& client;
  std::string base;  // /api/v1/agents/{id}
  Json step;
  const Json& inventory;

  void progress(const std::string& stage, double done, double total) {
    Json p = {{"stage", stage}};
    if (total > 0) {
      p["bytes_done"] = done;
      p["bytes_total"] = total;
    }
    (void)client.post(base + "/progress", {{"step", step["id"]}, {"progress", p}}, 10);
    // A bar the volunteer can read from across the room.
    std::string bar;
    if (total > 0) {
      const auto fill = static_cast<std::size_t>(std::clamp(20 * done / total, 0.0, 20.0));
      bar += '[';
      bar.append(fill, '#');
      bar.append(20 - fill, '.');
      bar += "] ";
    }
    opts.log(fmt::format("  {} {}{}", step["kind"].get<std::string>(), bar, stage));
  }
};

// A step's outcome: ok + result, or failed + error.
struct Outcome {
  bool ok = true;
  Json result = Json::object();
  std::string error;
};

// Before anything is written: nothing may be using the disk (see disk_safety.hpp).
std::optional<std::string> refuse_if_in_use(const StepContext& ctx) {
  if (ctx.opts.system == nullptr) return std::nullopt;
  if (auto why = disk_in_use(*ctx.opts.system, ctx.opts.disk))
    return *why + "; nothing was written";
  return std::nullopt;
}

Outcome run_test_step(StepContext& ctx) {
  const Json params = ctx.step.value("params", Json::object());
  Json tests;
  ctx.progress("CPU test", 0, 3);
  tests["cpu"] = cpu_test(std::chrono::milliseconds(params.value("cpu_ms", ctx.opts.cpu_test_ms)),
                          std::max(1u, std::thread::hardware_concurrency()));
  ctx.progress("memory test", 1, 3);
  // Never enough to get the agent killed: the test holds two buffers of `mib`, together at
  // most 5% of what the machine has available.
  const long long avail_kib = meminfo_kib(*ctx.opts.root, "MemAvailable");
  std::size_t mib = params.value("memory_mib", ctx.opts.memory_test_mib);
  if (avail_kib > 0)
    mib = std::min<std::size_t>(mib, static_cast<std::size_t>(avail_kib / 1024 / 40));
  tests["memory"] = memory_test(std::max<std::size_t>(mib, 1),
                                std::chrono::milliseconds(params.value("memory_ms", 1000)));
  ctx.progress("disk read test", 2, 3);
  if (!ctx.opts.disk.empty()) {
    auto d = disk_read_test(ctx.opts.disk, params.value("disk_bytes", std::uint64_t{256} << 20),
                            std::chrono::milliseconds(params.value("disk_ms", 2000)));
    tests["disk_read"] = d ? *d : Json{{"error", d.error().message}};
  }
  if (params.value("smart_selftest", false)) {
    Json results = Json::array();
    for (const auto& d : ctx.inventory.value("disks", Json::array())) {
      if (!d.value("smart", Json::object()).value("available", false)) continue;
      ctx.progress("SMART short self-test of " + d["name"].get<std::string>(), 2, 3);
      results.push_back(smart_selftest(
          *ctx.opts.exec, d["name"], std::chrono::seconds(params.value("smart_selftest_s", 180)),
          [&](std::chrono::seconds s) {
            for (int i = 0; i < s.count() * 10 && !(ctx.opts.stop && ctx.opts.stop->load()); ++i) {
              std::this_thread::sleep_for(std::chrono::milliseconds(100));
            }
          }));
    }
    tests["smart_selftest"] = results;
  }
  auto policy = params.contains("grading_policy") && params["grading_policy"].is_string()
                    ? parse_policy(params["grading_policy"].get<std::string>())
                    : parse_policy(default_policy_toml());
  if (!policy) return {false, {{"tests", tests}}, "grading policy: " + policy.error().message};
  Outcome o;
  o.result = {{"tests", tests}, {"grading", grade(ctx.inventory, tests, *policy)}};
  return o;
}

Outcome run_deploy_step(StepContext& ctx) {
  const Json params = ctx.step.value("params", Json::object());
  if (!params.contains("image") || !params["image"].is_string()) {
    return {false, Json::object(),
            "no image assigned: give the batch an image or the deploy step an \"image\" parameter"};
  }
  const std::string image = params["image"];
  if (!ctx.opts.server_key)
    return {false, Json::object(),
            "no pinned server key: refusing to write an image whose signature cannot be checked"};
  if (ctx.opts.disk.empty()) return {false, Json::object(), "no disk to deploy to"};
  ctx.progress("fetching the signed manifest of " + image, 0, 0);
  auto r = ctx.client.get("/api/v1/images/" + image + "/manifest");
  if (!r) return {false, Json::object(), r.error().message};
  if (r->status != 200)
    return {false, Json::object(),
            "manifest of " + image + ": server answered " + std::to_string(r->status)};
  auto m = open_signed_manifest(r->raw, *ctx.opts.server_key);
  if (!m) return {false, Json::object(), "manifest of " + image + " refused: " + m.error().message};
  if (auto why = refuse_if_in_use(ctx)) return {false, Json::object(), *why};
  // Direct I/O skips the page cache copy and its writeback (measured in bench/deploy_bench.sh).
  auto dev = open_block_device(ctx.opts.disk,
                               {.direct = params.value("direct_io", true), .exclusive = true});
  if (!dev) return {false, Json::object(), dev.error().message};
  auto source = make_http_chunk_source(ctx.client.server(), ctx.opts.max_fetch_rate);
  DeployOptions o;
  o.stop = ctx.opts.stop;
  // Resume: a checkpoint of this attempt, for this very image, says what is on disk already.
  const Json cp = ctx.step.value("checkpoint", Json::object());
  if (cp.value("image_id", std::string()) == m->image_id && cp.contains("done") &&
      cp["done"].is_array()) {
    std::size_t n = 0;
    for (const auto& range : cp["done"]) {
      if (!range.is_array() || range.size() != 2 || !range[0].is_number_unsigned() ||
          !range[1].is_number_unsigned())
        continue;
      o.already_done.emplace_back(range[0].get<std::size_t>(), range[1].get<std::size_t>());
      n += range[1].get<std::size_t>() - range[0].get<std::size_t>() + 1;
    }
    ctx.opts.log(
        fmt::format("  resuming: {} of {} chunks are already on disk", n, m->data_chunk_count()));
  }
  const std::string cp_path =
      ctx.base + "/steps/" + std::to_string(ctx.step["id"].get<long long>()) + "/checkpoint";
  o.checkpoint = [&](const DoneRanges& ranges) {
    Json done = Json::array();
    std::size_t n = 0;
    for (const auto& [a, b] : ranges) {
      done.push_back({a, b});
      n += b - a + 1;
    }
    auto posted = ctx.client.post(cp_path,
                                  {{"attempt", ctx.step["attempt"]},
                                   {"checkpoint", {{"image_id", m->image_id}, {"done", done}}}},
                                  10);
    if (posted && posted->status == 200)
      ctx.opts.log(fmt::format("  checkpoint: {} of {} chunks on disk", n, m->data_chunk_count()));
  };
  o.outage_timeout = std::chrono::seconds(params.value("outage_timeout_s", 600));
  o.zero_holes = params.value("zero_holes", true);
  o.on_outage = [&](bool reachable, const std::string& why) {
    ctx.opts.log(reachable ? "  image source answers again: continuing"
                           : "  image source unreachable (" + why +
                                 "): waiting for it, what is on disk is kept");
  };
  // Progress for the volunteer and the server: at most once a second, and always the last.
  o.progress = [&, gate = detail::RateGate(std::chrono::seconds(1))](std::uint64_t done,
                                                                     std::uint64_t total) mutable {
    if (gate.due(done >= total))
      ctx.progress("writing " + image, static_cast<double>(done), static_cast<double>(total));
  };
  // A checkpoint at stage "fit" means every chunk was written and verified before: only the
  // fitting (idempotent) is left to redo.
  const bool only_fit = cp.value("image_id", std::string()) == m->image_id &&
                        cp.value("stage", std::string()) == "fit";
  Json result = {{"image", image}, {"image_id", m->image_id}};
  if (!only_fit) {
    const auto started = std::chrono::steady_clock::now();
    auto rep = deploy_image(*m, *source, **dev, o);
    if (!rep) return {false, result, rep.error().message};
    result["write_seconds"] =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const std::uint64_t seed = std::random_device{}();
    auto bad = verify_sample(*m, **dev, 16, seed);
    result.update(
        {{"chunks_written", rep->chunks_written},
         {"bytes_written", rep->bytes_written},
         {"bytes_fetched", rep->bytes_fetched},
         {"chunk_retries", rep->chunk_retries},
         {"chunks_skipped", rep->chunks_skipped},
         {"outages", rep->outages},
         {"holes_zeroed_bytes", rep->holes_zeroed_bytes},
         {"verify", {{"samples", 16}, {"seed", seed}, {"bad", bad ? Json(*bad) : Json::array()}}}});
    if (!bad) return {false, result, "read-back verification failed: " + bad.error().message};
    if (!bad->empty())
      return {false, result,
              "read-back verification found " + std::to_string(bad->size()) +
                  " bad chunks: " + (*bad)[0]};
  } else {
    ctx.opts.log(
        "  resuming: the image was written and verified before; fitting it to the disk again");
  }
  if (!params.value("fit", true) || ctx.opts.disk_exec == nullptr) return {true, result, ""};
  if (ctx.opts.simulate && ::geteuid() != 0) {
    // Growing a filesystem needs a loop device, which needs root; the live agent always is.
    result["fit"] = {
        {"skipped", "simulation without root: the partition and filesystem were not grown"}};
    ctx.opts.log(
        "  not fitting the image to the disk: simulation without root (the live agent runs as "
        "root)");
    return {true, result, ""};
  }
  // From here on the disk no longer matches the image byte for byte (GPT, grown filesystem).
  (void)ctx.client.post(cp_path,
                        {{"attempt", ctx.step["attempt"]},
                         {"checkpoint", {{"image_id", m->image_id}, {"stage", "fit"}}}},
                        10);
  ctx.progress("fitting " + image + " to the disk", 0, 0);
  auto fit = fit_to_disk(ctx.opts.disk, **dev, *ctx.opts.disk_exec);
  if (!fit) return {false, result, "fitting the image to the disk: " + fit.error().message};
  result["fit"] = *fit;
  if (fit->value("grown", false)) {
    ctx.opts.log(fmt::format(
        "  partition {} grown from {} to {} MiB; filesystem {} {}", (*fit)["partition"].get<int>(),
        (*fit)["from_bytes"].get<std::uint64_t>() >> 20,
        (*fit)["to_bytes"].get<std::uint64_t>() >> 20, (*fit)["filesystem"].get<std::string>(),
        fit->value("fs_grown", false) ? "grown" : "kept"));
  }
  return {true, result, ""};
}

// The wipe step: every drive the server's job names (simulation: the file or loop device
// standing in for the laptop's disk), each with the strongest method it supports; the evidence
// goes back to the server, which issues the certificates.
Outcome run_wipe_step(StepContext& ctx) {
  const Json params = ctx.step.value("params", Json::object());
  const std::string pattern = params.value("pattern", std::string("zeros"));
  if (pattern != "zeros" && pattern != "prng")
    return {false, Json::object(), "wipe pattern must be \"zeros\" or \"prng\""};
  const Json disks = ctx.inventory.value("disks", Json::array());
  auto inventory_disk = [&](const std::string& name) {
    for (const auto& d : disks) {
      if (d.value("name", Json()) == Json(name)) return d;
    }
    return Json(Json::object());
  };
  std::vector<DriveWipeRequest> targets;
  if (ctx.opts.simulate) {
    if (ctx.opts.disk.empty()) return {false, Json::object(), "no disk to wipe"};
    DriveWipeRequest r;
    r.device = ctx.opts.disk;
    r.simulate = true;
    // The simulated laptop's first disk (from its machine tree) is what the file stands in for.
    r.inventory_disk = disks.empty() ? Json::object() : disks[0];
    targets.push_back(r);
  } else {
    // Fail closed: only drives the server's job names, each by its serial.
    const Json drives = params.value("drives", Json::array());
    if (!drives.is_array() || drives.empty()) {
      return {false, Json::object(),
              "the server's wipe job names no drives (by name and serial); nothing was written"};
    }
    for (const auto& d : drives) {
      const std::string name = d.value("name", std::string());
      if (name.empty() || name.find('/') != std::string::npos ||
          name.find("..") != std::string::npos) {
        return {false, Json::object(),
                "the server's wipe job names a drive without a valid name; nothing was written"};
      }
      DriveWipeRequest r;
      r.device = "/dev/" + name;
      r.expected_serial = d.value("serial", std::string());
      r.inventory_disk = inventory_disk(name);
      targets.push_back(r);
    }
  }
  DriveWipeDeps deps;
  deps.system = ctx.opts.system;
  deps.exec = ctx.opts.simulate ? nullptr : ctx.opts.exec;
  Json evidence = Json::array();
  std::string failure;
  for (auto& t : targets) {
    t.random_pattern = pattern == "prng";
    t.full_verify = params.value("full_verify", false);
    t.stop = ctx.opts.stop;
    t.progress = [&, gate = detail::RateGate(std::chrono::seconds(1))](
                     std::string_view stage, std::uint64_t done, std::uint64_t total) mutable {
      if (gate.due(done >= total))
        ctx.progress(t.device.filename().string() + ": " + std::string(stage),
                     static_cast<double>(done), static_cast<double>(total));
    };
    Json ev = wipe_drive(t, deps);
    ctx.opts.log(fmt::format(
        "  {}: {} ({}), verification {} ({} samples, {:.1f}%): {}{}", t.device.string(),
        ev["method"].get<std::string>(), ev["nist_level"].get<std::string>(),
        ev["verification"]["method"].get<std::string>(),
        ev["verification"]["samples"].get<std::uint64_t>(),
        static_cast<double>(ev["verification"]["coverage_permille"].get<std::uint64_t>()) / 10.0,
        ev["result"].get<std::string>(),
        ev["reason"].get<std::string>().empty() ? "" : " - " + ev["reason"].get<std::string>()));
    if (ev["result"] != "passed" && failure.empty()) {
      failure = "wipe of " + t.device.string() + " " + ev["result"].get<std::string>() + ": " +
                ev["reason"].get<std::string>();
    }
    evidence.push_back(std::move(ev));
    if (ctx.opts.stop && ctx.opts.stop->load()) break;
  }
  return {failure.empty(), {{"drives", evidence}}, failure};
}

// The certify step: the laptop leaves only with a passed erasure certificate on the server
// (issued from its wipe step's evidence); the step records which.
Outcome run_certify_step(StepContext& ctx) {
  auto r = ctx.client.get(ctx.base + "/certificates");
  if (!r) return {false, Json::object(), r.error().message};
  if (r->status != 200 || !r->body.is_array())
    return {false, Json::object(), "certificates: server answered " + std::to_string(r->status)};
  Json ids = Json::array();
  std::string laptop;
  for (const auto& c : r->body) {
    ids.push_back(c.value("cert_id", std::string()));
    if (laptop.empty() && c.value("kind", std::string()) == "laptop") {
      if (c.value("result", std::string()) != "passed")
        return {
            false, {{"certificates", ids}}, "the laptop's latest erasure certificate did not pass"};
      laptop = c.value("cert_id", std::string());
    }
  }
  if (laptop.empty())
    return {false,
            {{"certificates", ids}},
            "no erasure certificate for this laptop: its workflow needs a wipe step first"};
  ctx.opts.log("  erasure certificate " + laptop + " is on the server");
  return {true, {{"laptop_certificate", laptop}, {"certificates", ids}}, ""};
}

Outcome run_provision_step(StepContext& ctx) {
  const Json params = ctx.step.value("params", Json::object());
  auto profile = parse_profile(params);
  if (!profile) return {false, Json::object(), profile.error().message};
  if (ctx.opts.disk.empty() || ctx.opts.disk_exec == nullptr)
    return {false, Json::object(), "no disk to provision"};
  DeviceFacts facts;
  const Json id = identity_of(ctx.inventory);
  facts.serial = id["serial"];
  facts.vendor = id["vendor"];
  const Json chassis =
      ctx.inventory.value("smbios", Json::object()).value("chassis", Json::object());
  if (chassis.contains("asset_tag") && chassis["asset_tag"].is_string())
    facts.asset_tag = chassis["asset_tag"];
  facts.device_id = std::stoll(ctx.base.substr(ctx.base.rfind('/') + 1));
  auto dev = open_block_device(ctx.opts.disk);
  if (!dev) return {false, Json::object(), dev.error().message};
  ctx.progress("applying the recipient profile", 0, 0);
  auto r = provision_disk(ctx.opts.disk, **dev, *ctx.opts.disk_exec, *profile, facts);
  if (!r) return {false, Json::object(), "provisioning: " + r.error().message};
  ctx.opts.log(fmt::format("  {} provisioned as {}", (*r)["system"].get<std::string>(),
                           (*r)["hostname"].get<std::string>()));
  return {true, *r, ""};
}

Outcome run_step(StepContext& ctx) {
  const std::string kind = ctx.step["kind"];
  if (kind == "inventory") {
    ctx.progress("reading firmware tables, sysfs and SMART", 0, 0);
    return {true, {{"inventory", ctx.inventory}}, ""};
  }
  if (kind == "test") return run_test_step(ctx);
  if (kind == "deploy") return run_deploy_step(ctx);
  if (kind == "provision") return run_provision_step(ctx);
  if (kind == "wipe") return run_wipe_step(ctx);
  if (kind == "certify") return run_certify_step(ctx);
  if (kind == "finish") {
    const std::string action =
        ctx.step.value("params", Json::object()).value("action", std::string("poweroff"));
    if (action != "poweroff" && action != "reboot")
      return {false, Json::object(), "finish action must be \"poweroff\" or \"reboot\""};
    if (!ctx.opts.finish_action_file.empty()) {
      // The live image's init reads it once the agent has exited (after the server recorded the
      // result).
      const std::string line = action + "\n";
      if (auto w = write_file_atomic(ctx.opts.finish_action_file,
                                     std::as_bytes(std::span(line.data(), line.size())),
                                     ctx.opts.finish_action_file.parent_path());
          !w) {
        return {false, Json::object(), "cannot record the finish action: " + w.error().message};
      }
    }
    return {true, {{"action", action}, {"simulated", ctx.opts.simulate}}, ""};
  }
  // A kind this agent does not know (a newer server): fail loudly, never report work not done.
  return {false, Json::object(), "this agent does not know the step \"" + kind + "\""};
}

// Step parameters come from operators' workflows over the network: a value of the wrong type
// fails the step with a clear message instead of ending the agent.
Outcome run_step_guarded(StepContext& ctx) {
  try {
    return run_step(ctx);
  } catch (const nlohmann::json::exception& e) {
    return {false, Json::object(), std::string("bad step parameters: ") + e.what()};
  }
}

}  // namespace

int run_workflow(const RunnerOptions& given) {
  RunnerOptions opts = given;
  auto stopped = [&] { return opts.stop && opts.stop->load(); };
  opts.log("Revive agent " REVIVE_VERSION " | server " + opts.server +
           (opts.simulate ? " | SIMULATION" : ""));
  const Json inventory = collect_inventory(*opts.root, *opts.exec);
  if (opts.disk.empty() && !opts.simulate) {
    if (auto name = pick_internal_disk(inventory)) {
      opts.disk = "/dev/" + *name;
      opts.log("disk: " + opts.disk.string());
    } else {
      opts.log("no internal disk found: steps that need one will fail");
    }
  }
  const Json id = identity_of(inventory);
  if (id["serial"].get<std::string>().empty() && id["system_uuid"].get<std::string>().empty()) {
    opts.log(
        "ERROR: this laptop has neither a serial number nor a system UUID in its firmware: cannot "
        "enrol it");
    return 1;
  }
  opts.log(fmt::format("laptop: {} {} serial {}", id["vendor"].get<std::string>(),
                       id["model"].get<std::string>(), id["serial"].get<std::string>()));
  AgentClient client(opts.server, opts.log, opts.stop);
  Json macs = Json::array();
  for (const auto& n : inventory.value("nics", Json::array())) {
    if (n["mac"].is_string()) macs.push_back(n["mac"]);
  }
  std::string base;
  auto enrol = [&]() -> bool {
    client.set_token("");
    Json body = {{"identity", id}, {"macs", macs}, {"inventory", inventory}};
    if (!opts.boot_token.empty()) body["boot_token"] = opts.boot_token;
    auto r = client.post("/api/v1/agents/enrol", body);
    if (!r) return false;
    if (r->status != 200) {
      opts.log("ERROR: enrolment refused (" + std::to_string(r->status) +
               "): " + r->body.value("error", std::string()));
      return false;
    }
    client.set_token(r->body["agent_token"]);
    base = "/api/v1/agents/" + std::to_string(r->body["device_id"].get<long long>());
    opts.log("enrolled as device " + std::to_string(r->body["device_id"].get<long long>()));
    return true;
  };
  if (!enrol()) return stopped() ? 4 : 1;

  // Steps this boot has finished, with their outcome: if the server hands one out again (its
  // answer to our result was lost, or it restarted), we re-send the outcome instead of
  // running the step twice. Destructive steps must never run twice.
  std::map<long long, std::pair<long long, Outcome>> finished;
  std::string last_wait;
  while (!stopped()) {
    auto r = client.post(base + "/next?wait=" + std::to_string(opts.long_poll_s), Json::object(),
                         opts.long_poll_s + 15);
    if (!r) return stopped() ? 4 : 1;
    if (r->status == 401) {  // token replaced (another boot?) or server state reset: enrol again
      if (!enrol()) return stopped() ? 4 : 1;
      continue;
    }
    if (r->status != 200) {
      opts.log("ERROR: server answered " + std::to_string(r->status) + ": " +
               r->body.value("error", std::string()));
      return 1;
    }
    const std::string state = r->body.value("state", std::string());
    if (state == "done") {
      opts.log("workflow finished: done");
      return 0;
    }
    if (state == "cancelled") {
      opts.log("workflow cancelled by an operator");
      return 3;
    }
    if (state == "waiting") {
      const std::string why = r->body.value("reason", std::string());
      if (why != last_wait) opts.log("WAITING for an operator: " + why);
      last_wait = why;
      continue;
    }
    last_wait.clear();
    StepContext ctx{opts, client, base, r->body["step"], inventory};
    const std::string kind = ctx.step["kind"];
    const long long step_id = ctx.step["id"].get<long long>();
    const long long attempt = ctx.step["attempt"].get<long long>();
    opts.log(fmt::format("step {} (attempt {}){}", kind, attempt,
                         ctx.step.value("resumed", false) ? ", resumed" : ""));
    auto seen = finished.find(step_id);
    const bool already = seen != finished.end() && seen->second.first == attempt;
    if (already)
      opts.log("  already done in this boot: sending its result again instead of running it twice");
    const Outcome o = already ? seen->second.second : run_step_guarded(ctx);
    finished[step_id] = {attempt, o};
    // Posting the result is retried by the client; a duplicate answer means it was recorded.
    auto posted =
        client.post(base + "/steps/" + std::to_string(ctx.step["id"].get<long long>()) + "/result",
                    {{"attempt", ctx.step["attempt"]},
                     {"status", o.ok ? "ok" : "failed"},
                     {"result", o.result},
                     {"error", o.error}});
    if (!posted) return stopped() ? 4 : 1;
    if (posted->status != 200) {
      opts.log("result of " + kind + " not accepted (" + std::to_string(posted->status) +
               "): " + posted->body.value("error", std::string()));
    } else if (!o.ok) {
      opts.log("FAILED: " + kind + ": " + o.error);
    } else if (kind == "test") {
      const Json& g = o.result["grading"];
      opts.log("grade " + g["grade"].get<std::string>() + " | " +
               g["suitable_for"].get<std::string>());
      for (const auto& reason : g["reasons"]) opts.log("  - " + reason.get<std::string>());
    }
  }
  return 4;
}

}  // namespace revive::agent
