// libFuzzer target for the whole request path behind the socket: a request (method, target,
// caller, transport, body) goes through the Api's admission (route table, transport and
// credentials, rate limits, body limits) and, when admitted, to the route's handler and the
// domain services over in-memory storage (tests/support/fake_storage), as revive-server runs
// it, NOT in demo mode. No sockets, no SQLite; the image store is a temp directory.
// Every input starts from the same world (one operator with an API token, one enrolled laptop
// with its agent token, an open intake): the tables are restored and the services and Api
// made again, so a finding replays from its input alone.
// Checks, beyond "no crash, no exception escapes":
//  - every answer is a status from 100 to 599; an error answer in JSON has an "error" member;
//  - no 5xx: with storage that does not fail, a 5xx is the server failing on its input;
//  - a caller without the route's credentials (none, junk, the other kind, an agent naming
//    another device, an operator over plain HTTP from the LAN) gets a 4xx and changes nothing
//    in storage.
// Input: byte 0 method, byte 1 caller (bits 0-1: no token, the operator's, the agent's, junk;
// bit 2: TLS; bit 3: from a LAN address, not this machine), then the request target up to the
// first newline ("{id}" stands for the enrolled laptop), then the body.
// Run: scripts/fuzz (seeds), or build/fuzz/tests/request_fuzz -max_total_time=60 CORPUS
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "api/api.hpp"
#include "api/handler.hpp"
#include "api/route_table.hpp"
#include "domain/services.hpp"
#include "fake_storage.hpp"
#include "http/http_types.hpp"
#include "http/metrics.hpp"
#include "revive/image_store.hpp"

using namespace revive;
using namespace revive::server;

namespace {

constexpr Seconds kNow = 1'800'000'000;
constexpr const char* kMac = "52:54:00:12:34:56";

[[noreturn]] void fail(const char* what, const Request& req, const Response& r) {
  std::fprintf(stderr, "request_fuzz: %s: %s %s -> %d %s\n", what, req.method.c_str(),
               req.path.c_str(), r.status, r.body.substr(0, 300).c_str());
  std::abort();
}

// Imports and previews run at once, on the fuzzer's thread.
void run_here(const std::function<void()>& work, const std::function<void()>& done) {
  work();
  done();
}

void must(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "request_fuzz: setting up the world failed: %s\n", what);
  std::abort();
}

ServiceOptions options() {
  ServiceOptions o;
  o.demo = false;
  o.boot.live_image_missing = [] { return std::optional<std::string>(); };
  o.monotonic = [] { return 1000.0; };
  return o;
}

// What storage holds; a change in any of it is a state change.
struct Fingerprint {
  int commits;
  std::size_t rows;
  bool operator==(const Fingerprint&) const = default;
};

struct World {
  std::filesystem::path dir;
  std::unique_ptr<ImageStore> store;
  std::optional<KeyPair> certificate_key;  // after init_crypto()
  test::FakeStorage storage;
  test::FakeTables baseline;
  std::unique_ptr<Services> services;
  std::unique_ptr<Metrics> metrics;
  std::unique_ptr<Api> api;
  std::string operator_token, agent_token;
  std::int64_t device = 0;

  World() {
    char tmpl[] = "/tmp/request_fuzz.XXXXXX";
    must(::mkdtemp(tmpl) != nullptr, "mkdtemp");
    dir = tmpl;
    auto s = ImageStore::open(dir / "store", true);
    must(s.has_value(), "image store");
    store = std::move(*s);
    must(init_crypto().has_value(), "crypto");
    certificate_key = KeyPair::generate();
    fresh_services();
    must(services->operators.add("fuzz", "fuzz password 1234").has_value(), "operator");
    auto t = services->operators.create_api_token("fuzz", "fuzz");
    must(t.has_value(), "operator token");
    operator_token = *t;
    must(services->catalog.create_batch("fuzz-batch", "donor", std::nullopt, std::nullopt)
             .has_value(),
         "batch");
    must(services->intake.open({"fuzz-batch", kNow + 3600, {}, {}}, "fuzz").has_value(), "intake");
    auto plan = services->boot.plan(kMac, "http://10.0.0.2:8080");
    must(plan && plan->live, "boot token");
    protocol::EnrolRequest e;
    e.identity = {"7f3a1c2e-0000-4000-8000-504631414243", "PF1ABCDE", "ThinkPad T480", "LENOVO"};
    e.macs = {kMac};
    e.boot_token = plan->live->token;
    auto r = services->enrolment.enrol(e);
    must(r.has_value(), "enrolment");
    device = r->device_id;
    agent_token = r->agent_token;
    baseline = storage.data;
  }

  ~World() {  // libFuzzer exits normally at -max_total_time: the temp store goes with it
    api.reset();
    services.reset();
    store.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  void fresh_services() {
    services = std::make_unique<Services>(
        storage, [] { return kNow; }, *store, *certificate_key, run_here, run_here, options());
    must(services->start().has_value(), "services");
    metrics = std::make_unique<Metrics>();
    api = std::make_unique<Api>(*services, *store, *metrics, [](const std::string&) {});
  }

  // The same world for every input: the tables as set up, services and Api made again.
  void reset() {
    api.reset();
    services.reset();
    // Unfinished image uploads live in the store's tmp/ (a restarted server takes them up
    // again): an input's uploads must not be the next one's.
    std::error_code ec;
    for (const auto& f : std::filesystem::directory_iterator(store->tmp_dir(), ec))
      std::filesystem::remove(f.path(), ec);
    storage.data = baseline;
    storage.commits = 0;
    fresh_services();
  }

  Fingerprint fingerprint() const {
    const auto& d = storage.data;
    return {storage.commits, d.settings.size() + d.workflows.size() + d.batches.size() +
                                 d.devices.size() + d.inventories.size() + d.runs.size() +
                                 d.steps.size() + d.results.size() + d.certificates.size() +
                                 d.events.size() + d.operators.size() + d.operator_tokens.size() +
                                 d.agent_tokens.size() + d.boot_tokens.size() + d.intakes.size()};
  }
};

World& world() {
  static World w;
  return w;
}

enum class Credential { none, operator_, agent, junk };

// Whether the caller holds what the route asks for (route_table.hpp's Access).
bool entitled(const RouteMatch& m, Credential c, const Request& req, std::int64_t device) {
  switch (m.route->access) {
    case Access::anyone:
      return true;
    case Access::agent_or_operator:  // agents' routes: served over plain HTTP to either kind
      return c == Credential::agent || c == Credential::operator_;
    case Access::agent: {
      const auto it = m.params.find("id");
      // The id as the Api reads it ("06" is device 6).
      return c == Credential::agent && it != m.params.end() && parse_id(it->second) == device;
    }
    case Access::operator_:
      return c == Credential::operator_ && (req.tls || req.local);
    case Access::kiosk:  // the wall: the fuzzer holds no kiosk link and does not model a viewer
      return false;
  }
  return false;
}

void check_answer(const Request& req, const Response& r) {
  if (r.status < 100 || r.status > 599) fail("status out of range", req, r);
  if (r.status >= 500) fail("5xx", req, r);
  if (r.status >= 400 && r.content_type == "application/json" &&
      r.body.find("\"error\"") == std::string::npos)
    fail("error answer without \"error\"", req, r);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  World& w = world();
  static constexpr const char* kMethods[] = {"GET", "POST", "DELETE", "PUT"};
  Request req;
  req.method = kMethods[data[0] % 4];
  const std::uint8_t caller = data[1];
  const std::string_view rest(reinterpret_cast<const char*>(data + 2), size - 2);
  const auto nl = rest.find('\n');
  std::string target(rest.substr(0, nl));
  std::string body(nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1));
  if (const auto at = target.find("{id}"); at != std::string::npos)
    target.replace(at, 4, std::to_string(w.device));
  const auto q = target.find('?');
  auto path = url_decode(std::string_view(target).substr(0, q), false);
  if (!path || path->empty() || path->front() != '/') return 0;
  req.path = *path;
  if (q != std::string::npos) req.query = parse_query(std::string_view(target).substr(q + 1));
  const auto credential = static_cast<Credential>(caller & 3);
  switch (credential) {
    case Credential::operator_:
      req.headers["authorization"] = "Bearer " + w.operator_token;
      break;
    case Credential::agent:
      req.headers["authorization"] = "Bearer " + w.agent_token;
      break;
    case Credential::junk:
      req.headers["authorization"] = "Bearer x" + body.substr(0, 8);
      break;
    case Credential::none:
      break;
  }
  req.tls = (caller & 4) != 0;
  req.local = (caller & 8) == 0;
  req.peer = req.local ? "127.0.0.1" : "10.1.2.3";

  w.reset();
  const Fingerprint before = w.fingerprint();
  const auto table = route_table();
  const auto match = find_route(table, req.method, req.path);
  const bool refused_caller = match && !entitled(*match, credential, req, w.device);

  HeaderVerdict verdict = w.api->admit(req);
  Response r;
  if (verdict.answer) {
    r = std::move(*verdict.answer);
  } else {
    if (verdict.stream || body.size() > verdict.max_body) return 0;  // uploads, 413: not here
    req.body = std::move(body);
    std::string label;
    r = w.api->handle(req, label);
    if (r.long_poll) {
      auto final_answer = r.long_poll->poll(true);
      if (final_answer) r = std::move(*final_answer);
    }
  }
  if (r.file && r.file->fd >= 0) ::close(r.file->fd);
  check_answer(req, r);
  if (refused_caller) {
    if (r.status < 400 || r.status >= 500) fail("a caller without credentials was served", req, r);
    if (!(w.fingerprint() == before)) fail("a caller without credentials changed state", req, r);
  }
  return 0;
}
