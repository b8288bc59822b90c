#include "app/app.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <optional>
#include <thread>

#include "api/api.hpp"
#include "app/boot_dir.hpp"
#include "app/certificate_key.hpp"
#include "app/privileges.hpp"
#include "app/state_dir.hpp"
#include "app/uplink.hpp"
#include "domain/event_retention.hpp"
#include "domain/services.hpp"
#include "http/http_server.hpp"
#include "http/tls_identity.hpp"
#include "netboot/boot_services.hpp"
#include "revive/image_store.hpp"
#include "storage/sqlite/sqlite_storage.hpp"

namespace revive::server {

namespace asio = boost::asio;

namespace {

void log_line(const std::string& line) {
  std::fprintf(stderr, "revive-server: %s\n", line.c_str());
  std::fflush(stderr);
}

std::size_t descriptor_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return 1024;
  return rl.rlim_cur == RLIM_INFINITY ? std::size_t{1} << 20
                                      : static_cast<std::size_t>(rl.rlim_cur);
}

ServiceOptions service_options(const ServerConfig& cfg, const Uplink& uplink) {
  ServiceOptions so;
  so.deploy.server_port_rate = static_cast<double>(uplink.mbps) * 1e6 / 8;
  so.deploy.relay = cfg.relay;
  so.deploy.spare_finished_relays = static_cast<int>(cfg.spare_finished_relays);
  so.stall.fallback = cfg.stall_timeout_s;
  so.stall.per_kind = cfg.step_stall_timeout_s;
  so.boot.kernel_args = cfg.boot_kernel_args;
  so.demo = cfg.demo;
  so.boot_token_ttl_s = cfg.boot_token_ttl_s;
  so.session_ttl_s = cfg.session_ttl_s;
  so.boot.live_image_missing = [dir = cfg.boot_dir] { return live_image_missing(dir); };
  return so;
}

/// Full DHCP's pool from the config (dhcp_range set); the error names the bad setting.
Result<void> add_dhcp_pool(const ServerConfig& cfg, BootServiceOptions& bo) {
  auto range = boot::parse_ip_range(cfg.dhcp_range);
  if (!range) return range.error().with_context("DHCP range");
  auto mask = boot::parse_ipv4(cfg.dhcp_netmask);
  if (!mask) return mask.error().with_context("DHCP netmask");
  boot::DhcpPoolConfig pc{range->first, range->second, *mask, std::nullopt,
                          static_cast<std::uint32_t>(cfg.dhcp_lease_s)};
  if (!cfg.dhcp_router.empty()) {
    auto r = boot::parse_ipv4(cfg.dhcp_router);
    if (!r) return r.error().with_context("DHCP router");
    pc.router = *r;
  }
  pc.max_pending_offers = static_cast<std::uint32_t>(cfg.dhcp_max_pending_offers);
  bo.dhcp_pool = pc;
  bo.dhcp_limits.new_offer_burst = static_cast<double>(cfg.dhcp_offer_burst);
  bo.dhcp_limits.new_offer_every_s = static_cast<double>(cfg.dhcp_offer_every_s);
  bo.dhcp_ping = std::chrono::milliseconds(cfg.dhcp_ping_ms);
  const auto path = cfg.state_dir / "dhcp-leases.json";
  auto leases = load_leases(path);
  if (!leases) return leases.error();
  bo.leases = std::move(*leases);
  bo.save_leases = [path](const std::vector<boot::Lease>& l) { return save_leases(path, l); };
  return {};
}

}  // namespace

struct App::Impl {
  ServerConfig cfg;
  std::string deployments_line;  ///< printed after the listening line (scripts read that first)
  /// The HTTP server's network side: accepting, reading, parsing and writing, on a thread of
  /// its own, so that at a workshop's start one core serves the connections while the other
  /// answers (bench/README.md, "1,000 laptops at once"). Made before `io` and so destroyed
  /// after it: a request handed to `io` and never run holds its session's frame, whose
  /// sockets belong to `net`.
  asio::io_context net{1};
  /// The io thread, the domain's (App::run's): services and storage, admission and handlers,
  /// the timers, the boot services. Nothing else calls the services or the storage.
  asio::io_context io{1};
  /// Made after the privileges are dropped: capabilities belong to a thread, so the drop
  /// happens while the starting thread is the only one. `pool` runs blocking work; `pushes`
  /// the pushes' imports, each as long as its upload, apart so that they hold up nothing else.
  std::optional<asio::thread_pool> pool;
  std::optional<asio::thread_pool> pushes;
  asio::signal_set signals{io, SIGINT, SIGTERM};
  asio::steady_timer deadline_timer{io};
  asio::steady_timer retention_timer{io};
  Metrics metrics;
  std::unique_ptr<ImageStore> images;
  std::optional<KeyPair> certificate_key;  // signs certificates; the store key signs the rest
  std::unique_ptr<Storage> storage;
  std::unique_ptr<Services> services;
  std::unique_ptr<Api> api;
  std::unique_ptr<HttpServer> http;
  std::unique_ptr<BootServices> boot;
  std::string tls_pin, tls_made;
  bool stopping = false;

  explicit Impl(ServerConfig c) : cfg(std::move(c)) {}

  void tick_deadlines() {
    deadline_timer.expires_after(std::chrono::seconds(1));
    deadline_timer.async_wait([this](boost::system::error_code ec) {
      if (ec || stopping) return;
      auto expired = services->lifecycle.expire_deadlines();
      if (!expired)
        std::fprintf(stderr, "revive-server: deadline check failed: %s\n",
                     expired.error().message.c_str());
      services->deployments.tick();
      publish_wall();
      tick_deadlines();
    });
  }

  // The event log's retention, a batch a minute (more when a pass found a full batch).
  void tick_retention() {
    retention_timer.expires_after(std::chrono::seconds(60));
    retention_timer.async_wait([this](boost::system::error_code ec) {
      if (ec || stopping) return;
      const EventRetention r{cfg.events_keep_days * 86400, cfg.events_keep_rows};
      for (int pass = 0; pass < 20; ++pass) {
        auto gone = prune_events(services->ctx, r);
        if (!gone) {
          log_line("event log retention failed: " + gone.error().message);
          break;
        }
        if (*gone < r.batch) break;
      }
      // Returned loans' references go after their own retention (a workshop setting).
      if (auto erased = erase_loan_references(services->ctx); !erased)
        log_line("loan reference retention failed: " + erased.error().message);
      if (auto t = services->operators.forget_expired_tokens(); !t)
        log_line("expired operator tokens were not deleted: " + t.error().message);
      tick_retention();
    });
  }

  // The wall screens get what changed once a second (a laptop reporting progress several times
  // a second costs one tile), and nothing is built while no wall is open.
  void publish_wall() {
    if (http->subscribers("wall") == 0) return;
    auto u = services->wall.update();
    if (!u) {
      log_line("wall update failed: " + u.error().message);
    } else if (!u->is_null()) {
      http->publish("wall", "update", u->dump());
    }
  }

  void begin_shutdown() {
    if (stopping) return;
    stopping = true;
    std::fprintf(stderr, "revive-server: shutting down (in-flight requests get %d s to finish)\n",
                 cfg.shutdown_grace_s);
    deadline_timer.cancel();
    retention_timer.cancel();
    signals.cancel();
    if (boot) boot->stop();
    http->shutdown(std::chrono::seconds(cfg.shutdown_grace_s), [this] {
      io.stop();
      net.stop();
    });
  }

  Result<void> open_state();
  Result<void> start_http(const std::pair<std::string, std::uint16_t>& listen);
  Result<void> add_tls(HttpOptions& ho);
  Result<void> start_boot_services();
  Result<void> drop_privileges(const PrivilegePlan& plan);
  void announce_changes();
};

Result<void> App::Impl::open_state() {
  auto state = prepare_state_dir(cfg.state_dir);
  if (!state) return state.error().with_context("state directory");
  if (*state == StateDirChange::tightened)
    log_line("state directory " + cfg.state_dir.string() + " was open to other users: now 0700");
  if (cfg.store_dir.empty()) cfg.store_dir = cfg.state_dir / "store";
  if (cfg.boot_dir.empty()) cfg.boot_dir = cfg.state_dir / "boot";
  auto store = ImageStore::open(cfg.store_dir, true);
  if (!store) return store.error().with_context("image store");
  images = std::move(*store);
  // Manifests signed before signatures covered the document kind are refused by agents: the
  // store's own key re-signs them once (docs/SECURITY.md, "Signed jobs").
  auto resigned = images->resign_legacy_manifests();
  if (!resigned) return resigned.error().with_context("re-signing image manifests");
  for (const auto& name : *resigned)
    log_line("image " + name + ": manifest re-signed (signatures now cover the document kind)");
  auto cert_key = load_certificate_key(cfg.state_dir, images->key().public_key());
  if (!cert_key) return cert_key.error();
  certificate_key = *cert_key;
  // Auditors need the key id a certificate names: say which key signs what.
  log_line("signing keys: manifests and jobs " + key_id(images->key().public_key()) +
           ", certificates " + key_id(certificate_key->public_key()) + " (" +
           (certificate_key_dir(cfg.state_dir) / "ed25519.pub").string() + ")");
  // Group commit: a thousand laptops starting at once must not wait for a thousand syncs, nor
  // a thousand commits: the units of work begun before the io_context runs the posted end of
  // their batch share one. The HTTP server holds each answer until its writes are committed and
  // synced (start_http).
  auto later = [this](std::function<void()> f) { asio::post(io, std::move(f)); };
  auto db =
      sqlite::open_storage(cfg.state_dir / "revive.db", {.group_commit = true, .later = later});
  if (!db) return db.error().with_context("state database");
  storage = std::move(*db);
  // Runs work on one of the pools, then done on `io`. start() makes the pools once the
  // privileges are dropped, before any request is served.
  auto run_on = [this](std::optional<asio::thread_pool>& on) -> RunBlocking {
    return [this, &on](std::function<void()> work, std::function<void()> done) {
      asio::post(*on, [this, work = std::move(work), done = std::move(done)]() mutable {
        work();
        asio::post(io, std::move(done));
      });
    };
  };
  const Uplink uplink = resolve_uplink(cfg.uplink_mbps, parse_listen(cfg.listen)->first);
  deployments_line = "deployments: uplink " + std::to_string(uplink.mbps) + " Mbit/s (" +
                     uplink.source + "), peer relay " + (cfg.relay ? "on" : "off");
  services = std::make_unique<Services>(
      *storage, [] { return static_cast<Seconds>(std::time(nullptr)); }, *images, *certificate_key,
      run_on(pool), run_on(pushes), service_options(cfg, uplink));
  REVIVE_TRY(services->start());
  if (cfg.demo)
    log_line(
        "DEMO MODE: simulated wipe evidence is certified, laptops enrol without a boot "
        "token and every machine is admitted. Never run this on a shared network.");
  return prepare_boot_dir(cfg.boot_dir, cfg.proxy_dhcp || cfg.tftp, log_line);
}

Result<void> App::Impl::start_http(const std::pair<std::string, std::uint16_t>& listen) {
  ApiOptions ao;
  ao.max_long_poll_s = cfg.long_poll_s;
  ao.boot_dir = cfg.boot_dir;
  ao.max_body_bytes = cfg.max_body_bytes;
  api = std::make_unique<Api>(
      *services, *images, metrics, [this](const std::string& key) { http->notify(key); }, ao);
  HttpOptions ho;
  ho.host = listen.first;
  ho.port = listen.second;
  ho.max_body_bytes = cfg.max_body_bytes;
  ho.connections = {connection_cap_for(descriptor_limit(), cfg.max_connections),
                    cfg.max_connections_per_address};
  ho.admit = [this](const Request& r) { return api->admit(r); };
  ho.log = log_line;
  ho.domain = &io;
  if (GroupCommit* group = storage->group_commit()) {
    ho.durable.mark = [group] { return group->commits(); };
    ho.durable.wait = [group](std::uint64_t mark, std::function<void(bool)> done) {
      return group->durable(mark, std::move(done));
    };
  }
  REVIVE_TRY(add_tls(ho));
  http = std::make_unique<HttpServer>(
      net, ho, [this](Request& r, std::string& label) { return api->handle(r, label); }, metrics);
  REVIVE_TRY(http->start());
  api->set_ports(http->port(), http->tls_port());
  api->set_recheck_streams([this] { http->recheck_streams(); });
  return {};
}

// The HTTPS listener for operators: its address, and the certificate (made on first start).
Result<void> App::Impl::add_tls(HttpOptions& ho) {
  auto where = tls_listen_address(cfg);
  if (!where) return where.error();
  if (!*where) return {};
  auto id = ensure_tls_identity(cfg.state_dir / "tls", cfg.tls_cert, cfg.tls_key);
  if (!id) return id.error();
  // Said after the listening line (cli.cpp), which scripts read first.
  if (id->generated)
    tls_made = "made a self-signed TLS certificate for operators: " + id->cert_file.string();
  ho.tls_host = (*where)->first;
  ho.tls_port = (*where)->second;
  ho.tls_cert_file = id->cert_file;
  ho.tls_key_file = id->key_file;
  tls_pin = id->pin;
  return {};
}

Result<void> App::Impl::start_boot_services() {
  BootServiceOptions bo;
  if (!cfg.dhcp_range.empty()) REVIVE_TRY(add_dhcp_pool(cfg, bo));
  bo.proxy_dhcp = cfg.proxy_dhcp;
  bo.tftp = cfg.tftp;
  bo.listen_address = cfg.boot_listen;
  bo.dhcp_port = cfg.dhcp_port;
  bo.pxe_port = cfg.pxe_port;
  bo.tftp_port = cfg.tftp_port;
  bo.tftp_root = cfg.boot_dir / "tftp";
  if (!cfg.boot_address.empty()) {
    auto ip = boot::parse_ipv4(cfg.boot_address);
    if (!ip) return ip.error().with_context("boot address");
    bo.boot.server_ip = *ip;
  }
  bo.boot.http_port = http->port();
  bo.extra_roots = {{"live/", cfg.boot_dir / "live"}};  // GRUB loads the live image over TFTP
  bo.offer_network_boot = [this](const std::string& mac) {
    return services->boot.offer_network_boot(mac);
  };
  bo.generated = [this](const std::string& name, const std::string& base) {
    return services->boot.grub_file(name, base);
  };
  bo.boot.secure_boot = cfg.secure_boot;
  bo.log = log_line;
  boot = std::make_unique<BootServices>(io, bo);
  REVIVE_TRY(boot->start());
  metrics.add_source([this] { return render_boot_metrics(boot->counters()); });
  if (bo.dhcp_pool)
    log_line("boot services: full DHCP for " + cfg.dhcp_range + " (" +
             std::to_string(bo.leases.size()) + " leases kept)");
  log_line("boot services: proxyDHCP " +
           (cfg.proxy_dhcp ? "on ports " + std::to_string(boot->dhcp_port()) + " and " +
                                 std::to_string(boot->pxe_port())
                           : std::string("off")) +
           ", TFTP " +
           (cfg.tftp
                ? "on port " + std::to_string(boot->tftp_port()) + " from " + bo.tftp_root.string()
                : std::string("off")));
  return {};
}

namespace {

bool is_inside(const std::filesystem::path& dir, const std::filesystem::path& root) {
  std::error_code ec;
  const auto d = std::filesystem::weakly_canonical(dir, ec);
  const auto r = std::filesystem::weakly_canonical(root, ec);
  auto [end, _] = std::mismatch(r.begin(), r.end(), d.begin(), d.end());
  return end == r.end();
}

}  // namespace

// Every privileged socket is open: the state is given to the account, which the process then
// becomes, without any capability (app/privileges.hpp says why none is needed).
Result<void> App::Impl::drop_privileges(const PrivilegePlan& plan) {
  if (plan.stay_root) {
    log_line(
        "RUNNING AS ROOT (--user root): the server keeps every privilege while it serves the "
        "network. Run it as an unprivileged account instead (docs/SECURITY.md, "
        "\"Privileges\").");
    return {};
  }
  // The server's own directories (it creates and writes them): the state, and the store and
  // boot files when they are kept elsewhere (their subdirectories are made owner-only).
  std::vector<std::filesystem::path> owned{cfg.state_dir};
  for (const auto& dir : {cfg.store_dir, cfg.boot_dir}) {
    if (!is_inside(dir, cfg.state_dir)) owned.push_back(dir);
  }
  if (plan.become) {
    auto given = give_to(*plan.become, owned);
    if (!given) return given.error().with_context("giving the state to user " + plan.become->name);
  }
  if (auto r = server::drop_privileges(plan); !r)
    return r.error().with_context("dropping privileges");
  if (!plan.become) return {};
  for (const auto& dir : owned) {
    if (::access(dir.c_str(), R_OK | W_OK | X_OK) != 0)
      return errno_error(errno, "user " + plan.become->name + " cannot use " + dir.string() +
                                    " (let it search every directory above it)");
  }
  log_line("running as user " + plan.become->name + " (uid " + std::to_string(plan.become->uid) +
           ") without capabilities; ports bound as root");
  return {};
}

// Committed changes wake the device's long-polls and feed the dashboards' event streams. The
// device's summary is built only when a dashboard is listening; the wall's tiles are marked
// and built at the next second's update.
void App::Impl::announce_changes() {
  ChangeSink& sink = services->ctx.changes();
  sink.device_changed = [this](std::int64_t device) {
    http->notify("device:" + std::to_string(device));
    if (http->subscribers("wall") > 0) services->wall.changed(device);
    if (http->subscribers("operators") == 0) return;
    if (auto s = services->views.device_summary(device))
      http->publish("operators", "device", s->dump());
  };
  sink.step_progress = [this](std::int64_t device, std::int64_t step, const Json& p) {
    if (http->subscribers("wall") > 0) services->wall.changed(device);
    if (http->subscribers("operators") == 0) return;
    http->publish("operators", "progress",
                  Json{{"device", device}, {"step", step}, {"progress", p}}.dump());
  };
}

App::App(ServerConfig cfg) : impl_(std::make_unique<Impl>(std::move(cfg))) {}
App::~App() {
  // An import reading a push's body would wait for bytes that its connection, gone with the
  // network's thread, will never write.
  if (impl_->services) impl_->services->images.stop_stream_imports();
  if (impl_->pushes) impl_->pushes->join();
  if (impl_->pool) impl_->pool->join();
}

Result<void> App::start() {
  auto& i = *impl_;
  if (i.cfg.state_dir.empty())
    return make_error(Errc::invalid_input, "no state directory (--state DIR)");
  auto listen = parse_listen(i.cfg.listen);
  if (!listen) return listen.error();
  // Decided before anything is created or bound: a missing account stops the start here.
  auto privileges = plan_privileges(i.cfg.user, ::geteuid());
  if (!privileges) return privileges.error();
  REVIVE_TRY(i.open_state());
  REVIVE_TRY(i.start_http(*listen));
  if (i.cfg.proxy_dhcp || i.cfg.tftp || !i.cfg.dhcp_range.empty())
    REVIVE_TRY(i.start_boot_services());
  REVIVE_TRY(i.drop_privileges(*privileges));
  i.pool.emplace(std::max(1u, i.cfg.blocking_threads));
  i.pushes.emplace(Images::kMaxPushes);
  i.announce_changes();
  i.signals.async_wait([&i](boost::system::error_code sec, int) {
    if (!sec) i.begin_shutdown();
  });
  i.tick_deadlines();
  i.tick_retention();
  return {};
}

std::uint16_t App::port() const { return impl_->http->port(); }
std::uint16_t App::tls_port() const { return impl_->http->tls_port(); }
std::string App::tls_pin() const { return impl_->tls_pin; }
std::string App::tls_made() const { return impl_->tls_made; }
std::uint16_t App::dhcp_port() const { return impl_->boot ? impl_->boot->dhcp_port() : 0; }
std::uint16_t App::tftp_port() const { return impl_->boot ? impl_->boot->tftp_port() : 0; }

const std::string& App::deployments_line() const { return impl_->deployments_line; }

// Both threads start here, after the privileges were dropped (capabilities belong to a thread).
void App::run() {
  // The domain's side may run out of work of its own while the network's thread still hands
  // it requests (a shutdown's last long-polls): it runs until the shutdown stops it.
  auto busy = asio::make_work_guard(impl_->io);
  std::thread network([this] { impl_->net.run(); });
  impl_->io.run();
  impl_->net.stop();
  network.join();
}

void App::stop() {
  asio::post(impl_->io, [this] { impl_->begin_shutdown(); });
}

}  // namespace revive::server
