// libFuzzer target for the whole request path behind the socket: a request (method, target,
// caller, transport, body) goes through the Api's admission (route table, access rules, rate
// limits, body limits) and, when admitted, to the route's handler and the domain services over
// in-memory storage, as revive-server would run it. Checks: no crash, no exception escapes
// a handler, every answer is an HTTP status with a JSON error body when it is an error, and an
// admitted body over the admission's limit is never handed to a handler.
// Input: byte 0 method, byte 1 caller (bits 0-1: no token, an operator's, the agent's, junk;
// bit 2: TLS; bit 3: from a LAN address instead of this machine), then the request target up
// to the first newline, then the body.
// Run: build/fuzz/tests/request_fuzz -max_total_time=60
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "api/api.hpp"
#include "domain/services.hpp"
#include "fake_storage.hpp"
#include "http/metrics.hpp"
#include "revive/image_store.hpp"

using namespace revive;
using namespace revive::server;

namespace {

struct World {
  std::filesystem::path dir;
  std::unique_ptr<ImageStore> store;
  test::FakeStorage storage;
  Seconds now = 1'800'000'000;
  std::unique_ptr<Services> services;
  Metrics metrics;
  std::unique_ptr<Api> api;
  std::string operator_token, agent_token;
  std::int64_t device = 0;

  World() {
    char tmpl[] = "/tmp/request_fuzz.XXXXXX";
    if (!::mkdtemp(tmpl)) std::abort();
    dir = tmpl;
    auto s = ImageStore::open(dir / "store", true);
    if (!s) std::abort();
    store = std::move(*s);
    if (!init_crypto()) std::abort();
    services = std::make_unique<Services>(
        storage, [this] { return now; }, *store,
        [](std::function<void()> work, std::function<void()> done) {
          work();
          done();
        },
        ServiceOptions{});
    if (!services->start()) std::abort();
    if (!services->operators.add("fuzz", "fuzz password")) std::abort();
    auto t = services->operators.create_api_token("fuzz", "fuzz");
    if (!t) std::abort();
    operator_token = *t;
    protocol::EnrolRequest e;
    e.identity = {"uuid-fuzz", "FUZZ1", "ThinkPad T480", "LENOVO"};
    e.macs = {"52:54:00:12:34:56"};
    auto r = services->enrolment.enrol(e);
    if (!r) std::abort();
    device = r->device_id;
    agent_token = r->agent_token;
    api = std::make_unique<Api>(*services, *store, metrics, [](const std::string&) {});
  }
};

World& world() {
  static World w;
  return w;
}

void check(const Response& r) {
  if (r.status < 100 || r.status > 599) std::abort();
  if (r.status >= 400 && r.content_type == "application/json" &&
      r.body.find("\"error\"") == std::string::npos)
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  World& w = world();
  static constexpr const char* kMethods[] = {"GET", "POST", "DELETE", "PUT"};
  Request req;
  req.method = kMethods[data[0] % 4];
  const std::uint8_t caller = data[1];
  std::string_view rest(reinterpret_cast<const char*>(data + 2), size - 2);
  const auto nl = rest.find('\n');
  std::string target(rest.substr(0, nl));
  std::string body(nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1));
  // The device in an agent path is the enrolled one, so agent routes reach their handlers.
  if (const auto at = target.find("{id}"); at != std::string::npos)
    target.replace(at, 4, std::to_string(w.device));
  const auto q = target.find('?');
  auto path = url_decode(std::string_view(target).substr(0, q), false);
  if (!path || path->empty() || path->front() != '/') return 0;
  req.path = *path;
  if (q != std::string::npos) req.query = parse_query(std::string_view(target).substr(q + 1));
  switch (caller & 3) {
    case 1:
      req.headers["authorization"] = "Bearer " + w.operator_token;
      break;
    case 2:
      req.headers["authorization"] = "Bearer " + w.agent_token;
      break;
    case 3:
      req.headers["authorization"] = "Bearer x" + body.substr(0, 8);
      break;
    default:
      break;
  }
  req.tls = caller & 4;
  req.peer = caller & 8 ? "10.1.2.3" : "127.0.0.1";
  HeaderVerdict a = w.api->admit(req);
  if (a.answer) {
    check(*a.answer);
    return 0;
  }
  if (a.spool || body.size() > a.max_body) return 0;  // uploads: the file path is not fuzzed
  req.body = std::move(body);
  std::string label;
  Response r = w.api->handle(req, label);
  if (r.long_poll) {
    auto final_answer = r.long_poll->poll(true);
    if (final_answer) check(*final_answer);
  } else {
    check(r);
  }
  if (r.file && r.file->fd >= 0) ::close(r.file->fd);
  w.now += 7;
  return 0;
}
