#include "revive/agent/runner.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <map>
#include <memory>
#include <utility>

#include "revive/agent/http_server_api.hpp"
#include "revive/agent/inventory.hpp"
#include "revive/agent/screen/status_screen.hpp"
#include "revive/agent/transport/relay.hpp"
#include "revive/encoding.hpp"
#include "revive/signed_job.hpp"
#include "steps/step.hpp"

namespace revive::agent {

namespace {

namespace proto = revive::protocol;
using proto::StepKind;
using steps::Outcome;
using steps::StepContext;

constexpr int kExitDone = 0;
constexpr int kExitFatal = 1;
constexpr int kExitCancelled = 3;
constexpr int kExitStopped = 4;
// Jobs refused in a row before the agent gives up: the server keeps sending what this agent
// cannot trust (a rogue server, or a live image built with another server's key).
constexpr int kMaxRefusedJobs = 3;
constexpr std::size_t kNonceBytes = 16;

// The job in a step answer, checked before anything in it is used: signed by the pinned key
// as a job, for this device, answering this request (the nonce), and not expired. Its age is
// at most the answer's (it was signed after the request with the nonce left), so the
// server's clock is estimated from the job's own issue time, not from this laptop's RTC.
Result<proto::Job> accept_job(const NextAnswer& a, const std::optional<PublicKey>& pinned,
                              std::int64_t device, const std::string& nonce) {
  if (!pinned) {
    return make_error(Errc::bad_signature,
                      "no pinned server key (--server-key, baked into the live image): this "
                      "agent cannot tell the workshop's server from any other and takes no job");
  }
  auto job = proto::open_job(a.next.job, *pinned);
  if (!job) return job.error();
  REVIVE_TRY(proto::check_job(*job, {device, nonce, job->issued_at + a.age.count()}));
  return job;
}

Outcome run_step(const StepContext& ctx) {
  // No default: a kind added to the protocol but not here is a compiler warning (-Werror).
  switch (ctx.step.kind) {
    case StepKind::inventory:
      return steps::run_inventory_step(ctx);
    case StepKind::wipe:
      if (auto refused = steps::battery_too_low_to_wipe(ctx)) return *refused;
      if (auto refused = steps::confirm_before_writing(ctx)) return *refused;
      return steps::run_wipe_step(ctx);
    case StepKind::test:
      return steps::run_test_step(ctx);
    case StepKind::deploy:
      if (auto refused = steps::confirm_before_writing(ctx)) return *refused;
      return steps::run_deploy_step(ctx);
    case StepKind::provision:
      return steps::run_provision_step(ctx);
    case StepKind::certify:
      return steps::run_certify_step(ctx);
    case StepKind::finish:
      return steps::run_finish_step(ctx);
    case StepKind::checks:
      return steps::run_checks_step(ctx);
  }
  return steps::failed("this agent cannot run the step \"" +
                       std::string(proto::to_string(ctx.step.kind)) + "\"");
}

// Step parameters come from operators' workflows over the network: a value of the wrong type
// (nlohmann::json throws) fails the step with a clear message instead of ending the agent.
Outcome run_step_guarded(const StepContext& ctx) {
  try {
    return run_step(ctx);
  } catch (const nlohmann::json::exception& e) {
    return steps::failed(std::string("bad step parameters: ") + e.what());
  }
}

// What the laptop says about itself at enrolment: firmware identity, MACs, the inventory.
proto::EnrolRequest enrolment_of(const Json& inventory, const std::string& boot_token) {
  const Json id = identity_of(inventory);
  proto::EnrolRequest r;
  r.identity.system_uuid = id.value("system_uuid", std::string());
  r.identity.serial = id.value("serial", std::string());
  r.identity.model = id.value("model", std::string());
  r.identity.vendor = id.value("vendor", std::string());
  for (const auto& n : inventory.value("nics", Json::array())) {
    if (n.contains("mac") && n["mac"].is_string()) r.macs.push_back(n["mac"]);
  }
  r.inventory = inventory;
  r.boot_token = boot_token;
  return r;
}

// The loop: enrol, ask for the next step, run it, post its result exactly once.
class WorkflowRunner {
 public:
  WorkflowRunner(const RunnerOptions& opts, ServerApi& server, const Json& inventory)
      : opts_(opts),
        server_(server),
        inventory_(inventory),
        enrolment_(enrolment_of(inventory, opts.boot_token)) {}

  /// The exit code: done 0, cancelled 3, stopped 4, fatal 1 (logged).
  int run() {
    if (!enrol()) return stopped() ? kExitStopped : kExitFatal;
    while (!stopped()) {
      // A fresh nonce per request: a job recorded from another exchange does not answer it.
      const std::string nonce = random_hex(kNonceBytes);
      auto answer = server_.next(std::chrono::seconds(opts_.long_poll_s), nonce);
      if (!answer && answer.error().code == Errc::unauthorized) {
        // The token was replaced (another boot?) or the server's state was reset: enrol again.
        if (!enrol()) return stopped() ? kExitStopped : kExitFatal;
        continue;
      }
      if (!answer) {
        if (stopped() || answer.error().code == Errc::cancelled) return kExitStopped;
        log("ERROR: " + answer.error().message);
        return kExitFatal;
      }
      if (auto exit_code = handle(*answer, nonce)) return *exit_code;
    }
    return kExitStopped;
  }

 private:
  enum class Posted { accepted, refused, stopping };

  bool stopped() const { return opts_.stop != nullptr && opts_.stop->load(); }
  void log(const std::string& line) const {
    if (opts_.log) opts_.log(line);
  }

  bool enrol() {
    auto r = server_.enrol(enrolment_);
    if (!r) {
      if (r.error().code != Errc::cancelled) log("ERROR: enrolment refused: " + r.error().message);
      return false;
    }
    device_id_ = r->device_id;
    log("enrolled as device " + std::to_string(device_id_));
    if (opts_.screen != nullptr) opts_.screen->enrolled(r->workshop, r->label, r->language);
    return true;
  }

  // What one answer to next means: nothing (keep polling) or the exit code.
  std::optional<int> handle(const NextAnswer& a, const std::string& nonce) {
    using State = proto::NextResponse::State;
    switch (a.next.state) {
      case State::done:
        log("workflow finished: done");
        if (opts_.screen != nullptr) opts_.screen->done();
        return kExitDone;
      case State::cancelled:
        log("workflow cancelled by an operator");
        return kExitCancelled;
      case State::waiting:
        if (a.next.reason != last_wait_) {
          log("WAITING for an operator: " + a.next.reason);
          if (opts_.screen != nullptr) opts_.screen->waiting(a.next.reason);
        }
        last_wait_ = a.next.reason;
        return std::nullopt;
      case State::step: {
        last_wait_.clear();
        auto job = accept_job(a, opts_.server_key, device_id_, nonce);
        if (!job) return refuse_job(a, job.error());
        refused_in_a_row_ = 0;
        if (!job->unknown_kind.empty())
          return refuse_unknown(job->step.id, job->step.attempt, job->unknown_kind);
        return run_assigned(job->step);
      }
    }
    return std::nullopt;
  }

  // A job that failed its checks: nothing in it is acted on. The refusal goes back as the
  // step's failure (naming why) when the job names a step at all, so an operator whose
  // server's key is not the pinned one sees it; a rogue sender learns nothing it did not know.
  std::optional<int> refuse_job(const NextAnswer& a, const Error& why) {
    log("REFUSED a job from the server: " + why.message + ". Nothing was touched.");
    if (opts_.screen != nullptr) opts_.screen->job_refused(why.message);
    if (auto claimed = proto::parse_job(a.next.job)) {
      const Outcome o = steps::failed("the agent refused the job: " + why.message);
      if (post_result(claimed->step.id, claimed->step.attempt, "refused job", o) ==
          Posted::stopping)
        return kExitStopped;
    }
    if (++refused_in_a_row_ >= kMaxRefusedJobs) {
      log(fmt::format("ERROR: {} jobs in a row could not be trusted: stopping", refused_in_a_row_));
      return kExitFatal;
    }
    return std::nullopt;
  }

  std::optional<int> run_assigned(const proto::StepAssignment& s) {
    const std::string kind(proto::to_string(s.kind));
    log(fmt::format("step {} (attempt {}){}", kind, s.attempt, s.resumed ? ", resumed" : ""));
    // If the server hands out a step this boot has finished (its answer to our result was
    // lost, or it restarted), the outcome is sent again instead of running the step twice:
    // destructive steps must never run twice.
    auto seen = finished_.find(s.id);
    const bool already = seen != finished_.end() && seen->second.first == s.attempt;
    if (already)
      log("  already done in this boot: sending its result again instead of running it twice");
    if (!already) settle_relay(s);
    if (opts_.screen != nullptr) opts_.screen->step_started(s.kind);
    const Outcome o =
        already ? seen->second.second
                : run_step_guarded({opts_, server_, device_id_, s, inventory_, &relay_, &checks_});
    finished_[s.id] = {s.attempt, o};
    // The grade counts what a volunteer found by hand: a later test step in this boot reads it.
    if (s.kind == StepKind::checks && o.ok) checks_ = o.result;
    const Posted posted = post_result(s.id, s.attempt, kind, o);
    if (posted == Posted::stopping) return kExitStopped;
    if (posted == Posted::accepted && !o.ok) log("FAILED: " + kind + ": " + o.error);
    if (posted == Posted::accepted && o.ok && s.kind == StepKind::test) log_grade(o.result);
    show_outcome(s.kind, o);
    return std::nullopt;
  }

  void show_outcome(StepKind kind, const Outcome& o) const {
    if (opts_.screen == nullptr) return;
    if (!o.ok) {
      opts_.screen->step_failed(kind, o.error);
    } else if (kind == StepKind::test) {
      opts_.screen->graded(o.result.value("grading", Json::object()).value("grade", ""));
    } else if (kind == StepKind::finish) {
      opts_.screen->finishing(o.result.value("action", ""));
    }
  }

  // A relay left by a deploy step serves peers from the disk: it stops before a step that
  // rewrites the disk, and the finish step (after which the laptop powers off or reboots) first
  // waits a while for the server to release it.
  void settle_relay(const proto::StepAssignment& s) {
    if (!relay_ || relay_->closed()) {
      relay_.reset();
      return;
    }
    if (s.kind == StepKind::wipe || s.kind == StepKind::deploy) {
      log("  stopped relaying: the disk is about to change");
      relay_.reset();
    } else if (s.kind == StepKind::finish) {
      const int linger = s.params.is_object() ? s.params.value("relay_linger_s", 60) : 60;
      log(fmt::format("  relaying to peers until the server releases this laptop (at most {} s)",
                      linger));
      const bool released = relay_->finish(std::chrono::seconds(std::max(linger, 0)));
      log(released ? "  relay released by the server" : "  stopped relaying");
      relay_.reset();
    }
  }

  // A kind this agent does not know (a newer server): fail loudly, never report work not done.
  std::optional<int> refuse_unknown(std::int64_t id, std::int64_t attempt,
                                    const std::string& kind) {
    log(fmt::format("step {} (attempt {})", kind, attempt));
    const Outcome o = steps::failed("this agent does not know the step \"" + kind +
                                    "\" (the server is newer than this agent)");
    const Posted posted = post_result(id, attempt, kind, o);
    if (posted == Posted::stopping) return kExitStopped;
    if (posted == Posted::accepted) log("FAILED: " + kind + ": " + o.error);
    return std::nullopt;
  }

  // The ServerApi retries while the server is away; an answer that refuses the result (409:
  // the step timed out or was skipped meanwhile) is logged and the loop goes on.
  Posted post_result(std::int64_t step, std::int64_t attempt, const std::string& kind,
                     const Outcome& o) {
    proto::StepResultReport report;
    report.attempt = attempt;
    report.status = o.ok ? proto::StepStatus::ok : proto::StepStatus::failed;
    report.result = o.result;
    report.error = o.error;
    auto ack = server_.result(step, report);
    if (ack) return Posted::accepted;
    if (stopped() || ack.error().code == Errc::cancelled) return Posted::stopping;
    log("result of " + kind + " not accepted (" + ack.error().message + ")");
    return Posted::refused;
  }

  void log_grade(const Json& result) const {
    const Json g = result.value("grading", Json::object());
    log("grade " + g.value("grade", std::string("?")) + " | " +
        g.value("suitable_for", std::string()));
    for (const auto& reason : g.value("reasons", Json::array())) {
      if (reason.is_string()) log("  - " + reason.get<std::string>());
    }
  }

  const RunnerOptions& opts_;
  ServerApi& server_;
  const Json& inventory_;
  const proto::EnrolRequest enrolment_;
  std::int64_t device_id_ = 0;
  std::map<std::int64_t, std::pair<std::int64_t, Outcome>> finished_;  // step -> attempt, outcome
  std::string last_wait_;
  std::unique_ptr<Relay> relay_;  // a deploy step's relay, serving peers after the step
  Json checks_;                   // the result of this boot's last checks step (null: none)
  int refused_in_a_row_ = 0;
};

}  // namespace

int run_workflow(const RunnerOptions& given) {
  RunnerOptions opts = given;
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
    return kExitFatal;
  }
  opts.log(fmt::format("laptop: {} {} serial {}", id["vendor"].get<std::string>(),
                       id["model"].get<std::string>(), id["serial"].get<std::string>()));
  std::unique_ptr<ServerApi> http;
  if (opts.server_api == nullptr) {
    HttpServerApiOptions o;
    o.server = opts.server;
    o.log = opts.log;
    o.stop = opts.stop;
    if (opts.screen != nullptr) {
      o.reachability = [screen = opts.screen](bool up) {
        if (up) {
          screen->server_reachable();
        } else {
          screen->server_unreachable();
        }
      };
    }
    http = std::make_unique<HttpServerApi>(std::move(o));
  }
  ServerApi& server = opts.server_api != nullptr ? *opts.server_api : *http;
  return WorkflowRunner(opts, server, inventory).run();
}

}  // namespace revive::agent
