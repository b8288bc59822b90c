// 1,000 simulated agents against one revive-server, over real loopback sockets: half send a
// progress heartbeat once a second (each at its own phase, or all at once with --burst), half
// wait in a long-poll for an operator after a failed step. Prints latency percentiles per
// request kind as the client sees them (connect excluded; queueing in the server included).
// The agents enrol all at once, or spread evenly over --ramp SECS (laptops switched on one
// after another: a workshop's network boots spread over tens of seconds). Either way the
// heartbeats and long-polls start once the last agent has enrolled, so enrolments are timed
// against each other, not against a running workshop's traffic. With --history N, N other
// laptops enrol first, each taking its first step (and half failing it), untimed: the rows a
// workshop's past leaves in the state (agent tokens, runs, events), which the lookups made for
// each new laptop must not read through. With --baseline, each agent sends only the
// enrolment's request and stops at its answer: pointed at a server with a fixed answer
// (bench/agent_swarm.sh uses nginx), the same burst shows what this machine and this client
// take without any server work.
//
//   agent_swarm PORT [AGENTS] [SECONDS] [--burst] [--ramp SECS] [--history N] [--first K]
//               [--baseline [--path PATH]]
// --path sends the baseline's requests to PATH instead (e.g. a path revive-server refuses from
// the request's header alone: its HTTP work without the enrolment's). --first K numbers the
// laptops from K (their serials), so that a second start against the same server brings new
// laptops, not the same ones again (they would re-enrol and find their run).
#include <boost/asio.hpp>
#include <nlohmann/json.hpp>
#include <revive/protocol.hpp>
#include <revive/signed_job.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
constexpr auto tok = asio::as_tuple(asio::use_awaitable);

struct Stats {
  std::map<std::string, std::vector<double>> ms;
  int errors = 0;
  std::string first_error;
};

void note_error(Stats& st, const std::string& what) {
  if (st.errors++ == 0) st.first_error = what;
}

// Parameters by value: a coroutine outlives the caller's temporaries.
asio::awaitable<std::pair<int, json>> post(tcp::socket& s, asio::streambuf& buf, std::string path,
                                           json body, std::string token, Stats& st,
                                           std::string kind) {
  const std::string b = body.dump();
  std::string req = "POST " + path +
                    " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
                    std::to_string(b.size()) + "\r\n";
  if (!token.empty()) req += "Authorization: Bearer " + token + "\r\n";
  req += "\r\n" + b;
  const auto t0 = Clock::now();
  auto [ec, n] = co_await asio::async_write(s, asio::buffer(req), tok);
  if (ec) {
    note_error(st, kind + ": " + ec.message());
    co_return std::pair{0, json()};
  }
  auto [ec2, hn] = co_await asio::async_read_until(s, buf, "\r\n\r\n", tok);
  if (ec2) {
    note_error(st, kind + ": " + ec2.message());
    co_return std::pair{0, json()};
  }
  std::string head(asio::buffers_begin(buf.data()),
                   asio::buffers_begin(buf.data()) + static_cast<long>(hn));
  buf.consume(hn);
  const int status = std::stoi(head.substr(9, 3));
  std::size_t len = 0;
  if (auto p = head.find("Content-Length: "); p != std::string::npos)
    len = std::stoul(head.substr(p + 16));
  if (buf.size() < len) {
    auto [ec3, bn] =
        co_await asio::async_read(s, buf, asio::transfer_exactly(len - buf.size()), tok);
    if (ec3) co_return std::pair{0, json()};
  }
  std::string payload(asio::buffers_begin(buf.data()),
                      asio::buffers_begin(buf.data()) + static_cast<long>(len));
  buf.consume(len);
  st.ms[kind].push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  if (status >= 400) note_error(st, kind + ": " + std::to_string(status) + " " + payload);
  co_return std::pair{status, json::parse(payload, nullptr, false)};
}

namespace proto = revive::protocol;

struct Agent {
  std::int64_t device = 0;
  std::string token;
  std::int64_t step = 0;  // 0: it did not get that far (the error is in Stats)
};

// Laptop `i`'s enrolment request, to the enrolment's path or to `path`.
asio::awaitable<std::pair<int, json>> enrol(tcp::socket& s, asio::streambuf& buf, int i, Stats& st,
                                            std::string path = proto::path::enrol()) {
  proto::EnrolRequest request;
  const std::string serial = "SW" + std::to_string(100000 + i).substr(1);
  request.identity = {"u-" + serial, serial, "Latitude 7490", "Dell Inc."};
  co_return co_await post(s, buf, std::move(path), proto::to_json(request), std::string(), st,
                          std::string("enrol"));
}

// Enrols laptop `i`, fetches its first step and, for odd i, fails it (so the operator must act
// and the laptop long-polls from then on). Spoken through the core protocol module, as the
// agent does; the job's signature is not checked (a demo server, and not what is measured).
asio::awaitable<Agent> start_agent(tcp::socket& s, asio::streambuf& buf, int i, Stats& st) {
  Agent a;
  auto [es, e] = co_await enrol(s, buf, i, st);
  auto enrolled = proto::from_json<proto::EnrolResponse>(e);
  if (es != 200 || !enrolled) {
    if (es == 200) note_error(st, "enrol answer: " + enrolled.error().message);
    co_return a;
  }
  a.device = enrolled->device_id;
  a.token = enrolled->agent_token;
  proto::NextRequest next_request;
  next_request.nonce = "00";
  auto [ns, nx] = co_await post(s, buf, proto::path::next(a.device, 0),
                                proto::to_json(next_request), a.token, st, std::string("next"));
  auto job = nx.contains("job") ? proto::parse_job(nx["job"].dump())
                                : revive::Result<proto::Job>(revive::Error{
                                      revive::Errc::invalid_input, "no job: " + nx.dump()});
  if (ns != 200 || !job) {
    if (ns == 200) note_error(st, "next answer: " + job.error().message);
    co_return a;
  }
  if (i % 2 == 1) {
    proto::StepResultReport failed;
    failed.attempt = job->step.attempt;
    failed.status = proto::StepStatus::failed;
    failed.error = "simulated";
    co_await post(s, buf, proto::path::result(a.device, job->step.id), proto::to_json(failed),
                  a.token, st, std::string("result"));
  }
  a.step = job->step.id;
  co_return a;
}

// Laptops `first`, `first + stride`, ... below `end` enrol one after another on one
// connection: one of the workers that fill the state with a workshop's past.
asio::awaitable<void> enrol_past(unsigned short port, int first, int end, int stride, Stats& st) {
  tcp::socket s(co_await asio::this_coro::executor);
  auto [cec] = co_await s.async_connect({asio::ip::make_address("127.0.0.1"), port}, tok);
  if (cec) {
    note_error(st, "history: " + cec.message());
    co_return;
  }
  s.set_option(tcp::no_delay(true));
  asio::streambuf buf;
  for (int i = first; i < end && st.errors == 0; i += stride) co_await start_agent(s, buf, i, st);
}

// Laptops n .. n + history - 1 (never one of the measured swarm's: n is past its last) on 8
// connections.
int fill_history(unsigned short port, int n, int history) {
  const auto t0 = Clock::now();
  asio::io_context io;
  Stats st;
  constexpr int kWorkers = 8;
  for (int w = 0; w < kWorkers; ++w)
    asio::co_spawn(io, enrol_past(port, n + w, n + history, kWorkers, st), asio::detached);
  io.run();
  std::printf("history: %d past laptops enrolled in %.1f s, untimed (errors: %d %s)\n", history,
              std::chrono::duration<double>(Clock::now() - t0).count(), st.errors,
              st.first_error.c_str());
  std::fflush(stdout);  // bench/agent_swarm.sh reads the server's CPU time when it sees this
  return st.errors;
}

struct Options {
  unsigned short port = 0;
  int n = 1000;
  double secs = 30;
  bool burst = false;
  double ramp = 0;
  int history = 0;
  int first = 0;  ///< the first laptop's number (its serial): a second start brings new laptops
  bool baseline = false;
  std::string baseline_path = proto::path::enrol();
};

// The swarm: every agent starts (enrol, next, half fail their step), then, once the last has,
// half heartbeat and half long-poll for `secs`.
void run_swarm(const Options& o, Stats& st) {
  const Clock::time_point ramp_from = Clock::now();
  asio::io_context io;
  int enrolled = 0;
  asio::steady_timer all_ready(io, Clock::time_point::max());
  Clock::time_point start_at;

  for (int i = 0; i < o.n; ++i) {
    asio::co_spawn(
        io,
        [&, i]() -> asio::awaitable<void> {
          if (o.ramp > 0) {
            asio::steady_timer at(io,
                                  ramp_from + std::chrono::duration_cast<Clock::duration>(
                                                  std::chrono::duration<double>(o.ramp * i / o.n)));
            co_await at.async_wait(tok);
          }
          tcp::socket s(io);
          auto [cec] = co_await s.async_connect({asio::ip::make_address("127.0.0.1"), o.port}, tok);
          if (cec) {
            ++st.errors;
            co_return;
          }
          s.set_option(tcp::no_delay(true));
          asio::streambuf buf;
          const Agent a = co_await start_agent(s, buf, o.first + i, st);
          if (++enrolled == o.n) {
            start_at = Clock::now();
            all_ready.cancel();
          }
          if (enrolled < o.n) co_await all_ready.async_wait(tok);
          if (a.step == 0) co_return;  // counted above, so the others do not wait for it forever
          const auto end = start_at + std::chrono::duration<double>(o.secs);
          asio::steady_timer t(io);
          if (i % 2 == 0) {
            auto next_beat =
                start_at + (o.burst ? std::chrono::nanoseconds(0)
                                    : std::chrono::nanoseconds(static_cast<long>(
                                          (i * 0.618034 - static_cast<long>(i * 0.618034)) * 1e9)));
            long done = 0;
            while (next_beat < end) {
              t.expires_at(next_beat);
              co_await t.async_wait(tok);
              done += 1 << 20;
              proto::ProgressReport beat;
              beat.step = a.step;
              beat.progress.stage = "wipe";
              beat.progress.bytes_done = static_cast<double>(done);
              beat.progress.bytes_total = static_cast<double>(1L << 34);
              beat.progress.rate = 1 << 20;
              co_await post(s, buf, proto::path::progress(a.device), proto::to_json(beat), a.token,
                            st, std::string("progress"));
              next_beat += std::chrono::seconds(1);
            }
          } else {
            while (Clock::now() < end) {
              const int wait =
                  static_cast<int>(std::chrono::duration<double>(end - Clock::now()).count()) + 1;
              proto::NextRequest poll;
              poll.nonce = "01";
              co_await post(s, buf, proto::path::next(a.device, std::min(wait, 60)),
                            proto::to_json(poll), a.token, st, std::string("long-poll"));
            }
          }
        },
        asio::detached);
  }
  io.run();
}

// The baseline: the same connections and enrolment requests, arriving as the swarm's do, each
// agent stopping at its answer (whatever the answer says: a fixed one is the point).
void run_baseline(const Options& o, Stats& st) {
  asio::io_context io;
  for (int i = 0; i < o.n; ++i) {
    asio::co_spawn(
        io,
        [&, i]() -> asio::awaitable<void> {
          tcp::socket s(io);
          auto [cec] = co_await s.async_connect({asio::ip::make_address("127.0.0.1"), o.port}, tok);
          if (cec) {
            note_error(st, "connect: " + cec.message());
            co_return;
          }
          s.set_option(tcp::no_delay(true));
          asio::streambuf buf;
          co_await enrol(s, buf, o.first + i, st, o.baseline_path);
        },
        asio::detached);
  }
  io.run();
}

// p50, p99 and max per request kind; returns each kind's p99.
std::map<std::string, double> print_latencies(Stats& st) {
  std::printf("%-10s %7s %8s %8s %8s\n", "request", "count", "p50 ms", "p99 ms", "max ms");
  std::map<std::string, double> p99;
  for (auto& [k, times] : st.ms) {
    std::vector<double>& v = times;  // a lambda may not capture a structured binding in clang 14
    std::sort(v.begin(), v.end());
    auto at = [&v](double q) {
      return v.empty() ? 0.0 : v[std::min(v.size() - 1, static_cast<std::size_t>(v.size() * q))];
    };
    std::printf("%-10s %7zu %8.2f %8.2f %8.2f\n", k.c_str(), v.size(), at(0.5), at(0.99),
                v.empty() ? 0.0 : v.back());
    p99[k] = at(0.99);
  }
  std::size_t answered = 0;
  for (auto& [k, v] : st.ms) answered += v.size();
  std::printf("requests answered: %zu\n", answered);
  return p99;
}

// Issue 19's targets for the swarm.
void print_verdicts(const std::map<std::string, double>& p99) {
  const double p99_progress = p99.contains("progress") ? p99.at("progress") : 0.0;
  std::printf("heartbeat p99 %.2f ms (target < 50): %s\n", p99_progress,
              p99_progress < 50 ? "PASS" : "MISS");
  // A start of 1,000 laptops answers each of these within 100 ms at p99.
  for (const char* k : {"enrol", "next", "result"}) {
    auto it = p99.find(k);
    if (it == p99.end()) continue;
    std::printf("%s p99 %.2f ms (target < 100): %s\n", k, it->second,
                it->second < 100 ? "PASS" : "MISS");
  }
}

// Prints why an argument is refused; false, for parse_options to return.
bool bad_argument(const char* message) {
  std::fprintf(stderr, "agent_swarm: %s\n", message);
  return false;
}

// The command line into `o`; false (with the reason printed) when an argument is wrong.
bool parse_options(int argc, char** argv, Options& o) {
  o.port = static_cast<unsigned short>(std::stoi(argv[1]));
  if (argc > 2) o.n = std::stoi(argv[2]);
  if (argc > 3) o.secs = std::stod(argv[3]);
  for (int a = 4; a < argc; ++a) {
    const std::string arg = argv[a];
    if (arg == "--burst") {
      o.burst = true;
    } else if (arg == "--baseline") {
      o.baseline = true;
    } else if (arg == "--path" && a + 1 < argc) {
      o.baseline_path = argv[++a];
    } else if (arg == "--ramp") {
      char* end = nullptr;
      o.ramp = a + 1 < argc ? std::strtod(argv[++a], &end) : -1;
      if (end == nullptr || *end != '\0' || o.ramp < 0)
        return bad_argument("--ramp takes a number of seconds");
    } else if (arg == "--history") {
      char* end = nullptr;
      const long h = a + 1 < argc ? std::strtol(argv[++a], &end, 10) : -1;
      if (end == nullptr || *end != '\0' || h < 0)
        return bad_argument("--history takes a number of laptops");
      o.history = static_cast<int>(h);
    } else if (arg == "--first") {
      char* end = nullptr;
      const long f = a + 1 < argc ? std::strtol(argv[++a], &end, 10) : -1;
      if (end == nullptr || *end != '\0' || f < 0 || f > 99999)
        return bad_argument("--first takes a laptop number");
      o.first = static_cast<int>(f);
    } else {
      std::fprintf(stderr, "agent_swarm: unknown argument %s\n", arg.c_str());
      return false;
    }
  }
  if (o.first + o.n + o.history > 99999)  // serials have five digits
    return bad_argument("the laptops' numbers (--first, the swarm's, --history) end at 99,999");
  return true;
}

int run(int argc, char** argv) {
  Options o;
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: %s PORT [AGENTS] [SECONDS] [--burst] [--ramp SECS] [--history N] "
                 "[--first K] [--baseline [--path PATH]]\n",
                 argv[0]);
    return 2;
  }
  if (!parse_options(argc, argv, o)) return 2;
  Stats st;
  if (o.baseline) {
    run_baseline(o, st);
    std::printf("%d enrolment requests at once, each stopping at its answer\n", o.n);
    print_latencies(st);
  } else {
    if (o.history > 0 && fill_history(o.port, o.first + o.n, o.history) != 0) return 1;
    run_swarm(o, st);
    char enrolled_when[64] = "all at once";
    if (o.ramp > 0) std::snprintf(enrolled_when, sizeof enrolled_when, "over %.1f s", o.ramp);
    std::printf("%d agents (%s), enrolled %s, %.0f s\n", o.n, o.burst ? "burst" : "spread",
                enrolled_when, o.secs);
    print_verdicts(print_latencies(st));
  }
  std::printf("errors: %d %s\n", st.errors, st.first_error.c_str());
  return st.errors ? 1 : 0;
}

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "agent_swarm: %s\n", e.what());
    return 1;
  }
}
