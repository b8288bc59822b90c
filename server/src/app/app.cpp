#include "app.hpp"

#include <toml++/toml.h>
#include <CLI/CLI.hpp>
#include <boost/asio.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <optional>

#include "api.hpp"
#include "boot_services.hpp"
#include "http_server.hpp"
#include "revive/file_util.hpp"
#include "revive/image_store.hpp"
#include "state.hpp"

namespace revive::server {

namespace asio = boost::asio;

Result<std::pair<std::string, std::uint16_t>> parse_listen(const std::string& s) {
  const auto colon = s.rfind(':');
  if (colon == std::string::npos || colon + 1 == s.size()) {
    return make_error(Errc::invalid_input, "listen address \"" + s + "\" must be HOST:PORT");
  }
  std::string host = s.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  unsigned long port = 0;
  try {
    std::size_t used = 0;
    port = std::stoul(s.substr(colon + 1), &used);
    if (used != s.size() - colon - 1 || port > 65535) throw std::out_of_range("port");
  } catch (const std::exception&) {
    return make_error(Errc::invalid_input,
                      "listen port in \"" + s + "\" is not a number from 0 to 65535");
  }
  return std::make_pair(host.empty() ? std::string("0.0.0.0") : host,
                        static_cast<std::uint16_t>(port));
}

Result<void> load_config_file(const std::filesystem::path& path, ServerConfig& cfg) {
  toml::table t;
  try {
    t = toml::parse_file(path.string());
  } catch (const toml::parse_error& e) {
    return make_error(Errc::invalid_input, path.string() + ":" +
                                               std::to_string(e.source().begin.line) + ": " +
                                               std::string(e.description()));
  }
  auto bad = [&](const std::string& key, const std::string& want) {
    return make_error(Errc::invalid_input, path.string() + ": \"" + key + "\" must be " + want);
  };
  for (auto&& [k, v] : t) {
    const std::string key(k.str());
    if (key == "state_dir" || key == "store" || key == "listen") {
      auto s = v.value<std::string>();
      if (!s) return bad(key, "a string");
      if (key == "state_dir") cfg.state_dir = *s;
      if (key == "store") cfg.store_dir = *s;
      if (key == "listen") cfg.listen = *s;
    } else if (key == "long_poll_s" || key == "max_body_bytes" || key == "shutdown_grace_s" ||
               key == "stall_timeout_s" || key == "blocking_threads") {
      auto n = v.value<std::int64_t>();
      if (!n || *n < 0) return bad(key, "a non-negative integer");
      if (key == "long_poll_s") cfg.long_poll_s = static_cast<int>(*n);
      if (key == "max_body_bytes") cfg.max_body_bytes = static_cast<std::size_t>(*n);
      if (key == "shutdown_grace_s") cfg.shutdown_grace_s = static_cast<int>(*n);
      if (key == "stall_timeout_s") cfg.stall_timeout_s = *n;
      if (key == "blocking_threads")
        cfg.blocking_threads = static_cast<unsigned>(std::max<std::int64_t>(1, *n));
    } else if (key == "step_stall_timeout_s") {
      const auto* tbl = v.as_table();
      if (!tbl) return bad(key, "a table of step = seconds");
      for (auto&& [sk, sv] : *tbl) {
        auto n = sv.value<std::int64_t>();
        if (!n || *n <= 0) return bad(key + "." + std::string(sk.str()), "a positive integer");
        cfg.step_stall_timeout_s[std::string(sk.str())] = *n;
      }
    } else if (key == "boot") {
      const auto* tbl = v.as_table();
      if (!tbl) return bad(key, "a table");
      for (auto&& [bk, bv] : *tbl) {
        const std::string b(bk.str());
        const std::string full = "boot." + b;
        if (b == "proxy_dhcp" || b == "tftp" || b == "secure_boot") {
          auto f = bv.value<bool>();
          if (!f) return bad(full, "true or false");
          (b == "proxy_dhcp" ? cfg.proxy_dhcp : b == "tftp" ? cfg.tftp : cfg.secure_boot) = *f;
        } else if (b == "dir" || b == "address" || b == "listen" || b == "kernel_args" ||
                   b == "dhcp_range" || b == "dhcp_router" || b == "dhcp_netmask") {
          auto str = bv.value<std::string>();
          if (!str) return bad(full, "a string");
          if (b == "dhcp_range") cfg.dhcp_range = *str;
          if (b == "dhcp_router") cfg.dhcp_router = *str;
          if (b == "dhcp_netmask") cfg.dhcp_netmask = *str;
          if (b == "dir") cfg.boot_dir = *str;
          if (b == "address") cfg.boot_address = *str;
          if (b == "listen") cfg.boot_listen = *str;
          if (b == "kernel_args") cfg.boot_kernel_args = *str;
        } else if (b == "dhcp_ping_ms") {
          auto n = bv.value<std::int64_t>();
          if (!n || *n < 0 || *n > 5000) return bad(full, "milliseconds from 0 (off) to 5000");
          cfg.dhcp_ping_ms = *n;
        } else if (b == "dhcp_lease_s") {
          auto n = bv.value<std::int64_t>();
          if (!n || *n < 60 || *n > 7 * 86400) return bad(full, "seconds from 60 to 604800");
          cfg.dhcp_lease_s = *n;
        } else if (b == "dhcp_port" || b == "pxe_port" || b == "tftp_port") {
          auto n = bv.value<std::int64_t>();
          if (!n || *n < 0 || *n > 65535) return bad(full, "a port number");
          (b == "dhcp_port"  ? cfg.dhcp_port
           : b == "pxe_port" ? cfg.pxe_port
                             : cfg.tftp_port) = static_cast<std::uint16_t>(*n);
        } else {
          return make_error(Errc::invalid_input,
                            path.string() + ": unknown setting \"" + full + "\"");
        }
      }
    } else {
      return make_error(Errc::invalid_input, path.string() + ": unknown setting \"" + key + "\"");
    }
  }
  return {};
}

namespace {

// Boot binaries from Debian packages, copied into the TFTP root (a symlink out of the root would
// be refused by the TFTP server, as it should be). Missing packages are reported, not fatal.
struct BootBinary {
  const char* name;
  const char* source;
  const char* package;
};
constexpr BootBinary kBootBinaries[] = {
    {"undionly.kpxe", "/usr/lib/ipxe/undionly.kpxe", "ipxe"},
    {"snponly.efi", "/usr/lib/ipxe/snponly.efi", "ipxe"},
    {"ipxe.efi", "/usr/lib/ipxe/ipxe.efi", "ipxe"},
    {"shimx64.efi", "/usr/lib/shim/shimx64.efi.signed", "shim-signed"},
    {"grubx64.efi", "/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed",
     "grub-efi-amd64-signed"},
};

// DHCP leases: a small JSON file, replaced atomically on every change.
Result<std::vector<boot::Lease>> load_leases(const std::filesystem::path& path) {
  std::vector<boot::Lease> out;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return out;
  std::ifstream f(path);
  const nlohmann::json j = nlohmann::json::parse(f, nullptr, false);
  if (j.is_discarded() || !j.is_array())
    return make_error(Errc::corrupt, path.string() + " is not a JSON array of leases");
  for (const auto& l : j) {
    auto ip = boot::parse_ipv4(l.value("ip", std::string()));
    if (!ip || !l.value("mac", nlohmann::json()).is_string() ||
        !l.value("expires", nlohmann::json()).is_number_integer()) {
      return make_error(Errc::corrupt, path.string() + ": a lease lacks mac, ip or expires");
    }
    out.push_back({l["mac"].get<std::string>(), *ip, l["expires"].get<std::int64_t>()});
  }
  return out;
}

Result<void> save_leases(const std::filesystem::path& path,
                         const std::vector<boot::Lease>& leases) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& l : leases)
    j.push_back({{"mac", l.mac}, {"ip", boot::ip_to_string(l.ip)}, {"expires", l.expires}});
  const std::string text = j.dump(1) + "\n";
  return write_file_atomic(path, std::as_bytes(std::span(text.data(), text.size())),
                           path.parent_path());
}

Result<void> prepare_boot_dir(const std::filesystem::path& dir, bool report,
                              const std::function<void(const std::string&)>& log) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir / "tftp", ec);
  if (!ec) fs::create_directories(dir / "live", ec);
  if (ec) return make_error(Errc::io, "create " + dir.string() + ": " + ec.message());
  std::string missing;
  for (const auto& b : kBootBinaries) {
    const auto to = dir / "tftp" / b.name;
    if (fs::exists(to, ec)) continue;
    if (!fs::exists(b.source, ec)) {
      missing +=
          std::string(missing.empty() ? "" : ", ") + b.name + " (Debian package " + b.package + ")";
      continue;
    }
    fs::copy_file(b.source, to, ec);
    if (ec)
      return make_error(
          Errc::io, std::string("copy ") + b.source + " to " + to.string() + ": " + ec.message());
  }
  if (!report) return {};
  if (!missing.empty()) log("boot: not available: " + missing);
  if (!fs::exists(dir / "live" / "vmlinuz", ec) || !fs::exists(dir / "live" / "initrd.img", ec)) {
    log("boot: no live agent image in " + (dir / "live").string() +
        " yet: build it with provisioning/build-live-image");
  }
  return {};
}

}  // namespace

struct App::Impl {
  ServerConfig cfg;
  asio::io_context io{1};
  asio::thread_pool pool;
  asio::signal_set signals{io, SIGINT, SIGTERM};
  asio::steady_timer deadline_timer{io};
  Metrics metrics;
  std::unique_ptr<ImageStore> images;
  std::unique_ptr<StateStore> state;
  std::unique_ptr<Api> api;
  std::unique_ptr<HttpServer> http;
  std::unique_ptr<BootServices> boot;
  bool stopping = false;

  explicit Impl(ServerConfig c) : cfg(std::move(c)), pool(std::max(1u, cfg.blocking_threads)) {}

  void tick_deadlines() {
    deadline_timer.expires_after(std::chrono::seconds(1));
    deadline_timer.async_wait([this](boost::system::error_code ec) {
      if (ec || stopping) return;
      auto expired = state->expire_deadlines();
      if (!expired)
        std::fprintf(stderr, "revive-server: deadline check failed: %s\n",
                     expired.error().message.c_str());
      tick_deadlines();
    });
  }

  void begin_shutdown() {
    if (stopping) return;
    stopping = true;
    std::fprintf(stderr, "revive-server: shutting down (in-flight requests get %d s to finish)\n",
                 cfg.shutdown_grace_s);
    deadline_timer.cancel();
    signals.cancel();
    if (boot) boot->stop();
    http->shutdown(std::chrono::seconds(cfg.shutdown_grace_s), [this] { io.stop(); });
  }
};

App::App(ServerConfig cfg) : impl_(std::make_unique<Impl>(std::move(cfg))) {}
App::~App() { impl_->pool.join(); }

Result<void> App::start() {
  auto& i = *impl_;
  if (i.cfg.state_dir.empty())
    return make_error(Errc::invalid_input, "no state directory (--state DIR)");
  std::error_code ec;
  std::filesystem::create_directories(i.cfg.state_dir, ec);
  if (ec) return make_error(Errc::io, "create " + i.cfg.state_dir.string() + ": " + ec.message());
  if (i.cfg.store_dir.empty()) i.cfg.store_dir = i.cfg.state_dir / "store";
  auto listen = parse_listen(i.cfg.listen);
  if (!listen) return listen.error();
  auto images = ImageStore::open(i.cfg.store_dir, true);
  if (!images) return images.error().with_context("image store");
  i.images = std::move(*images);
  StateOptions so;
  so.default_stall_timeout_s = i.cfg.stall_timeout_s;
  so.stall_timeout_s = i.cfg.step_stall_timeout_s;
  auto state = StateStore::open(
      i.cfg.state_dir / "revive.db", [] { return static_cast<std::int64_t>(std::time(nullptr)); },
      so);
  if (!state) return state.error().with_context("state database");
  i.state = std::move(*state);
  REVIVE_TRY(i.state->load_running_steps());

  ApiHooks hooks;
  hooks.notify = [&i](const std::string& key) { i.http->notify(key); };
  hooks.run_blocking = [&i](std::function<void()> work, std::function<void()> done) {
    asio::post(i.pool, [&i, work = std::move(work), done = std::move(done)]() mutable {
      work();
      asio::post(i.io, std::move(done));
    });
  };
  ApiOptions ao;
  ao.max_long_poll_s = i.cfg.long_poll_s;
  if (i.cfg.boot_dir.empty()) i.cfg.boot_dir = i.cfg.state_dir / "boot";
  auto log = [](const std::string& line) {
    std::fprintf(stderr, "revive-server: %s\n", line.c_str());
    std::fflush(stderr);
  };
  REVIVE_TRY(prepare_boot_dir(i.cfg.boot_dir, i.cfg.proxy_dhcp || i.cfg.tftp, log));
  ao.boot_dir = i.cfg.boot_dir;
  ao.boot_kernel_args = i.cfg.boot_kernel_args;
  i.api = std::make_unique<Api>(*i.state, *i.images, i.metrics, hooks, ao);
  HttpOptions ho;
  ho.host = listen->first;
  ho.port = listen->second;
  ho.max_body_bytes = i.cfg.max_body_bytes;
  ho.upload_dir = i.images->tmp_dir();
  ho.is_upload = &Api::is_upload;
  ho.upload_precheck = [&i](const Request& r) { return i.api->upload_precheck(r); };
  i.http = std::make_unique<HttpServer>(
      i.io, ho, [&i](Request& r, std::string& route) { return i.api->handle(r, route); },
      i.metrics);
  REVIVE_TRY(i.http->start());
  if (i.cfg.proxy_dhcp || i.cfg.tftp || !i.cfg.dhcp_range.empty()) {
    BootServiceOptions bo;
    if (!i.cfg.dhcp_range.empty()) {
      auto range = boot::parse_ip_range(i.cfg.dhcp_range);
      if (!range) return range.error().with_context("DHCP range");
      auto mask = boot::parse_ipv4(i.cfg.dhcp_netmask);
      if (!mask) return mask.error().with_context("DHCP netmask");
      boot::DhcpPoolConfig pc{range->first, range->second, *mask, std::nullopt,
                              static_cast<std::uint32_t>(i.cfg.dhcp_lease_s)};
      if (!i.cfg.dhcp_router.empty()) {
        auto r = boot::parse_ipv4(i.cfg.dhcp_router);
        if (!r) return r.error().with_context("DHCP router");
        pc.router = *r;
      }
      bo.dhcp_pool = pc;
      bo.dhcp_ping = std::chrono::milliseconds(i.cfg.dhcp_ping_ms);
      auto leases = load_leases(i.cfg.state_dir / "dhcp-leases.json");
      if (!leases) return leases.error();
      bo.leases = std::move(*leases);
      bo.save_leases = [path = i.cfg.state_dir / "dhcp-leases.json"](
                           const std::vector<boot::Lease>& l) { return save_leases(path, l); };
    }
    bo.proxy_dhcp = i.cfg.proxy_dhcp;
    bo.tftp = i.cfg.tftp;
    bo.listen_address = i.cfg.boot_listen;
    bo.dhcp_port = i.cfg.dhcp_port;
    bo.pxe_port = i.cfg.pxe_port;
    bo.tftp_port = i.cfg.tftp_port;
    bo.tftp_root = i.cfg.boot_dir / "tftp";
    if (!i.cfg.boot_address.empty()) {
      auto ip = boot::parse_ipv4(i.cfg.boot_address);
      if (!ip) return ip.error().with_context("boot address");
      bo.boot.server_ip = *ip;
    }
    bo.boot.http_port = i.http->port();
    bo.extra_roots = {{"live/", i.cfg.boot_dir / "live"}};  // GRUB loads the live image over TFTP
    bo.offer_network_boot = [&i](const std::string& mac) { return i.api->offer_network_boot(mac); };
    bo.generated = [&i](const std::string& name, const std::string& base) {
      return i.api->generated_boot_file(name, base);
    };
    bo.boot.secure_boot = i.cfg.secure_boot;
    bo.log = log;
    i.boot = std::make_unique<BootServices>(i.io, bo);
    REVIVE_TRY(i.boot->start());
    i.metrics.add_source([&i] { return render_boot_metrics(i.boot->counters()); });
    if (bo.dhcp_pool)
      log("boot services: full DHCP for " + i.cfg.dhcp_range + " (" +
          std::to_string(bo.leases.size()) + " leases kept)");
    log("boot services: proxyDHCP " +
        (i.cfg.proxy_dhcp ? "on ports " + std::to_string(i.boot->dhcp_port()) + " and " +
                                std::to_string(i.boot->pxe_port())
                          : std::string("off")) +
        ", TFTP " +
        (i.cfg.tftp
             ? "on port " + std::to_string(i.boot->tftp_port()) + " from " + bo.tftp_root.string()
             : std::string("off")));
  }
  i.state->set_change_listener([&i](std::int64_t device, const Json& snapshot) {
    i.http->notify("device:" + std::to_string(device));
    i.http->publish("device", snapshot.dump());
  });
  i.state->set_progress_listener([&i](std::int64_t device, std::int64_t step, const Json& p) {
    i.http->publish("progress", Json{{"device", device}, {"step", step}, {"progress", p}}.dump());
  });
  i.signals.async_wait([&i](boost::system::error_code sec, int) {
    if (!sec) i.begin_shutdown();
  });
  i.tick_deadlines();
  return {};
}

std::uint16_t App::port() const { return impl_->http->port(); }
std::uint16_t App::dhcp_port() const { return impl_->boot ? impl_->boot->dhcp_port() : 0; }
std::uint16_t App::tftp_port() const { return impl_->boot ? impl_->boot->tftp_port() : 0; }

void App::run() { impl_->io.run(); }

void App::stop() {
  asio::post(impl_->io, [this] { impl_->begin_shutdown(); });
}

int run_server_main(int argc, char** argv) {
  CLI::App cli{"revive-server: the Revive workshop imaging server"};
  cli.set_version_flag("--version", std::string("revive-server ") + REVIVE_VERSION);
  ServerConfig cfg;
  std::string config_file, state_dir, store_dir, listen;
  std::optional<int> long_poll, grace;
  std::optional<std::size_t> max_body;
  std::optional<std::int64_t> stall;
  std::optional<unsigned> blocking;
  std::vector<std::string> step_stall;
  bool proxy_dhcp = false, tftp = false, secure_boot = false;
  std::string boot_dir, boot_address, boot_listen, kernel_args, dhcp_range, dhcp_router;
  std::optional<std::uint16_t> dhcp_port, pxe_port, tftp_port;
  std::optional<std::int64_t> dhcp_ping_ms;
  cli.add_option("--config", config_file, "TOML configuration file (flags override it)");
  cli.add_option("--state", state_dir, "State directory (database, image store) [state_dir]");
  cli.add_option("--store", store_dir, "Image store directory (default: STATE/store) [store]");
  cli.add_option("--listen", listen, "HOST:PORT to listen on (default 0.0.0.0:8080) [listen]");
  cli.add_option("--long-poll", long_poll,
                 "Longest agent long-poll in seconds (default 30) [long_poll_s]");
  cli.add_option("--max-body", max_body,
                 "Largest JSON request body in bytes (default 1 MiB) [max_body_bytes]");
  cli.add_option("--stall-timeout", stall,
                 "Seconds without progress before a step fails (default 600) [stall_timeout_s]");
  cli.add_option("--step-stall-timeout", step_stall,
                 "Per step kind, e.g. wipe=7200 (repeatable) [step_stall_timeout_s]");
  cli.add_option("--shutdown-grace", grace,
                 "Seconds in-flight requests get on SIGTERM (default 10) [shutdown_grace_s]");
  cli.add_option("--blocking-threads", blocking,
                 "Threads for blocking work such as imports (default 2) [blocking_threads]");
  cli.add_flag("--proxy-dhcp", proxy_dhcp,
               "Answer PXE and HTTP-boot clients next to the workshop's DHCP server (UDP 67, 4011) "
               "[boot.proxy_dhcp]");
  cli.add_flag("--tftp", tftp, "Serve the boot binaries over TFTP (UDP 69) [boot.tftp]");
  cli.add_flag("--secure-boot", secure_boot,
               "UEFI laptops get Debian's signed shim → GRUB → kernel [boot.secure_boot]");
  cli.add_option("--boot-dir", boot_dir,
                 "Boot files: DIR/tftp and DIR/live (default STATE/boot) [boot.dir]");
  cli.add_option(
      "--boot-address", boot_address,
      "IPv4 address laptops reach this server at (default: per interface) [boot.address]");
  cli.add_option("--boot-listen", boot_listen,
                 "Address the boot services bind (default 0.0.0.0) [boot.listen]");
  cli.add_option("--boot-kernel-args", kernel_args,
                 "Extra kernel arguments for the live agent [boot.kernel_args]");
  cli.add_option("--dhcp-range", dhcp_range,
                 "Full DHCP on an isolated network: hand out FIRST-LAST (instead of proxyDHCP) "
                 "[boot.dhcp_range]");
  cli.add_option("--dhcp-router", dhcp_router,
                 "Default gateway to hand out with --dhcp-range [boot.dhcp_router]");
  cli.add_option("--dhcp-ping-ms", dhcp_ping_ms,
                 "With --dhcp-range: ping an address this long before offering it; 0 = off "
                 "(default 500) [boot.dhcp_ping_ms]")
      ->check(CLI::Range(0, 5000));
  cli.add_option("--dhcp-port", dhcp_port, "proxyDHCP port (default 67; tests) [boot.dhcp_port]");
  cli.add_option("--pxe-port", pxe_port,
                 "PXE boot-server port (default 4011; tests) [boot.pxe_port]");
  cli.add_option("--tftp-port", tftp_port, "TFTP port (default 69; tests) [boot.tftp_port]");
  auto* op =
      cli.add_subcommand("operator", "Manage operator accounts directly in the state directory");
  auto* op_add = op->add_subcommand(
      "add", "Create an operator (or set a new password); reads the password from stdin");
  std::string op_name;
  op_add->add_option("name", op_name, "Operator name")->required();
  auto* tok = op->add_subcommand("token", "Print a new API token for an operator (for scripts)");
  tok->add_option("name", op_name, "Operator name")->required();
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = cli.exit(e);
    return rc == 0 ? 0 : 2;
  }
  auto die = [](const Error& e) {
    std::fprintf(stderr, "revive-server: error: %s\n", e.message.c_str());
    return 1;
  };
  if (!config_file.empty()) {
    if (auto r = load_config_file(config_file, cfg); !r) return die(r.error());
  }
  if (!state_dir.empty()) cfg.state_dir = state_dir;
  if (!store_dir.empty()) cfg.store_dir = store_dir;
  if (!listen.empty()) cfg.listen = listen;
  if (long_poll) cfg.long_poll_s = *long_poll;
  if (max_body) cfg.max_body_bytes = *max_body;
  if (stall) cfg.stall_timeout_s = *stall;
  if (grace) cfg.shutdown_grace_s = *grace;
  if (blocking) cfg.blocking_threads = std::max(1u, *blocking);
  if (proxy_dhcp) cfg.proxy_dhcp = true;
  if (tftp) cfg.tftp = true;
  if (secure_boot) cfg.secure_boot = true;
  if (!boot_dir.empty()) cfg.boot_dir = boot_dir;
  if (!boot_address.empty()) cfg.boot_address = boot_address;
  if (!boot_listen.empty()) cfg.boot_listen = boot_listen;
  if (!kernel_args.empty()) cfg.boot_kernel_args = kernel_args;
  if (dhcp_port) cfg.dhcp_port = *dhcp_port;
  if (dhcp_ping_ms) cfg.dhcp_ping_ms = *dhcp_ping_ms;
  if (!dhcp_range.empty()) cfg.dhcp_range = dhcp_range;
  if (!dhcp_router.empty()) cfg.dhcp_router = dhcp_router;
  if (pxe_port) cfg.pxe_port = *pxe_port;
  if (tftp_port) cfg.tftp_port = *tftp_port;
  for (const auto& kv : step_stall) {
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
      return 2;
    }
    cfg.step_stall_timeout_s[kv.substr(0, eq)] = secs;
  }
  if (cfg.state_dir.empty()) {
    std::fprintf(
        stderr,
        "revive-server: error: no state directory: use --state DIR (or state_dir in --config)\n");
    return 2;
  }

  if (op->parsed()) {
    std::error_code ec;
    std::filesystem::create_directories(cfg.state_dir, ec);
    auto state = StateStore::open(cfg.state_dir / "revive.db",
                                  [] { return static_cast<std::int64_t>(std::time(nullptr)); });
    if (!state) return die(state.error());
    if (op_add->parsed()) {
      std::string password;
      std::getline(std::cin, password);
      if (auto r = (*state)->add_operator(op_name, password); !r) return die(r.error());
      std::printf("operator %s is ready; log in with `revivectl login --server URL --user %s`\n",
                  op_name.c_str(), op_name.c_str());
    } else {
      auto t = (*state)->create_api_token(op_name, "cli");
      if (!t) return die(t.error());
      std::printf("%s\n", t->c_str());
    }
    return 0;
  }

  App app(cfg);
  if (auto r = app.start(); !r) return die(r.error());
  std::fprintf(stderr, "revive-server %s: listening on %s port %u, state in %s\n", REVIVE_VERSION,
               cfg.listen.substr(0, cfg.listen.rfind(':')).c_str(), app.port(),
               cfg.state_dir.string().c_str());
  std::fflush(stderr);
  {
    auto state = StateStore::open(cfg.state_dir / "revive.db",
                                  [] { return static_cast<std::int64_t>(std::time(nullptr)); });
    if (state && *(*state)->operator_count() == 0) {
      std::fprintf(stderr,
                   "revive-server: no operator account yet. Create the first one with:\n"
                   "  echo 'a-long-password' | revive-server --state %s operator add NAME\n",
                   cfg.state_dir.string().c_str());
    }
  }
  app.run();
  std::fprintf(stderr, "revive-server: stopped\n");
  return 0;
}

}  // namespace revive::server
