// revive-server's HTTP layer with nothing behind it: its HttpServer on one io thread, as the
// server runs it, answering the laptop start's requests with fixed answers (an enrolment's, a
// first step's, an empty result's, read from files). The same start against nginx with the same
// answers (bench/swarm_decompose.sh) splits the start's cost three ways: what TCP and a lean
// HTTP server take on this machine (nginx), what revive's HTTP layer adds (this), and what the
// domain adds (revive-server).
//
//   http_floor ENROL_ANSWER NEXT_ANSWER [--work E,N,R [--work-thread]]
// prints "listening on 127.0.0.1 port N" and serves until killed. --work burns E, N and R us of
// thread CPU per enrolment, next step and result before answering, a stand-in for the domain's
// share (bench/start_cost.sh); on the io thread, as revive-server's domain runs, or with
// --work-thread on a second thread, handed over and back as a long-poll is answered: what the
// start would take with the domain beside the HTTP instead of on its thread.
#include <array>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "http/http_server.hpp"
#include "http/metrics.hpp"
#include "thread_cpu.hpp"

namespace {

using namespace revive::server;
namespace asio = boost::asio;

struct Options {
  std::string enrolled, job;     // the answers to an enrolment and to a next step
  std::array<double, 3> work{};  // us per enrolment, next step, result
  bool work_thread = false;
};

bool read_file(const char* path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  out.assign(std::istreambuf_iterator<char>(in), {});
  return in.good() || in.eof();
}

std::optional<Options> parse_args(int argc, char** argv) {
  Options o;
  if (argc < 3 || !read_file(argv[1], o.enrolled) || !read_file(argv[2], o.job))
    return std::nullopt;
  for (int i = 3; i < argc; ++i) {
    if (std::strcmp(argv[i], "--work") == 0 && i + 1 < argc) {
      if (std::sscanf(argv[++i], "%lf,%lf,%lf", &o.work[0], &o.work[1], &o.work[2]) != 3)
        return std::nullopt;
    } else if (std::strcmp(argv[i], "--work-thread") == 0) {
      o.work_thread = true;
    } else {
      return std::nullopt;
    }
  }
  return o;
}

// Spins until this thread has used `us` microseconds of CPU.
void burn(double us) {
  const double until = revive::bench::thread_cpu_us() + us;
  while (revive::bench::thread_cpu_us() < until) {
  }
}

bool ends_with(const std::string& s, std::string_view tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// The fixed answer to a request of the start and its kind (0 enrolment, 1 next, 2 result), or
// a 404 and no kind.
std::pair<Response, std::optional<int>> fixed_answer(const Options& o, const std::string& path) {
  Response r;
  if (ends_with(path, "/enrol")) {
    r.body = o.enrolled;
    return {r, 0};
  }
  if (ends_with(path, "/next")) {
    r.body = o.job;
    return {r, 1};
  }
  if (ends_with(path, "/result")) {
    r.body = "{}";
    return {r, 2};
  }
  r.status = 404;
  r.body = R"({"error":"not a laptop start's path"})";
  return {r, std::nullopt};
}

// `answer` after `us` of CPU on the worker: the session waits as for a long-poll, woken on the
// io thread once the work is done.
Response handed_over(Response answer, double us, asio::io_context& worker, asio::io_context& io,
                     HttpServer& server) {
  static std::uint64_t handed = 0;
  auto done = std::make_shared<std::atomic<bool>>(false);
  std::string key = "w" + std::to_string(handed++);
  asio::post(worker, [&io, &server, done, key, us] {
    burn(us);
    done->store(true);
    asio::post(io, [&server, key] { server.notify(key); });
  });
  Response wait;
  wait.long_poll = LongPoll{std::move(key), std::chrono::milliseconds(25000),
                            [done, answer = std::move(answer)](bool) {
                              return done->load() ? std::optional<Response>(answer) : std::nullopt;
                            }};
  return wait;
}

int serve(const Options& o) {
  asio::io_context io, worker;
  auto keep_worker = asio::make_work_guard(worker);
  std::thread worker_thread;
  if (o.work_thread) worker_thread = std::thread([&worker] { worker.run(); });
  Metrics metrics;
  HttpOptions opts;
  opts.host = "127.0.0.1";
  opts.port = 0;
  HttpServer* server = nullptr;
  const auto handle = [&](Request& req, std::string& route) {
    route = "fixed";
    auto [answer, kind] = fixed_answer(o, req.path);
    if (!kind) return answer;
    const double us = o.work[static_cast<std::size_t>(*kind)];
    if (o.work_thread) return handed_over(std::move(answer), us, worker, io, *server);
    burn(us);
    return answer;
  };
  HttpServer http(io, opts, handle, metrics);
  server = &http;
  if (auto started = http.start(); !started) {
    std::fprintf(stderr, "http_floor: %s\n", started.error().message.c_str());
    return 1;
  }
  std::printf("listening on 127.0.0.1 port %u\n", static_cast<unsigned>(http.port()));
  std::fflush(stdout);
  asio::signal_set stop(io, SIGINT, SIGTERM);
  stop.async_wait([&io](auto, int) { io.stop(); });
  io.run();
  keep_worker.reset();
  worker.stop();
  if (worker_thread.joinable()) worker_thread.join();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const auto options = parse_args(argc, argv);
  if (!options) {
    std::fprintf(stderr,
                 "usage: http_floor ENROL_ANSWER NEXT_ANSWER [--work E,N,R [--work-thread]]\n");
    return 2;
  }
  try {
    return serve(*options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "http_floor: %s\n", e.what());
    return 1;
  }
}
