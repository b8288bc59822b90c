// `revive-server` command line: flags over the config file, the `operator` subcommands that
// work on the state directory directly, and the daemon itself.
#include <sys/stat.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <cerrno>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <optional>

#include "app/app.hpp"
#include "app/privileges.hpp"
#include "app/state_dir.hpp"
#include "domain/operators.hpp"
#include "domain/services.hpp"
#include "storage/sqlite/sqlite_storage.hpp"

namespace revive::server {

namespace {

// Flags as given (unset ones leave the config file's value alone).
struct Flags {
  std::string config_file, state_dir, store_dir, listen;
  std::optional<int> long_poll, grace;
  std::optional<std::size_t> max_body;
  std::optional<std::int64_t> stall;
  std::optional<unsigned> blocking;
  std::vector<std::string> step_stall;
  bool proxy_dhcp = false, tftp = false, secure_boot = false, demo = false;
  std::string boot_dir, boot_address, boot_listen, kernel_args, dhcp_range, dhcp_router;
  std::optional<std::uint16_t> dhcp_port, pxe_port, tftp_port;
  std::optional<std::int64_t> dhcp_ping_ms, dhcp_offer_burst, dhcp_offer_every_s,
      dhcp_max_pending_offers;
  std::optional<std::int64_t> uplink_mbps, spare_relays;
  bool relay = false;
  std::string operator_name;
  // operators over HTTPS, limits, privileges
  std::string tls_listen, tls_cert, tls_key, user;
  std::optional<std::size_t> max_connections, max_connections_per_address;
  std::optional<std::int64_t> events_keep_days, events_keep_rows, session_ttl;
};

void add_daemon_flags(CLI::App& cli, Flags& f) {
  cli.add_option("--config", f.config_file, "TOML configuration file (flags override it)");
  cli.add_option("--state", f.state_dir, "State directory (database, image store) [state_dir]");
  cli.add_option("--store", f.store_dir, "Image store directory (default: STATE/store) [store]");
  cli.add_option("--listen", f.listen, "HOST:PORT to listen on (default 0.0.0.0:8080) [listen]");
  cli.add_option("--long-poll", f.long_poll,
                 "Longest agent long-poll in seconds (default 30) [long_poll_s]");
  cli.add_option("--max-body", f.max_body,
                 "Largest JSON request body in bytes (default 1 MiB) [max_body_bytes]");
  cli.add_option("--stall-timeout", f.stall,
                 "Seconds without progress before a step fails (default 600) [stall_timeout_s]");
  cli.add_option("--step-stall-timeout", f.step_stall,
                 "Per step kind, e.g. wipe=7200 (repeatable) [step_stall_timeout_s]");
  cli.add_option("--shutdown-grace", f.grace,
                 "Seconds in-flight requests get on SIGTERM (default 10) [shutdown_grace_s]");
  cli.add_option("--blocking-threads", f.blocking,
                 "Threads for imports of finished uploads and grading previews (default 2) "
                 "[blocking_threads]");
}

void add_boot_flags(CLI::App& cli, Flags& f) {
  cli.add_flag("--demo", f.demo,
               "Demo mode: accept simulated wipe evidence and enrolment without a boot token, "
               "admit every machine. Never on a shared network (docs/SECURITY.md) [demo]");
  cli.add_flag("--proxy-dhcp", f.proxy_dhcp,
               "Answer PXE and HTTP-boot clients next to the workshop's DHCP server (UDP 67, 4011) "
               "[boot.proxy_dhcp]");
  cli.add_flag("--tftp", f.tftp, "Serve the boot binaries over TFTP (UDP 69) [boot.tftp]");
  cli.add_flag("--secure-boot", f.secure_boot,
               "UEFI laptops get Debian's signed shim → GRUB → kernel [boot.secure_boot]");
  cli.add_option("--boot-dir", f.boot_dir,
                 "Boot files: DIR/tftp and DIR/live (default STATE/boot) [boot.dir]");
  cli.add_option(
      "--boot-address", f.boot_address,
      "IPv4 address laptops reach this server at (default: per interface) [boot.address]");
  cli.add_option("--boot-listen", f.boot_listen,
                 "Address the boot services bind (default 0.0.0.0) [boot.listen]");
  cli.add_option("--boot-kernel-args", f.kernel_args,
                 "Extra kernel arguments for the live agent [boot.kernel_args]");
  cli.add_option("--dhcp-range", f.dhcp_range,
                 "Full DHCP on an isolated network: hand out FIRST-LAST (instead of proxyDHCP) "
                 "[boot.dhcp_range]");
  cli.add_option("--dhcp-router", f.dhcp_router,
                 "Default gateway to hand out with --dhcp-range [boot.dhcp_router]");
  cli.add_option("--dhcp-ping-ms", f.dhcp_ping_ms,
                 "With --dhcp-range: ping an address this long before offering it; 0 = off "
                 "(default 500) [boot.dhcp_ping_ms]")
      ->check(CLI::Range(0, 5000));
  cli.add_option("--dhcp-offer-burst", f.dhcp_offer_burst,
                 "With --dhcp-range: new offers one MAC or client-id may cause at once "
                 "(default 6) [boot.dhcp_offer_burst]")
      ->check(CLI::Range(1, 1000));
  cli.add_option("--dhcp-offer-every", f.dhcp_offer_every_s,
                 "With --dhcp-range: seconds a client waits for each new offer past its burst "
                 "(default 10) [boot.dhcp_offer_every_s]")
      ->check(CLI::Range(0, 3600));
  cli.add_option("--dhcp-max-pending-offers", f.dhcp_max_pending_offers,
                 "With --dhcp-range: offers that may wait for their REQUEST at once; 0 = half "
                 "the range, at least 16 (default 0) [boot.dhcp_max_pending_offers]")
      ->check(CLI::Range(0, 65536));
  cli.add_option("--dhcp-port", f.dhcp_port, "proxyDHCP port (default 67; tests) [boot.dhcp_port]");
  cli.add_option("--pxe-port", f.pxe_port,
                 "PXE boot-server port (default 4011; tests) [boot.pxe_port]");
  cli.add_option("--tftp-port", f.tftp_port, "TFTP port (default 69; tests) [boot.tftp_port]");
}

void add_security_flags(CLI::App& cli, Flags& f) {
  cli.add_option("--tls-listen", f.tls_listen,
                 "HOST:PORT of the HTTPS listener for operators and the dashboard (default: the "
                 "--listen host, port 8443; \"off\": none) [tls_listen]");
  cli.add_option("--tls-cert", f.tls_cert,
                 "The workshop's own TLS certificate (PEM, with its chain); default: "
                 "STATE/tls/cert.pem, made on first start [tls_cert]");
  cli.add_option("--tls-key", f.tls_key, "The key of --tls-cert (PEM, mode 0600) [tls_key]");
  cli.add_option("--user", f.user,
                 "Started as root: the account to run as once the ports are bound, without any "
                 "capability (default revive; \"root\" keeps root, not recommended) [user]");
  cli.add_option("--max-connections", f.max_connections,
                 "Open HTTP connections at most (default 4096, and below the descriptor limit) "
                 "[max_connections]");
  cli.add_option("--max-connections-per-address", f.max_connections_per_address,
                 "Open HTTP connections from one client address at most (default 64; not "
                 "counted for 127.0.0.1 and ::1) [max_connections_per_address]");
  cli.add_option("--session-ttl", f.session_ttl,
                 "Seconds an operator's login lasts, revivectl's or the operator pages' "
                 "(default 43200) [session_ttl_s]")
      ->check(CLI::Range(1, 7 * 86400));
  cli.add_option("--events-keep-days", f.events_keep_days,
                 "Days the event log keeps an event (default 180) [events_keep_days]");
  cli.add_option("--events-keep-rows", f.events_keep_rows,
                 "Events the log keeps at most (default 1000000) [events_keep_rows]");
}

void add_deploy_flags(CLI::App& cli, Flags& f) {
  cli.add_option("--uplink-mbps", f.uplink_mbps,
                 "The server port's rate the deployment scheduler plans with, Mbit/s (default: "
                 "the listening interface's speed, else 1000) [deploy.uplink_mbps]")
      ->check(CLI::Range(1, 1'000'000));
  cli.add_flag("--relay", f.relay,
               "Deploying laptops relay chunks to each other as the deployment scheduler plans "
               "(default: off, every laptop fetches from the server) [deploy.relay = true]");
  cli.add_option("--spare-finished-relays", f.spare_relays,
                 "Finished laptops kept relaying per image while others deploy it (default 0) "
                 "[deploy.spare_finished_relays]")
      ->check(CLI::Range(0, 1000));
}

template <class T, class U>
void set_if(const std::optional<T>& flag, U& field) {
  if (flag) field = static_cast<U>(*flag);
}
void set_if(const std::string& flag, std::string& field) {
  if (!flag.empty()) field = flag;
}
void set_if(const std::string& flag, std::filesystem::path& field) {
  if (!flag.empty()) field = flag;
}

/// Flags over the config; false (after saying why) for a malformed --step-stall-timeout.
bool apply_flags(const Flags& f, ServerConfig& cfg) {
  set_if(f.state_dir, cfg.state_dir);
  set_if(f.store_dir, cfg.store_dir);
  set_if(f.listen, cfg.listen);
  set_if(f.long_poll, cfg.long_poll_s);
  set_if(f.max_body, cfg.max_body_bytes);
  set_if(f.stall, cfg.stall_timeout_s);
  set_if(f.grace, cfg.shutdown_grace_s);
  set_if(f.session_ttl, cfg.session_ttl_s);
  if (f.blocking) cfg.blocking_threads = std::max(1u, *f.blocking);
  cfg.demo = cfg.demo || f.demo;
  cfg.proxy_dhcp = cfg.proxy_dhcp || f.proxy_dhcp;
  cfg.tftp = cfg.tftp || f.tftp;
  cfg.secure_boot = cfg.secure_boot || f.secure_boot;
  set_if(f.boot_dir, cfg.boot_dir);
  set_if(f.boot_address, cfg.boot_address);
  set_if(f.boot_listen, cfg.boot_listen);
  set_if(f.kernel_args, cfg.boot_kernel_args);
  set_if(f.dhcp_port, cfg.dhcp_port);
  set_if(f.dhcp_ping_ms, cfg.dhcp_ping_ms);
  set_if(f.dhcp_offer_burst, cfg.dhcp_offer_burst);
  set_if(f.dhcp_offer_every_s, cfg.dhcp_offer_every_s);
  set_if(f.dhcp_max_pending_offers, cfg.dhcp_max_pending_offers);
  set_if(f.dhcp_range, cfg.dhcp_range);
  set_if(f.dhcp_router, cfg.dhcp_router);
  set_if(f.pxe_port, cfg.pxe_port);
  set_if(f.tftp_port, cfg.tftp_port);
  set_if(f.tls_listen, cfg.tls_listen);
  set_if(f.tls_cert, cfg.tls_cert);
  set_if(f.tls_key, cfg.tls_key);
  set_if(f.user, cfg.user);
  set_if(f.max_connections, cfg.max_connections);
  set_if(f.max_connections_per_address, cfg.max_connections_per_address);
  set_if(f.events_keep_days, cfg.events_keep_days);
  set_if(f.events_keep_rows, cfg.events_keep_rows);
  set_if(f.uplink_mbps, cfg.uplink_mbps);
  set_if(f.spare_relays, cfg.spare_finished_relays);
  if (f.relay) cfg.relay = true;
  for (const auto& kv : f.step_stall) {
    const auto eq = kv.find('=');
    std::int64_t secs = 0;
    try {
      secs = eq == std::string::npos ? 0 : std::stoll(kv.substr(eq + 1));
    } catch (const std::exception&) {
      secs = 0;
    }
    if (secs <= 0) {
      std::fprintf(stderr,
                   "revive-server: error: --step-stall-timeout wants KIND=SECONDS, got \"%s\"\n",
                   kv.c_str());
      return false;
    }
    cfg.step_stall_timeout_s[kv.substr(0, eq)] = secs;
  }
  return true;
}

int die(const Error& e) {
  std::fprintf(stderr, "revive-server: error: %s\n", e.message.c_str());
  return 1;
}

Seconds wall_clock() { return static_cast<Seconds>(std::time(nullptr)); }

/// Run as root, a subcommand that writes the state becomes the daemon's account first (the
/// same plan and drop as the daemon's, app/privileges.hpp): what it creates (the database and
/// its journal files) is then the account's at once, not root's until the next start. Not
/// root, or `--user root`: nothing to do.
Result<void> become_service_account(const ServerConfig& cfg, const PrivilegePlan& plan) {
  if (!plan.become) return {};
  const Account& account = *plan.become;
  auto given = give_to(account, {cfg.state_dir});
  if (!given) return given.error().with_context("giving the state to user " + account.name);
  if (auto r = drop_privileges(plan); !r) return r.error().with_context("dropping privileges");
  if (::access(cfg.state_dir.c_str(), R_OK | W_OK | X_OK) != 0)
    return errno_error(errno, "user " + account.name + " cannot use " + cfg.state_dir.string() +
                                  " (let it search every directory above it)");
  return {};
}

/// `operator add NAME` (password on stdin) or `operator token NAME`, on the state directory.
int operator_command(const ServerConfig& cfg, const std::string& name, bool add) {
  // Decided first, as the daemon does: a missing account stops it before anything is made.
  auto plan = plan_privileges(cfg.user, ::geteuid());
  if (!plan) return die(plan.error());
  auto state = prepare_state_dir(cfg.state_dir);
  if (!state) return die(state.error());
  if (auto r = become_service_account(cfg, *plan); !r) return die(r.error());
  if (auto r = init_crypto(); !r) return die(r.error());
  auto storage = sqlite::open_storage(cfg.state_dir / "revive.db");
  if (!storage) return die(storage.error());
  DomainContext ctx(**storage, wall_clock);
  Operators operators(ctx);
  if (add) {
    std::string password;
    std::getline(std::cin, password);
    if (auto r = operators.add(name, password); !r) return die(r.error());
    std::printf("operator %s is ready; log in with `revivectl login --server URL --user %s`\n",
                name.c_str(), name.c_str());
    return 0;
  }
  auto t = operators.create_api_token(name, "cli");
  if (!t) return die(t.error());
  std::printf("%s\n", t->c_str());
  return 0;
}

void hint_first_operator(const ServerConfig& cfg) {
  auto storage = sqlite::open_storage(cfg.state_dir / "revive.db");
  if (!storage) return;
  auto n = (*storage)->operators().count();
  if (n && *n == 0) {
    std::fprintf(stderr,
                 "revive-server: no operator account yet. Create the first one with:\n"
                 "  echo 'a-long-password' | revive-server --state %s operator add NAME\n",
                 cfg.state_dir.string().c_str());
  }
}

int serve(const ServerConfig& cfg) {
  App app(cfg);
  if (auto r = app.start(); !r) return die(r.error());
  std::fprintf(stderr, "revive-server %s: listening on %s port %u, state in %s\n", REVIVE_VERSION,
               cfg.listen.substr(0, cfg.listen.rfind(':')).c_str(), app.port(),
               cfg.state_dir.string().c_str());
  std::fprintf(stderr, "revive-server: %s\n", app.deployments_line().c_str());
  if (!app.tls_made().empty()) std::fprintf(stderr, "revive-server: %s\n", app.tls_made().c_str());
  if (app.tls_port() != 0)
    std::fprintf(stderr, "revive-server: operators: HTTPS on port %u, key pin %s\n", app.tls_port(),
                 app.tls_pin().c_str());
  std::fflush(stderr);
  hint_first_operator(cfg);
  app.run();
  std::fprintf(stderr, "revive-server: stopped\n");
  return 0;
}

}  // namespace

int run_server_main(int argc, char** argv) {
  CLI::App cli{"revive-server: the Revive workshop imaging server"};
  cli.set_version_flag("--version", std::string("revive-server ") + REVIVE_VERSION);
  Flags f;
  add_daemon_flags(cli, f);
  add_boot_flags(cli, f);
  add_security_flags(cli, f);
  add_deploy_flags(cli, f);
  auto* op =
      cli.add_subcommand("operator", "Manage operator accounts directly in the state directory");
  auto* op_add = op->add_subcommand(
      "add", "Create an operator (or set a new password); reads the password from stdin");
  op_add->add_option("name", f.operator_name, "Operator name")->required();
  auto* tok = op->add_subcommand("token", "Print a new API token for an operator (for scripts)");
  tok->add_option("name", f.operator_name, "Operator name")->required();
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = cli.exit(e);
    return rc == 0 ? 0 : 2;
  }
  ServerConfig cfg;
  if (!f.config_file.empty()) {
    if (auto r = load_config_file(f.config_file, cfg); !r) return die(r.error());
  }
  if (!apply_flags(f, cfg)) return 2;
  if (cfg.state_dir.empty()) {
    std::fprintf(
        stderr,
        "revive-server: error: no state directory: use --state DIR (or state_dir in --config)\n");
    return 2;
  }
  // Everything the server writes (database, keys, boot tokens, uploads) is its own: files it
  // creates are owner-only whatever the service manager's umask (issue 15).
  ::umask(0077);
  if (op->parsed()) return operator_command(cfg, f.operator_name, op_add->parsed());
  return serve(cfg);
}

}  // namespace revive::server
