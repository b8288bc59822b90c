// What one laptop's start costs the server's io thread without HTTP: the API's answers to an
// enrolment, its first next step and (for every other laptop) a failed result, called in
// process on a demo server's services over a real SQLite state with group commit, each batch of
// units ended every `batch` requests as the posted batch end does under load. Prints the thread
// CPU time per request kind (median of the rounds, a fresh state each) and per laptop start, so
// that the 1,000-laptop start (bench/agent_swarm.sh) can be split into this work and the HTTP
// and TCP around it, and a change to the domain measured without the swarm's spread.
//
//   start_cost [LAPTOPS] [ROUNDS] [BATCH]
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "api/api.hpp"
#include "app/certificate_key.hpp"
#include "domain/services.hpp"
#include "http/metrics.hpp"
#include "revive/image_store.hpp"
#include "revive/protocol.hpp"
#include "revive/signed_job.hpp"
#include "storage/sqlite/sqlite_storage.hpp"
#include "thread_cpu.hpp"

namespace {

namespace fs = std::filesystem;
namespace proto = revive::protocol;
using namespace revive::server;

using revive::bench::thread_cpu_us;

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "start_cost: %s\n", what.c_str());
  std::exit(1);
}

// A demo server's state and API in `dir`, answering requests in process.
class InProcessServer {
 public:
  InProcessServer(const fs::path& dir, int batch) : batch_(batch) {
    auto store = revive::ImageStore::open(dir / "store", true);
    if (!store) fail("image store: " + store.error().message);
    store_ = std::move(*store);
    auto key = load_certificate_key(dir, store_->key().public_key());
    if (!key) fail("certificate key: " + key.error().message);
    key_ = *key;
    auto later = [this](std::function<void()> f) { posted_.push_back(std::move(f)); };
    auto db = sqlite::open_storage(dir / "revive.db", {.group_commit = true, .later = later});
    if (!db) fail("state database: " + db.error().message);
    storage_ = std::move(*db);
    ServiceOptions so;
    so.demo = true;
    // No uploads or pushes here: blocking work and pushes' imports both run in place.
    auto run_here = [](const std::function<void()>& work, const std::function<void()>& done) {
      work();
      done();
    };
    services_ = std::make_unique<Services>(
        *storage_, [] { return static_cast<Seconds>(std::time(nullptr)); }, *store_, key_, run_here,
        run_here, so);
    if (auto s = services_->start(); !s) fail("services: " + s.error().message);
    run_posted();  // the defaults' batch
    api_ = std::make_unique<Api>(*services_, *store_, metrics_, [](const std::string&) {});
  }

  // The answer's body to POST `target` (a path with an optional query) from a laptop; the
  // thread CPU time of the server's part (admission, handler, a batch's end) is added to
  // `spent_us`.
  std::string post(const std::string& target, const std::string& body, const std::string& token,
                   double& spent_us) {
    Request r;
    r.method = "POST";
    const auto q = target.find('?');
    r.path = target.substr(0, q);
    if (q != std::string::npos) {
      const std::string kv = target.substr(q + 1);
      const auto eq = kv.find('=');
      r.query[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    r.headers["content-type"] = "application/json";
    if (!token.empty()) r.headers["authorization"] = "Bearer " + token;
    r.body = body;
    r.peer = "127.0.0.1";  // as bench/agent_swarm.sh connects: no rate limit
    r.local = true;
    const double t0 = thread_cpu_us();
    const HeaderVerdict v = api_->admit(r);
    if (v.answer) fail(target + ": refused from its header: " + v.answer->body);
    std::string label;
    Response a = api_->handle(r, label);
    if (++since_batch_end_ == batch_) run_posted();
    spent_us += thread_cpu_us() - t0;
    if (a.status != 200) fail(target + ": " + std::to_string(a.status) + " " + a.body);
    return a.body;
  }

  // Ends the open batch of units of work (its commit), as the io thread's posted end does.
  void end_batch(double& spent_us) {
    const double t0 = thread_cpu_us();
    run_posted();
    spent_us += thread_cpu_us() - t0;
  }

 private:
  void run_posted() {
    since_batch_end_ = 0;
    while (!posted_.empty()) {
      auto now = std::move(posted_);
      posted_.clear();
      for (auto& f : now) f();
    }
  }

  int batch_;
  int since_batch_end_ = 0;
  std::vector<std::function<void()>> posted_;
  std::unique_ptr<revive::ImageStore> store_;
  revive::KeyPair key_;
  std::unique_ptr<Storage> storage_;
  std::unique_ptr<Services> services_;
  Metrics metrics_;
  std::unique_ptr<Api> api_;
};

struct Laptop {
  std::int64_t device = 0;
  std::string token;
  std::int64_t step = 0;
  int attempt = 0;
};

// One start of `n` laptops on a fresh state: the CPU microseconds per request of each kind.
std::map<std::string, double> one_round(int n, int batch) {
  const fs::path dir =
      fs::temp_directory_path() / ("revive-start-cost-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::map<std::string, double> us;
  {
    InProcessServer server(dir, batch);
    std::vector<Laptop> laptops(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      proto::EnrolRequest request;
      const std::string serial = "SC" + std::to_string(100000 + i).substr(1);
      request.identity = {"u-" + serial, serial, "Latitude 7490", "Dell Inc."};
      auto e = proto::from_json<proto::EnrolResponse>(revive::Json::parse(
          server.post(proto::path::enrol(), proto::to_json(request).dump(), "", us["enrol"])));
      if (!e) fail("enrol answer: " + e.error().message);
      laptops[static_cast<std::size_t>(i)] = {e->device_id, e->agent_token};
    }
    server.end_batch(us["enrol"]);
    for (auto& l : laptops) {
      proto::NextRequest next;
      next.nonce = "00";
      const auto answer = revive::Json::parse(server.post(
          proto::path::next(l.device, 0), proto::to_json(next).dump(), l.token, us["next"]));
      auto job = proto::parse_job(answer.at("job").dump());
      if (!job) fail("next answer: " + job.error().message);
      l.step = job->step.id;
      l.attempt = job->step.attempt;
    }
    server.end_batch(us["next"]);
    int results = 0;  // the odd-numbered laptops report a failed step
    for (std::size_t i = 1; i < laptops.size(); i += 2) {
      proto::StepResultReport failed;
      failed.attempt = laptops[i].attempt;
      failed.status = proto::StepStatus::failed;
      failed.error = "simulated";
      server.post(proto::path::result(laptops[i].device, laptops[i].step),
                  proto::to_json(failed).dump(), laptops[i].token, us["result"]);
      ++results;
    }
    server.end_batch(us["result"]);
    us["enrol"] /= n;
    us["next"] /= n;
    us["result"] /= results;
  }
  fs::remove_all(dir);
  return us;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int run(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 1000;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
  const int batch = argc > 3 ? std::atoi(argv[3]) : 25;
  if (n < 2 || rounds < 1 || batch < 1) fail("usage: start_cost [LAPTOPS >= 2] [ROUNDS] [BATCH]");
  std::map<std::string, std::vector<double>> all;
  for (int r = 0; r < rounds; ++r)
    for (const auto& [kind, us] : one_round(n, batch)) all[kind].push_back(us);
  std::printf(
      "%d laptops starting, %d round%s, a batch ended every %d requests (thread CPU, "
      "no HTTP)\n",
      n, rounds, rounds == 1 ? "" : "s", batch);
  double start = 0;
  for (const char* kind : {"enrol", "next", "result"}) {
    auto& v = all[kind];
    std::printf("%-7s %7.1f us per request (rounds %.1f-%.1f)\n", kind, median(v),
                *std::min_element(v.begin(), v.end()), *std::max_element(v.begin(), v.end()));
    start += median(v) * (std::string(kind) == "result" ? 0.5 : 1.0);
  }
  std::printf("per laptop start (enrol, next, half a result): %.1f us\n", start);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "start_cost: %s\n", e.what());
    return 1;
  }
}
