#include "revive/agent/client.hpp"

#include <curl/curl.h>

#include <chrono>
#include <random>
#include <thread>

namespace revive::agent {

namespace {
extern "C" size_t collect(char* p, size_t size, size_t n, void* ud) {
  static_cast<std::string*>(ud)->append(p, size * n);
  return size * n;
}
}  // namespace

AgentClient::AgentClient(std::string server, std::function<void(const std::string&)> log,
                         const std::atomic<bool>* stop)
    : server_(std::move(server)), log_(std::move(log)), stop_(stop), curl_(curl_easy_init()) {
  while (!server_.empty() && server_.back() == '/') server_.pop_back();
}

AgentClient::~AgentClient() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

Result<HttpAnswer> AgentClient::post(const std::string& path, const Json& body, long timeout_s) {
  return request(true, path, body.dump(), timeout_s);
}

Result<HttpAnswer> AgentClient::get(const std::string& path, long timeout_s) {
  return request(false, path, "", timeout_s);
}

Result<HttpAnswer> AgentClient::request(bool is_post, const std::string& path,
                                        const std::string& payload, long timeout_s) {
  if (!curl_) return make_error(Errc::internal, "libcurl failed to initialise");
  CURL* c = static_cast<CURL*>(curl_);
  const std::string url = server_ + path;
  std::mt19937 rng(std::random_device{}());
  double backoff = 1.0;
  for (int attempt = 1;; ++attempt) {
    if (stop_ && stop_->load()) return make_error(Errc::cancelled, "stopping");
    std::string out;
    curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
    std::string auth = "Authorization: Bearer " + token_;
    if (!token_.empty()) headers = curl_slist_append(headers, auth.c_str());
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    if (is_post) {
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload.c_str());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(payload.size()));
    } else {
      curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    const CURLcode rc = curl_easy_perform(c);
    long status = 0;
    if (rc == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    if (rc == CURLE_OK && status < 500) {
      HttpAnswer a;
      a.status = status;
      a.body = Json::parse(out, nullptr, false);
      if (a.body.is_discarded()) a.body = Json::object();
      a.raw = std::move(out);
      return a;
    }
    // The server is away or in trouble: wait and try again (jitter spreads a workshop's
    // laptops out when the server comes back).
    const double wait = backoff * std::uniform_real_distribution<double>(0.5, 1.5)(rng);
    if (log_) {
      log_(rc != CURLE_OK
               ? "server " + server_ + " unreachable (" + curl_easy_strerror(rc) +
                     "); retrying in " + std::to_string(static_cast<int>(wait + 0.5)) + " s"
               : "server answered " + std::to_string(status) + "; retrying in " +
                     std::to_string(static_cast<int>(wait + 0.5)) + " s");
    }
    for (double slept = 0; slept < wait; slept += 0.1) {
      if (stop_ && stop_->load()) return make_error(Errc::cancelled, "stopping");
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    backoff = std::min(backoff * 2, 30.0);
  }
}

}  // namespace revive::agent
