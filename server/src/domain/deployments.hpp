#pragma once
// Peer relay, the server's side: where each deploying laptop fetches its chunks from. Owns the
// deployment scheduler (server/sched, docs/scheduler.md) and turns what agents report into its
// events: a deploy step's first progress report joins the laptop, later ones are progress,
// source failures and its finish; the deadline tick notices deploy steps that ended, relays
// that went quiet and laptops that stopped reporting. Each deploy progress report is answered
// with the laptop's current source assignment, each relay report with whether the laptop may
// close its relay. In memory only: after a restart laptops join again with their next report.
// Every public call takes one mutex, so /metrics and the chunk route may call from any thread.

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "domain/context.hpp"
#include "domain/live_steps.hpp"
#include "revive/protocol.hpp"
#include "revive/sched/scheduler.hpp"

namespace revive::server {

/// Seconds on a monotonic clock, any epoch: the scheduler refuses time that goes backwards,
/// which the wall clock can.
using MonotonicClock = std::function<double()>;

/// An image as the scheduler sees it: the id its manifest carries and its shape.
struct ImageFacts {
  std::string image_id;
  sched::ImageShape shape;
};
/// The facts of the image stored under `name`; not_found when the store has no such image,
/// corrupt when its manifest cannot be read.
using ImageLookup = std::function<Result<ImageFacts>(const std::string& name)>;

/// The fastest negotiated speed of the laptop's wired NICs in its inventory (`nics`, as the
/// agent reports them: `speed_mbps`, `wireless`), in bytes/s; nullopt when none reports one
/// (no carrier, a wireless-only laptop, an old inventory). Pure.
std::optional<double> wired_link_rate(const Json& inventory);

struct DeploymentOptions {
  double server_port_rate = 125e6;  ///< stored bytes/s the server's port sends (1 Gbit/s)
  bool relay = false;               ///< false: every deploying laptop fetches from the server
  /// Finished laptops kept relaying per image while others still deploy it (0: a finished
  /// laptop is released as soon as nobody fetches from it).
  int spare_finished_relays = 0;
  /// A laptop past its deploy step reports its relay about once a second: this much silence
  /// means it is gone (rebooted to its disk, powered off).
  double relay_silence_s = 3;
  /// A deploying laptop reports every second or so: this much silence means it is gone (its
  /// step's own stall timeout fails the step much later).
  double deploy_silence_s = 30;
};

/// What /metrics shows of the deployments.
struct DeploymentStats {
  double server_port_rate = 0;          ///< bytes/s, as configured
  double server_committed = 0;          ///< bytes/s the plan has the server's port send
  std::uint64_t server_port_bytes = 0;  ///< chunk bytes the server answered with
  std::uint64_t bytes_from_server = 0;  ///< chunks agents report having, by their source
  std::uint64_t bytes_from_peers = 0;
  std::map<std::string, int>
      laptops;  ///< deploying laptops by source: server, peer, queued, finished
  std::uint64_t source_failures = 0;  ///< reports of a failed peer passed to the scheduler
  std::uint64_t releases = 0;         ///< relays told they may stop
  std::uint64_t scheduler_errors =
      0;  ///< events the scheduler refused (the laptop then gets the server)
  sched::SchedulerStats scheduler;
};

class Deployments {
 public:
  /// `images` finds an image's shape by name, `clock` is monotonic. With options the scheduler
  /// refuses (a port rate that is not positive), every laptop gets the server, with the reason.
  Deployments(DomainContext& ctx, LiveSteps& live, ImageLookup images, MonotonicClock clock,
              DeploymentOptions opts);

  /// Plans with a progress report of a running step of `device` that carries deploy progress,
  /// sent from `peer_ip`: its first report joins the laptop (and so does a report that shows it
  /// restarted: another step or image, a new relay address, fewer chunks). Returns where the
  /// laptop fetches from now, with the epoch of the last change; nullopt when `step` is not a
  /// deploy step of the device. Never fails: a laptop the scheduler does not plan (relay off,
  /// an image not in the store, a refused event) gets the server, and the reason says why.
  std::optional<protocol::SourceAssignment> progress(std::int64_t device, std::int64_t step,
                                                     const protocol::DeployProgress& report,
                                                     const std::string& peer_ip);
  /// A relay report of a laptop past its deploy step: release when no peer needs it any more
  /// (the plan lets it leave, or it is not in the plan at all); a released laptop leaves the
  /// plan at once. Never fails.
  protocol::RelayAck relay(std::int64_t device, const protocol::RelayReport& report,
                           const std::string& peer_ip);
  /// What the laptop's deploy step `step` fetched, for its stored result: {bytes_from_server,
  /// bytes_from_peers (estimated from chunks gained, by the source it named), replans (times its
  /// source changed after the first answer)}; nullopt when the server never saw it deploy.
  std::optional<Json> delivery(std::int64_t device, std::int64_t step) const;
  /// The result of deploy step `step` was recorded: done (`ok`) makes the laptop a finished
  /// source that keeps relaying while it reports; otherwise it fails out of the plan.
  void step_recorded(std::int64_t device, std::int64_t step, bool ok);
  /// The server's deadline tick (about once a second): deploy steps that ended finish or fail
  /// their laptops, silent laptops leave, and the scheduler looks for stalls. io errors reading
  /// a step are counted as scheduler errors and retried on the next tick.
  void tick();
  /// Counts chunk bytes the server itself sends (its port's load).
  void server_sent(std::uint64_t bytes);

  /// The assignment the device was last given, nullopt when it is not deploying or relaying.
  std::optional<protocol::SourceAssignment> assignment_of(std::int64_t device) const;
  /// Counters and the plan's figures for /metrics.
  DeploymentStats stats() const;

 private:
  /// A laptop in its deploy step, or past it and relaying.
  struct Member {
    std::int64_t step = 0;  ///< its deploy step
    std::string image_id;
    std::optional<sched::ImageShape> shape;  ///< when the image is known
    bool planned = false;                    ///< the scheduler knows it
    std::string unplanned_why;               ///< why not (the reason it is given)
    std::string ip;                          ///< where its reports come from
    std::uint16_t relay_port = 0;            ///< 0: it does not relay
    bool relaying = false;                   ///< its deploy step is over; it only relays
    bool finished = false;                   ///< the scheduler was told it holds everything
    double last_heard = 0;                   ///< its last report (monotonic clock)
    std::uint64_t chunks_held = 0;
    std::uint64_t bytes_from_server = 0, bytes_from_peers = 0;  ///< this deploy step's tally
    int replans = 0;                      ///< answers that changed its source after the first
    std::vector<std::int64_t> bad_peers;  ///< peers it reported for a bad chunk (reported once)
    std::optional<protocol::SourceAssignment> sent;  ///< the last answer, with its epoch
  };

  static bool restarted(const Member& m, std::int64_t step, const protocol::DeployProgress& report,
                        const std::string& peer_ip);
  Member* join(std::int64_t device, std::int64_t step, const protocol::DeployProgress& report,
               const std::string& peer_ip, double now);
  std::optional<std::string> plannable(Member& m, std::int64_t step,
                                       const protocol::DeployProgress& report);
  Result<std::optional<std::string>> image_name_of(std::int64_t step);
  std::optional<double> disk_rate_of(std::int64_t device);
  std::optional<double> slow_link_of(std::int64_t device);
  void feed_progress(std::int64_t device, Member& m, const protocol::DeployProgress& report,
                     double now);
  void account_bytes(Member& m, const protocol::DeployProgress& report);
  void step_ended(std::int64_t device, Member& m, double now);
  void step_over(std::int64_t device, Member& m, bool done, double now);
  /// Nobody deploys `image_id` any more (every member of it finished or relays).
  bool image_done(const std::string& image_id) const;
  void finish(std::int64_t device, Member& m, double now);
  std::optional<double> relay_linger(const Member& m) const;
  void leave(std::int64_t device, bool failed, double now);
  std::optional<protocol::SourceAssignment> wanted(std::int64_t device, const Member& m) const;
  protocol::SourceAssignment answer(std::int64_t device, Member& m);
  /// Hands the event to the scheduler; false (counted) when it refuses it or there is none.
  bool apply(const sched::Event& event, double now);

  mutable std::mutex mutex_;
  DomainContext& ctx_;
  LiveSteps& live_;
  ImageLookup images_;
  MonotonicClock clock_;
  DeploymentOptions opts_;
  std::optional<sched::Scheduler> scheduler_;
  std::string scheduler_missing_;  ///< why there is no scheduler
  std::map<std::int64_t, Member> members_;
  std::map<std::string, sched::ImageShape> shapes_;  ///< by image id, added lazily
  std::int64_t epoch_ = 0;
  std::uint64_t server_port_bytes_ = 0;
  std::uint64_t bytes_from_server_ = 0, bytes_from_peers_ = 0;
  std::uint64_t source_failures_ = 0, releases_ = 0, scheduler_errors_ = 0;
};

}  // namespace revive::server
