#pragma once
// The workflow runner: enrol, long-poll for the next step, run it, stream progress, post the
// result exactly once; stop cleanly on request. It talks to the server through ServerApi
// (HttpServerApi retries with backoff while the server is away; tests inject a fake).

#include <atomic>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "revive/agent/server_api.hpp"
#include "revive/agent/system.hpp"
#include "revive/signing.hpp"

namespace revive::agent {

namespace screen {
class StatusScreen;
}
namespace checks {
class InputSource;
}

struct RunnerOptions {
  std::string server;  ///< http://host:port (the server API and, for deploy, the chunk source)
  /// The server as the runner sees it; null: an HttpServerApi for `server`. Tests pass a fake.
  ServerApi* server_api = nullptr;
  const MachineRoot* root = nullptr;  ///< "/" or a simulated machine
  const MachineRoot* system =
      nullptr;  ///< always "/": mounts, holders and loop devices of the (real or simulated) disk
  Exec* exec = nullptr;  ///< hardware tools (simulation: recorded answers)
  Exec* disk_exec =
      nullptr;  ///< tools that act on the disk itself (sgdisk, e2fsck, mount): always real
  std::filesystem::path
      disk;  ///< the disk tests read and deploy writes (simulation: a regular file)
  std::optional<PublicKey> server_key;  ///< pinned key that must sign image manifests
  std::uint64_t max_fetch_rate = 0;     ///< bytes/s per connection for image chunks (0: no cap)
  std::string boot_token;               ///< revive.token= from a network boot (sent at enrolment)
  std::filesystem::path
      finish_action_file;  ///< where the finish step's action is written for the live image's init
  bool simulate = false;
  int long_poll_s = 25;
  int cpu_test_ms = 1000;            ///< per CPU test phase
  std::size_t memory_test_mib = 64;  ///< upper bound; also bounded by 5% of available RAM
  std::function<void(const std::string&)> log;  ///< the plain log (the serial console)
  /// The laptop's own screen (null: none, e.g. no console or a simulated laptop).
  screen::StatusScreen* screen = nullptr;
  /// Keys for the checks step (tests: scripted); null: the laptop's keyboards through evdev
  /// (none in simulation).
  checks::InputSource* input = nullptr;
  const std::atomic<bool>* stop = nullptr;
};

/// Runs until the workflow is done (0), cancelled by an operator (3), stopped (4), or a fatal
/// error (1, message logged).
int run_workflow(const RunnerOptions& opts);

}  // namespace revive::agent
