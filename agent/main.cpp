// revive-agent: runs on each network-booted laptop (or, with --simulate, against a machine
// tree and a file disk for tests and the demo).
#include <CLI/CLI.hpp>

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <csignal>
#include <cstdio>
#include <ctime>
#include <exception>

#include "revive/agent/cmdline.hpp"
#include "revive/agent/runner.hpp"
#include "revive/agent/screen/status_screen.hpp"
#include "revive/agent/server_discovery.hpp"
#include "revive/agent/system.hpp"
#include "revive/heap_policy.hpp"

namespace {
std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) { g_stop.store(true); }

// --find-server IFACE: prints the server DHCP names (server_discovery.hpp) for init on a USB
// stick that names none; 1 when none answered, 2 on bad input.
int find_server(const std::string& iface) {
  const std::string text =
      revive::agent::MachineRoot("/").line("sys/class/net/" + iface + "/address");
  const auto mac = revive::agent::parse_mac(text);
  if (iface.find('/') != std::string::npos || !mac) {
    std::fprintf(stderr, "revive-agent: --find-server: %s is not a network interface\n",
                 iface.c_str());
    return 2;
  }
  constexpr int kWaitMs = 6000;
  auto server = revive::agent::find_server_by_dhcp(iface, *mac, kWaitMs);
  if (!server) {
    std::fprintf(stderr, "revive-agent: %s\n", server.error().message.c_str());
    return 1;
  }
  std::printf("%s\n", server->c_str());
  return 0;
}

// --already-done: init on a USB stick found this laptop's workflow done (the server's boot
// script says so). The screen says so and asks for the stick; 1 when there is no screen.
int already_done(const std::string& tty, const std::string& lang, const std::string& workshop) {
  auto display = revive::agent::screen::open_vt_display(tty.empty() ? "/dev/tty1" : tty);
  if (!display) {
    std::fprintf(stderr, "revive-agent: --already-done: %s\n", display.error().message.c_str());
    return 1;
  }
  for (const auto& line : revive::agent::screen::show_already_done(**display, lang, workshop))
    std::printf("%s\n", line.c_str());
  return 0;
}

int run(int argc, char** argv) {
  CLI::App app{
      "revive-agent: wipes, tests, grades and images a donated laptop for a Revive workshop"};
  app.set_version_flag("--version", std::string("revive-agent ") + REVIVE_VERSION);
  bool simulate = false;
  std::string root = "/", disk, server, label, server_key, boot_token, finish_file;
  int long_poll = 25;
  app.add_flag("--simulate", simulate,
               "Simulated laptop: read --root as its machine, use --disk (a regular file or loop "
               "device) as its disk");
  app.add_option("--root", root, "Machine root to read (default /)");
  app.add_option("--disk", disk,
                 "Disk to test and deploy to (simulation: a regular file or loop device)");
  app.add_option("--server", server,
                 "Server URL (default: revive.server= on the kernel command line)");
  app.add_option("--long-poll", long_poll, "Seconds to long-poll the server for work")
      ->default_str("25");
  app.add_option("--server-key", server_key,
                 "Pinned public key that must sign image manifests (live image: baked in)");
  std::uint64_t max_rate = 0;
  app.add_option("--max-fetch-rate", max_rate,
                 "Cap each image download connection at BYTES/s (slow links)");
  app.add_option("--finish-action-file", finish_file,
                 "Write the finish step's action (poweroff|reboot) here for the live image's init");
  app.add_option("--label", label, "Prefix for console lines (the demo runs several agents)");
  std::string boot_token_file;
  app.add_option("--boot-token-file", boot_token_file,
                 "Read the boot token from this file instead of revive.token= (a laptop booted "
                 "from a USB stick: its init fetched the boot script)");
  std::string find_server_iface;
  app.add_option("--find-server", find_server_iface,
                 "Ask DHCP on this interface for the Revive server (as network boot does), print "
                 "its URL and exit (a USB stick that names no server)");
  std::string screen_tty;
  app.add_option("--screen", screen_tty,
                 "Draw the laptop's status screen on this virtual terminal (live image: "
                 "/dev/tty1); the log stays on stdout");
  bool done_before = false;
  std::string lang, workshop;
  app.add_flag("--already-done", done_before,
               "Show on --screen (default /dev/tty1), full screen, that this laptop's workflow is "
               "already done and its USB stick must come out, then exit (init on a stick)");
  app.add_option("--lang", lang, "With --already-done: the screen's language (nl, fr, en)");
  app.add_option("--workshop", workshop, "With --already-done: the workshop's name");
  CLI11_PARSE(app, argc, argv);
  if (!find_server_iface.empty()) return find_server(find_server_iface);
  if (done_before) return already_done(screen_tty, lang, workshop);

  if (!simulate) {
    // Interlock: outside simulation the agent acts only when booted as a Revive live agent.
    revive::agent::MachineRoot sys_root("/");
    const auto cmdline = sys_root.read("proc/cmdline");
    const auto params = revive::agent::parse_cmdline(cmdline ? *cmdline : std::string());
    if (!params.live_agent) {
      std::fprintf(
          stderr,
          "revive-agent: refusing to run: this machine was not booted as a Revive live agent "
          "(no revive.agent=1 on the kernel command line). Use --simulate for tests.\n");
      return 2;
    }
    if (server.empty() && params.server) server = *params.server;
    if (params.token) boot_token = *params.token;
    if (!boot_token_file.empty()) {
      auto token = revive::agent::MachineRoot("/").line(boot_token_file);
      if (token.empty()) {
        std::fprintf(stderr, "revive-agent: --boot-token-file %s: no token in it\n",
                     boot_token_file.c_str());
        return 2;
      }
      boot_token = token;
    }
  } else if (!disk.empty()) {
    // A simulated laptop's disk is a regular file or a loop device (tests), never a real disk.
    struct stat st {};
    constexpr unsigned kLoopMajor = 7;
    const bool ok =
        ::stat(disk.c_str(), &st) == 0 &&
        (S_ISREG(st.st_mode) || (S_ISBLK(st.st_mode) && major(st.st_rdev) == kLoopMajor));
    if (!ok) {
      std::fprintf(stderr,
                   "revive-agent: --simulate needs --disk to be an existing regular file or loop "
                   "device, not %s\n",
                   disk.c_str());
      return 2;
    }
  }
  if (server.empty()) {
    std::fprintf(stderr,
                 "revive-agent: no server: give --server URL (or boot with revive.server=URL)\n");
    return 2;
  }
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  revive::agent::MachineRoot machine(root);
  revive::agent::MachineRoot system("/");
  revive::agent::RealExec real_exec;
  revive::agent::RecordedExec recorded(root);
  revive::agent::RunnerOptions o;
  o.server = server;
  o.root = &machine;
  o.system = &system;
  o.exec = simulate ? static_cast<revive::agent::Exec*>(&recorded) : &real_exec;
  o.disk_exec = &real_exec;  // the simulated disk is a real file or loop device
  o.disk = disk;
  o.simulate = simulate;
  o.long_poll_s = long_poll;
  o.max_fetch_rate = max_rate;
  o.boot_token = boot_token;
  o.finish_action_file = finish_file;
  if (!server_key.empty()) {
    auto pk = revive::load_public_key(server_key);
    if (!pk) {
      std::fprintf(stderr, "revive-agent: --server-key: %s\n", pk.error().message.c_str());
      return 2;
    }
    o.server_key = *pk;
  }
  o.stop = &g_stop;
  o.log = [&](const std::string& line) {
    char ts[16];
    const std::time_t t = std::time(nullptr);
    std::strftime(ts, sizeof ts, "%H:%M:%S", std::localtime(&t));
    std::fprintf(stdout, "%s%s %s\n", label.empty() ? "" : ("[" + label + "] ").c_str(), ts,
                 line.c_str());
    std::fflush(stdout);
  };
  // The screen is a help, never a condition: without a console the agent runs as before.
  std::unique_ptr<revive::agent::screen::Display> display;
  std::unique_ptr<revive::agent::screen::StatusScreen> status_screen;
  if (!screen_tty.empty()) {
    if (auto d = revive::agent::screen::open_vt_display(screen_tty)) {
      display = std::move(*d);
      status_screen =
          std::make_unique<revive::agent::screen::StatusScreen>(*display, system, server);
      status_screen->log_to(o.log);
      o.screen = status_screen.get();
      o.log("status screen on " + screen_tty);
    } else {
      o.log("no status screen: " + d.error().message);
    }
  }
  return revive::agent::run_workflow(o);
}

}  // namespace

// The runner reports failures as results; what still escapes (out of memory, a bug) ends the
// agent with one readable line instead of std::terminate's abort.
int main(int argc, char** argv) {
  revive::keep_freed_heap();
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "revive-agent: stopped by an unexpected error: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "revive-agent: stopped by an unexpected error\n");
  }
  return 1;
}
