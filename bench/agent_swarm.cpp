// 1,000 simulated agents against one revive-server, over real loopback sockets: half send a
// progress heartbeat once a second (each at its own phase, or all at once with --burst), half
// wait in a long-poll for an operator after a failed step. Prints latency percentiles per
// request kind as the client sees them (connect excluded; queueing in the server included).
//
//   agent_swarm PORT [AGENTS] [SECONDS] [--burst]
#include <boost/asio.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
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
  if (ec) co_return std::pair{0, json()};
  auto [ec2, hn] = co_await asio::async_read_until(s, buf, "\r\n\r\n", tok);
  if (ec2) co_return std::pair{0, json()};
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
  if (status >= 400 && st.errors++ == 0)
    st.first_error = kind + ": " + std::to_string(status) + " " + payload;
  co_return std::pair{status, json::parse(payload, nullptr, false)};
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s PORT [AGENTS] [SECONDS] [--burst]\n", argv[0]);
    return 2;
  }
  const auto port = static_cast<unsigned short>(std::stoi(argv[1]));
  const int n = argc > 2 ? std::stoi(argv[2]) : 1000;
  const double secs = argc > 3 ? std::stod(argv[3]) : 30;
  const bool burst = argc > 4 && std::string(argv[4]) == "--burst";
  asio::io_context io;
  Stats st;
  int enrolled = 0;
  asio::steady_timer all_ready(io, Clock::time_point::max());
  Clock::time_point start_at;

  for (int i = 0; i < n; ++i) {
    asio::co_spawn(
        io,
        [&, i]() -> asio::awaitable<void> {
          tcp::socket s(io);
          auto [cec] = co_await s.async_connect({asio::ip::make_address("127.0.0.1"), port}, tok);
          if (cec) {
            ++st.errors;
            co_return;
          }
          s.set_option(tcp::no_delay(true));
          asio::streambuf buf;
          std::string serial =
              "SW" +
              std::to_string(100000 + i).substr(1);  // no arrays in coroutine frames (GCC 12)
          // Arguments are built outside co_await expressions: GCC 12 miscompiles braced lists
          // there.
          json ident = json::object();
          ident["system_uuid"] = "u-" + serial;
          ident["serial"] = serial;
          ident["model"] = std::string("Latitude 7490");
          ident["vendor"] = std::string("Dell Inc.");
          json enrol_body = json::object();
          enrol_body["identity"] = ident;
          auto [es, e] = co_await post(s, buf, std::string("/api/v1/agents/enrol"), enrol_body,
                                       std::string(), st, std::string("enrol"));
          if (es != 200) co_return;
          const std::string token = e["agent_token"];
          const std::string base = "/api/v1/agents/" + std::to_string(e["device_id"].get<long>());
          auto [ns, nx] = co_await post(s, buf, base + "/next?wait=0", json::object(), token, st,
                                        std::string("next"));
          if (ns != 200) co_return;
          const json step = nx["step"];
          if (i % 2 == 1) {
            json res = json::object();
            res["attempt"] = step["attempt"];
            res["status"] = std::string("failed");
            res["error"] = std::string("simulated");
            co_await post(s, buf,
                          base + "/steps/" + std::to_string(step["id"].get<long>()) + "/result",
                          res, token, st, std::string("result"));
          }
          if (++enrolled == n) {
            start_at = Clock::now();
            all_ready.cancel();
          }
          if (enrolled < n) co_await all_ready.async_wait(tok);
          const auto end = start_at + std::chrono::duration<double>(secs);
          asio::steady_timer t(io);
          if (i % 2 == 0) {
            auto next_beat =
                start_at + (burst ? std::chrono::nanoseconds(0)
                                  : std::chrono::nanoseconds(static_cast<long>(
                                        (i * 0.618034 - static_cast<long>(i * 0.618034)) * 1e9)));
            long done = 0;
            while (next_beat < end) {
              t.expires_at(next_beat);
              co_await t.async_wait(tok);
              done += 1 << 20;
              json prog = json::object();
              prog["bytes_done"] = done;
              prog["bytes_total"] = 1L << 34;
              prog["rate"] = 1 << 20;
              prog["stage"] = std::string("wipe");
              json body = json::object();
              body["step"] = step["id"];
              body["progress"] = prog;
              co_await post(s, buf, base + "/progress", body, token, st, std::string("progress"));
              next_beat += std::chrono::seconds(1);
            }
          } else {
            while (Clock::now() < end) {
              const int wait =
                  static_cast<int>(std::chrono::duration<double>(end - Clock::now()).count()) + 1;
              co_await post(s, buf, base + "/next?wait=" + std::to_string(std::min(wait, 60)),
                            json::object(), token, st, std::string("long-poll"));
            }
          }
        },
        asio::detached);
  }
  io.run();
  std::printf("%d agents (%s), %.0f s\n%-10s %7s %8s %8s %8s\n", n, burst ? "burst" : "spread",
              secs, "request", "count", "p50 ms", "p99 ms", "max ms");
  double p99_progress = 0;
  for (auto& [k, v] : st.ms) {
    std::sort(v.begin(), v.end());
    auto at = [&](double q) {
      return v.empty() ? 0.0 : v[std::min(v.size() - 1, static_cast<std::size_t>(v.size() * q))];
    };
    std::printf("%-10s %7zu %8.2f %8.2f %8.2f\n", k.c_str(), v.size(), at(0.5), at(0.99),
                v.empty() ? 0.0 : v.back());
    if (k == "progress") p99_progress = at(0.99);
  }
  std::printf("heartbeat p99 %.2f ms (target < 50): %s\nerrors: %d %s\n", p99_progress,
              p99_progress < 50 ? "PASS" : "MISS", st.errors, st.first_error.c_str());
  return st.errors ? 1 : 0;
}
