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
#include <time.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>

#include "http/http_server.hpp"
#include "http/metrics.hpp"

namespace {

using namespace revive::server;

bool read_file(const char* path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  out.assign(std::istreambuf_iterator<char>(in), {});
  return in.good() || in.eof();
}

// Spins until this thread has used `us` microseconds of CPU.
void burn(double us) {
  const auto cpu_us = [] {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_nsec) / 1e3;
  };
  const double until = cpu_us() + us;
  while (cpu_us() < until) {
  }
}

bool ends_with(const std::string& s, std::string_view tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string enrolled, job;
  double work[3] = {0, 0, 0};  // enrol, next, result
  bool work_thread = false;
  for (int i = 3; i < argc; ++i) {
    if (std::strcmp(argv[i], "--work") == 0 && i + 1 < argc) {
      if (std::sscanf(argv[++i], "%lf,%lf,%lf", &work[0], &work[1], &work[2]) != 3) argc = 0;
    } else if (std::strcmp(argv[i], "--work-thread") == 0) {
      work_thread = true;
    } else {
      argc = 0;
    }
  }
  if (argc < 3 || !read_file(argv[1], enrolled) || !read_file(argv[2], job)) {
    std::fprintf(stderr,
                 "usage: http_floor ENROL_ANSWER NEXT_ANSWER [--work E,N,R [--work-thread]]\n");
    return 2;
  }
  boost::asio::io_context io;
  Metrics metrics;
  HttpOptions opts;
  opts.host = "127.0.0.1";
  opts.port = 0;
  boost::asio::io_context worker;
  auto keep = boost::asio::make_work_guard(worker);
  std::thread worker_thread;
  if (work_thread) worker_thread = std::thread([&] { worker.run(); });
  HttpServer* served = nullptr;
  std::uint64_t handed = 0;
  const auto answer = [&](Request& req, std::string& route) {
    Response r;
    route = "fixed";
    int kind = 0;
    if (ends_with(req.path, "/enrol")) {
      r.body = enrolled;
    } else if (ends_with(req.path, "/next")) {
      r.body = job;
      kind = 1;
    } else if (ends_with(req.path, "/result")) {
      r.body = "{}";
      kind = 2;
    } else {
      r.status = 404;
      r.body = R"({"error":"not a laptop start's path"})";
      return r;
    }
    if (!work_thread) {
      burn(work[kind]);
      return r;
    }
    // Handed to the worker; the session waits as for a long-poll, woken when it is done.
    auto done = std::make_shared<std::atomic<bool>>(false);
    const std::string key = "w" + std::to_string(handed++);
    boost::asio::post(worker, [&, done, key, us = work[kind]] {
      burn(us);
      done->store(true);
      boost::asio::post(io, [&, key] { served->notify(key); });
    });
    LongPoll lp;
    lp.key = key;
    lp.poll = [done, r](bool) { return done->load() ? std::optional<Response>(r) : std::nullopt; };
    Response wait;
    wait.long_poll = std::move(lp);
    return wait;
  };
  HttpServer server(io, opts, answer, metrics);
  served = &server;
  if (auto started = server.start(); !started) {
    std::fprintf(stderr, "http_floor: %s\n", started.error().message.c_str());
    return 1;
  }
  std::printf("listening on 127.0.0.1 port %u\n", static_cast<unsigned>(server.port()));
  std::fflush(stdout);
  boost::asio::signal_set stop(io, SIGINT, SIGTERM);
  stop.async_wait([&](auto, int) { io.stop(); });
  io.run();
  keep.reset();
  worker.stop();
  if (worker_thread.joinable()) worker_thread.join();
  return 0;
}
