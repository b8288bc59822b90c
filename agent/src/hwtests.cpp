#include "revive/agent/hwtests.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstring>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "revive/agent/system.hpp"
#include "revive/file_util.hpp"

namespace revive::agent {

namespace {
using Clock = std::chrono::steady_clock;

// One round: 4096 steps of xorshift + multiply; the compiler cannot skip it (result is used).
std::uint64_t round_of_work(std::uint64_t x) {
  for (int i = 0; i < 4096; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x *= 0x9E3779B97F4A7C15ull;
  }
  return x;
}

double run_rounds(std::chrono::milliseconds budget, std::uint64_t& checksum) {
  const auto end = Clock::now() + budget;
  std::uint64_t rounds = 0, x = 1;
  const auto start = Clock::now();
  while (Clock::now() < end) {
    for (int k = 0; k < 64; ++k) x = round_of_work(x);
    rounds += 64;
  }
  checksum ^= x;
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  return static_cast<double>(rounds) / secs / 1e3;  // thousands of rounds a second
}
}  // namespace

Json cpu_test(std::chrono::milliseconds budget, unsigned threads,
              const std::function<void()>& single_done) {
  std::uint64_t sum = 0;
  const double single = run_rounds(budget, sum);
  if (single_done) single_done();
  threads = std::max(1u, threads);
  std::vector<double> per(threads);
  std::vector<std::uint64_t> sums(threads);
  {
    std::vector<std::jthread> ts;
    for (unsigned i = 0; i < threads; ++i)
      ts.emplace_back([&, i] { per[i] = run_rounds(budget, sums[i]); });
  }
  double multi = 0;
  for (double v : per) multi += v;
  return {{"single_score", single},      {"multi_score", multi},
          {"threads", threads},          {"budget_ms", budget.count()},
          {"unit", "thousand rounds/s"}, {"checksum_nonzero", (sum | sums[0]) != 0}};
}

Json memory_test(std::size_t test_mib, std::chrono::milliseconds budget) {
  const std::size_t bytes = std::max<std::size_t>(test_mib, 1) << 20;
  const std::size_t words = bytes / sizeof(std::uint64_t);
  std::unique_ptr<std::uint64_t[]> a(new std::uint64_t[words]);
  std::unique_ptr<std::uint64_t[]> b(new std::uint64_t[words]);
  std::memset(a.get(), 0x5A, bytes);
  // Bandwidth: repeated copies for a quarter of the budget.
  const auto bw_end = Clock::now() + budget / 4;
  std::uint64_t copied = 0;
  const auto t0 = Clock::now();
  do {
    std::memcpy(b.get(), a.get(), bytes);
    copied += bytes;
  } while (Clock::now() < bw_end);
  const double bw =
      static_cast<double>(copied) / std::chrono::duration<double>(Clock::now() - t0).count() / 1e6;
  // Patterns: each writes the whole buffer, then reads it back.
  std::uint64_t errors = 0;
  std::int64_t first = -1;
  auto check = [&](auto value_at) {
    for (std::size_t i = 0; i < words; ++i) a[i] = value_at(i);
    for (std::size_t i = 0; i < words; ++i) {
      if (a[i] != value_at(i)) {
        if (first < 0) first = static_cast<std::int64_t>(i * sizeof(std::uint64_t));
        ++errors;
      }
    }
  };
  const auto end = Clock::now() + budget;
  int passes = 0;
  for (int bit = 0; bit < 64 && Clock::now() < end; bit += 8, ++passes) {
    check([bit](std::size_t) { return std::uint64_t{1} << bit; });  // walking ones
  }
  if (Clock::now() < end) {
    check([](std::size_t i) {
      return static_cast<std::uint64_t>(i) * 0x9E3779B97F4A7C15ull;
    });  // address in address
    ++passes;
  }
  if (Clock::now() < end) {
    check([](std::size_t i) { return ~(static_cast<std::uint64_t>(i) * 0x9E3779B97F4A7C15ull); });
    ++passes;
  }
  return {{"bandwidth_mb_s", bw},
          {"tested_mib", test_mib},
          {"passes", passes},
          {"errors", errors},
          {"first_error_offset", first < 0 ? Json() : Json(first)}};
}

Result<Json> disk_read_test(const std::filesystem::path& disk, std::uint64_t max_bytes,
                            std::chrono::milliseconds budget) {
  auto fd = open_file(disk, O_RDONLY);
  if (!fd) return fd.error().with_context("disk read test");
  ::posix_fadvise(fd->get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  std::vector<std::byte> buf(4u << 20);
  std::uint64_t done = 0;
  const auto start = Clock::now();
  const auto end = start + budget;
  while (done < max_bytes && Clock::now() < end) {
    const ssize_t n = ::pread(fd->get(), buf.data(), buf.size(), static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error(errno, "read " + disk.string() + " at offset " + std::to_string(done));
    }
    if (n == 0) break;
    done += static_cast<std::uint64_t>(n);
  }
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  return Json{{"read_bytes", done},
              {"mb_s", secs > 0 ? static_cast<double>(done) / secs / 1e6 : 0.0}};
}

Json smart_selftest(Exec& exec, const std::string& device, std::chrono::seconds budget,
                    const std::function<void(std::chrono::seconds)>& wait) {
  const std::string dev = "/dev/" + device;
  Json out = {{"device", device}};
  auto start = exec.run({"smartctl", "-t", "short", dev}, 60);
  if (!start) return out.update({{"result", "error"}, {"detail", start.error().message}}), out;
  if (start->exit_code & 0x07) {  // could not open, identify, or the command failed
    const bool unsupported = start->out.find("not supported") != std::string::npos ||
                             start->out.find("Self-test") != std::string::npos;
    out["result"] = unsupported ? "not supported" : "error";
    out["detail"] = start->out.substr(0, 400);
    return out;
  }
  const auto deadline = Clock::now() + budget;
  for (;;) {
    auto log = exec.run({"smartctl", "-j", "-l", "selftest", dev}, 60);
    if (!log) return out.update({{"result", "error"}, {"detail", log.error().message}}), out;
    const Json j = Json::parse(log->out, nullptr, false);
    if (!j.is_object())
      return out.update({{"result", "error"}, {"detail", "smartctl gave no JSON"}}), out;
    bool running = false;
    std::optional<bool> passed;
    std::string text;
    if (j.contains("nvme_self_test_log")) {
      const Json& n = j["nvme_self_test_log"];
      running = n.contains("current_self_test_operation") &&
                n["current_self_test_operation"].value("value", 0) != 0;
      if (n.contains("table") && !n["table"].empty()) {
        const Json& r = n["table"][0].value("self_test_result", Json::object());
        passed = r.value("value", 1) == 0;
        text = r.value("string", std::string());
      }
    } else if (j.contains("ata_smart_self_test_log")) {
      const Json& t = j["ata_smart_self_test_log"]
                          .value("standard", Json::object())
                          .value("table", Json::array());
      if (!t.empty()) {
        const Json& st = t[0].value("status", Json::object());
        running = st.value("remaining_percent", 0) > 0;
        passed = st.value("passed", false);
        text = st.value("string", std::string());
      }
    }
    if (!running && passed) {
      out["result"] = *passed ? "passed" : "failed";
      out["detail"] = text;
      return out;
    }
    if (Clock::now() >= deadline)
      return out.update({{"result", "timed out"}, {"detail", text}}), out;
    wait(std::chrono::seconds(5));
  }
}

}  // namespace revive::agent
