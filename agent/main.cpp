// revive-agent: runs on each network-booted laptop. Inventory, tests and the workflow runner
// arrive in issue #4, the wipe engine in #6, deploy in #5; until then the binary reports what
// it found on the kernel command line and refuses to act.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "revive/agent/cmdline.hpp"

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--version") == 0) {
      std::printf("revive-agent %s\n", REVIVE_VERSION);
      return 0;
    }
  }
  std::ifstream in("/proc/cmdline");
  std::stringstream ss;
  ss << in.rdbuf();
  const auto params = revive::agent::parse_cmdline(ss.str());
  std::fprintf(stderr, "revive-agent: booted as live agent: %s; server: %s\n",
               params.live_agent ? "yes" : "no", params.server ? params.server->c_str() : "(none)");
  std::fprintf(stderr,
               "revive-agent: the workflow runner is not implemented yet (tracked in issue #4); "
               "doing nothing.\n");
  return 2;
}
