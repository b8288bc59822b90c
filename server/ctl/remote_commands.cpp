#include "remote_commands.hpp"

#include <fmt/core.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "progress_bar.hpp"
#include "revive/file_util.hpp"
#include "revive/http_client.hpp"
#include "server_pins.hpp"
#include "watch_source.hpp"

namespace revive::ctl {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

fs::path token_file() { return config_dir() / "session.json"; }

void fill_defaults(RemoteArgs& a) {
  json saved;
  if (std::ifstream in(token_file()); in) saved = json::parse(in, nullptr, false);
  if (a.server.empty()) {
    if (const char* s = std::getenv("REVIVE_SERVER")) a.server = s;
  }
  if (a.server.empty() && saved.is_object()) a.server = saved.value("server", "");
  if (a.server.empty()) a.server = "http://127.0.0.1:8080";
  while (!a.server.empty() && a.server.back() == '/') a.server.pop_back();
  if (a.token.empty()) {
    if (const char* t = std::getenv("REVIVE_TOKEN")) a.token = t;
  }
  if (a.token.empty() && saved.is_object() && saved.value("server", "") == a.server)
    a.token = saved.value("token", "");
  // An https:// server is reached only with the key pinned at login (a damaged pin file
  // leaves no pin: the connection then fails the certificate check instead of trusting).
  if (auto pin = pinned_key(a.server); pin && *pin) a.pin = **pin;
}

// One server, one keep-alive connection (watch asks again every second). No retries: a person
// is waiting and can run the command again.
class Remote {
 public:
  explicit Remote(const RemoteArgs& a) : a_(a), conn_(options(a)) {}

  Result<http::Response> call(const std::string& method, const std::string& path,
                              const std::string& body = "") {
    http::Request r = request(method, path, "application/json");
    r.body = body;
    r.timeout = std::chrono::seconds(120);
    return conn_.request(r);
  }

  /// Streams `file` as the body of a POST, drawing `bar`; no time limit (images are large).
  Result<http::Response> upload(const std::string& path, const std::string& file,
                                ProgressBar& bar) {
    const http::Request r = request("POST", path, "application/octet-stream");
    return conn_.upload(r, file,
                        [&](std::uint64_t sent, std::uint64_t total) { bar.update(sent, total); });
  }

 private:
  static http::ConnectionOptions options(const RemoteArgs& a) {
    http::ConnectionOptions o;
    o.pinned_public_key = a.pin;
    return o;
  }

  http::Request request(const std::string& method, const std::string& path,
                        const std::string& content_type) const {
    http::Request r;
    r.method = method;
    r.url = a_.server + path;
    if (!a_.token.empty()) r.headers.push_back(http::bearer(a_.token));
    r.headers.push_back("Content-Type: " + content_type);
    return r;
  }

  const RemoteArgs& a_;
  http::Connection conn_;
};

/// Prints a failed answer as a person would want it; returns the exit code.
int report(const Result<http::Response>& r, const RemoteArgs& a) {
  if (!r) {
    if (r.error().code == Errc::bad_signature && !a.pin.empty()) {
      fmt::print(stderr, "revivectl: error: {}\n", changed_key_message(a.server, a.pin));
    } else if (r.error().code == Errc::io) {
      fmt::print(stderr, "revivectl: error: cannot reach the server: {}\n", r.error().message);
      if (a.server.starts_with("https://") && a.pin.empty())
        fmt::print(stderr,
                   "revivectl: no TLS key is pinned for {}: `revivectl login` shows it and "
                   "pins it\n",
                   a.server);
    } else {
      fmt::print(stderr, "revivectl: error: {}\n", r.error().message);
    }
    return 1;
  }
  if (r->ok()) return 0;
  json j = json::parse(r->body, nullptr, false);
  const std::string msg =
      j.is_object() && j.contains("error") ? j["error"].get<std::string>() : r->body;
  fmt::print(stderr, "revivectl: error: server answered {}: {}\n", r->status, msg);
  if (r->status == 401)
    fmt::print(stderr, "revivectl: log in with `revivectl login --server URL --user NAME`\n");
  return 1;
}

std::string bar(double frac, int width) {
  const int fill = static_cast<int>(std::clamp(frac, 0.0, 1.0) * width);
  return std::string(static_cast<std::size_t>(fill), '#') +
         std::string(static_cast<std::size_t>(width - fill), '.');
}

std::string device_table(const json& devices) {
  std::string out =
      fmt::format("{:>4}  {:<22} {:<14} {:<10} {:<6} {:<10} {:<24} {:>10} {:>8}  {}\n", "ID",
                  "MODEL", "SERIAL", "STATE", "GRADE", "STEP", "PROGRESS", "RATE", "ETA", "SOURCE");
  for (const auto& d : devices) {
    const json cur = d.value("current", json());
    std::string step = "-", prog, rate = "-", eta = "-";
    if (cur.is_object()) {
      step = cur.value("kind", "-");
      const json p = cur.value("progress", json::object());
      const double done = p.value("bytes_done", 0.0), total = p.value("bytes_total", 0.0);
      const double r = p.value("rate", 0.0);
      if (total > 0)
        prog = "[" + bar(done / total, 14) + "] " + fmt::format("{:3.0f}%", 100 * done / total);
      if (r > 0) {
        rate = human_bytes(static_cast<std::uint64_t>(r)) + "/s";
        if (total > done) eta = fmt::format("{:.0f}s", (total - done) / r);
      }
      if (cur.value("state", "") == "failed") prog = "FAILED: " + cur.value("error", std::string());
    }
    const std::string grade =
        d.contains("grade") && d["grade"].is_string() ? d["grade"].get<std::string>() : "-";
    out +=
        fmt::format("{:>4}  {:<22.22} {:<14.14} {:<10} {:<6} {:<10} {:<24.24} {:>10} {:>8}  {}\n",
                    d.value("id", 0), d.value("model", ""), d.value("serial", ""),
                    d.value("state", ""), grade, step, prog, rate, eta, source_cell(d, devices));
  }
  return out;
}

}  // namespace

int remote_login(RemoteArgs a) {
  fill_defaults(a);
  // The key is settled before the password is asked for: it is never sent to a server whose
  // key the operator has not trusted.
  auto pin = trust_server_key(a.server, a.fingerprint);
  if (!pin) {
    fmt::print(stderr, "revivectl: error: {}\n", pin.error().message);
    return 1;
  }
  a.pin = *pin;
  std::string password;
  if (const char* p = std::getenv("REVIVE_PASSWORD")) {
    password = p;
  } else {
    fmt::print(stderr, "password for {} at {}: ", a.user, a.server);
    termios old{};
    const bool tty = ::isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
    if (tty) {
      termios quiet = old;
      quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
    std::getline(std::cin, password);
    if (tty) tcsetattr(STDIN_FILENO, TCSANOW, &old);
    fmt::print(stderr, "\n");
  }
  a.token.clear();
  auto r = Remote(a).call("POST", "/api/v1/login",
                          json{{"name", a.user}, {"password", password}}.dump());
  if (int rc = report(r, a)) return rc;
  const json j = json::parse(r->body, nullptr, false);
  std::error_code ec;
  fs::create_directories(config_dir(), ec);
  // Written 0600 from the start: the token is as good as the password for 12 hours.
  const std::string saved = json{{"server", a.server}, {"token", j.value("token", "")}}.dump();
  if (auto w = write_file_atomic(token_file(), as_bytes(saved + "\n"), config_dir(), 0600); !w) {
    fmt::print(stderr, "revivectl: error: saving the session: {}\n", w.error().message);
    return 1;
  }
  fmt::print("logged in to {} as {} (session saved in {}{})\n", a.server, a.user,
             token_file().string(), a.pin.empty() ? "" : ", TLS key " + a.pin);
  return 0;
}

int remote_get_json(RemoteArgs a, const std::string& path) {
  fill_defaults(a);
  auto r = Remote(a).call("GET", path);
  if (int rc = report(r, a)) return rc;
  const json j = json::parse(r->body, nullptr, false);
  fmt::print("{}\n", j.is_discarded() ? r->body : j.dump(2));
  return 0;
}

int remote_post(RemoteArgs a, const std::string& path, const std::string& body) {
  fill_defaults(a);
  auto r = Remote(a).call("POST", path, body);
  if (int rc = report(r, a)) return rc;
  fmt::print("{}\n", r->body.empty() ? "ok" : json::parse(r->body, nullptr, false).dump());
  return 0;
}

int remote_post_fields(RemoteArgs a, const std::string& path,
                       const std::vector<std::pair<std::string, std::string>>& fields) {
  json body = json::object();
  for (const auto& [k, v] : fields) {
    if (!v.empty()) body[k] = v;
  }
  return remote_post(std::move(a), path, body.dump());
}

int remote_update_batch(RemoteArgs a, const std::optional<std::string>& image,
                        const std::optional<std::string>& profile) {
  json body = json::object();
  if (image) body["image"] = image->empty() ? json() : json(*image);
  if (profile) body["profile_name"] = profile->empty() ? json() : json(*profile);
  const std::string path = "/api/v1/batches/" + a.id;
  return remote_post(std::move(a), path, body.dump());
}

int remote_put_workflow(RemoteArgs a, const std::string& steps_csv) {
  json steps = json::array();
  std::size_t pos = 0;
  while (pos <= steps_csv.size()) {
    const auto comma = steps_csv.find(',', pos);
    const std::string kind =
        steps_csv.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    if (!kind.empty()) steps.push_back({{"kind", kind}});
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  const std::string body = json{{"name", a.id}, {"steps", steps}}.dump();
  return remote_post(std::move(a), "/api/v1/workflows", body);
}

int remote_devices(RemoteArgs a) {
  fill_defaults(a);
  auto r = Remote(a).call("GET", "/api/v1/devices");
  if (int rc = report(r, a)) return rc;
  fmt::print("{}", device_table(json::parse(r->body, nullptr, false)));
  return 0;
}

namespace {
// The body to stdout ("" or "-") or to a file.
int write_output(const std::string& body, const std::string& file) {
  if (file.empty() || file == "-") {
    std::fwrite(body.data(), 1, body.size(), stdout);
    return 0;
  }
  std::ofstream out(file, std::ios::trunc | std::ios::binary);
  out << body;
  if (!out) {
    fmt::print(stderr, "revivectl: error: cannot write {}\n", file);
    return 1;
  }
  fmt::print(stderr, "wrote {}\n", file);
  return 0;
}

// Bytes with storage behind them: a sparse disk image's holes are not stored either.
std::uint64_t allocated_bytes(const struct stat& st) {
  return std::min(static_cast<std::uint64_t>(st.st_size),
                  static_cast<std::uint64_t>(st.st_blocks) * 512);
}

}  // namespace

int remote_get_file(const RemoteArgs& args, const std::string& path) {
  RemoteArgs a = args;
  fill_defaults(a);
  auto r = Remote(a).call("GET", path);
  if (int rc = report(r, a)) return rc;
  return write_output(r->body, a.file);
}

int remote_export(const RemoteArgs& a) {
  if (a.format != "csv" && a.format != "json") {
    fmt::print(stderr, "revivectl: error: --format must be csv or json\n");
    return 2;
  }
  return remote_get_file(a, "/api/v1/export?format=" + a.format);
}

int remote_image_push(RemoteArgs a) {
  fill_defaults(a);
  struct stat st {};
  if (::stat(a.file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    fmt::print(stderr, "revivectl: error: {} is not a readable regular file\n", a.file);
    return 1;
  }
  if (::access(a.file.c_str(), R_OK) != 0) {
    fmt::print(stderr, "revivectl: error: cannot open {}\n", a.file);
    return 1;
  }
  ProgressBar pb("push", true);
  const std::string path = "/api/v1/images?name=" + http::escape(a.id) +
                           (a.replace ? "&replace=1" : "") +
                           (a.content_chunks ? "&chunks=content" : "") + (a.raw ? "&raw=1" : "") +
                           (a.no_space_check ? "&space_check=0" : "") +
                           // The server's space check counts what is not a hole, as import's.
                           "&data=" + std::to_string(allocated_bytes(st));
  auto r = Remote(a).upload(path, a.file, pb);
  pb.finish();
  if (int rc = report(r, a)) return rc;
  const json j = json::parse(r->body, nullptr, false);
  fmt::print("pushed {}: {} as image {} ({} new chunks, {} stored)\n", a.file,
             human_bytes(static_cast<std::uint64_t>(st.st_size)), j.value("name", ""),
             j.value("new_chunks", 0), human_bytes(j.value("stored_bytes", std::uint64_t{0})));
  return 0;
}

int remote_image_rm(RemoteArgs a) {
  fill_defaults(a);
  auto r = Remote(a).call("DELETE", "/api/v1/images/" + http::escape(a.id));
  if (int rc = report(r, a)) return rc;
  fmt::print("removed image {}\n", a.id);
  return 0;
}

int remote_request(RemoteArgs a, const std::string& method, const std::string& path,
                   const std::string& body, std::string& answer, std::string& server) {
  fill_defaults(a);
  auto r = Remote(a).call(method, path, body);
  if (int rc = report(r, a)) return rc;
  answer = r->body;
  server = a.server;
  return 0;
}

int remote_watch(RemoteArgs a) {
  fill_defaults(a);
  const bool tty = ::isatty(STDOUT_FILENO);
  Remote remote(a);
  for (;;) {
    auto r = remote.call("GET", "/api/v1/devices");
    if (int rc = report(r, a)) return rc;
    const json devices = json::parse(r->body, nullptr, false);
    std::map<std::string, int> counts;
    for (const auto& d : devices) ++counts[d.value("state", "?")];
    std::string summary;
    for (const auto& [k, n] : counts) summary += fmt::format("  {} {}", n, k);
    if (tty) fmt::print("\033[H\033[2J");
    fmt::print("revive workshop at {}: {} laptops{}\n\n{}", a.server, devices.size(), summary,
               device_table(devices));
    std::fflush(stdout);
    if (a.once) return 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(a.interval * 1000)));
  }
}

}  // namespace revive::ctl
