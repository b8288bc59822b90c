#include "revive/agent/transport/http_chunk_source.hpp"

#include <curl/curl.h>

#include <atomic>
#include <map>
#include <mutex>
#include <new>
#include <thread>
#include <vector>

#include "revive/manifest.hpp"

namespace revive::agent {

namespace {

// One answer's body as libcurl hands it over, and why it was cut short, if it was.
struct Body {
  std::vector<std::byte>* out;
  std::atomic<std::uint64_t>* arrived;  // may be null
  const char* problem = nullptr;
};

// libcurl's write callback: no exception may cross it, so a failure is stored and 0 returned
// (libcurl then aborts the transfer with CURLE_WRITE_ERROR).
extern "C" size_t append_bytes(char* p, size_t size, size_t n, void* ud) noexcept {
  auto* body = static_cast<Body*>(ud);
  const auto* b = reinterpret_cast<const std::byte*>(p);
  if (body->out->size() + size * n > (kMaxChunkSize * 2)) {
    body->problem = "answer larger than any chunk";
    return 0;
  }
  if (body->arrived != nullptr) body->arrived->fetch_add(size * n, std::memory_order_relaxed);
  try {
    body->out->insert(body->out->end(), b, b + size * n);
  } catch (const std::bad_alloc&) {
    body->problem = "out of memory for the answer";
    return 0;
  }
  return size * n;
}

class HttpChunkSource : public ChunkSource {
 public:
  HttpChunkSource(std::string server, std::uint64_t max_rate, std::atomic<std::uint64_t>* arrived)
      : server_(std::move(server)), max_rate_(max_rate), arrived_(arrived) {
    while (!server_.empty() && server_.back() == '/') server_.pop_back();
  }
  ~HttpChunkSource() override {
    for (auto& [id, c] : handles_) curl_easy_cleanup(c);
  }

  Result<void> fetch(const Digest& d, std::vector<std::byte>& out) override {
    CURL* c = handle();
    const std::string url = server_ + "/chunks/" + digest_hex(d);
    out.clear();
    Body body{&out, arrived_};
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, append_bytes);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);  // a stalled transfer is cut after 30 s
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 30L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (max_rate_ > 0)
      curl_easy_setopt(c, CURLOPT_MAX_RECV_SPEED_LARGE, static_cast<curl_off_t>(max_rate_));
    const CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_WRITE_ERROR && body.problem != nullptr)
      return make_error(Errc::corrupt, "chunk " + digest_hex(d) + ": " + body.problem);
    if (rc != CURLE_OK) {
      return make_error(Errc::io, "chunk " + digest_hex(d) + ": " + curl_easy_strerror(rc));
    }
    long status = 0;
    curl_off_t length = -1;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
    // Only a complete 200 counts (a 206 or a short body is not the chunk).
    if (status != 200) {
      // 5xx and 429: the server is busy or restarting; anything else is a wrong answer.
      const Errc code = status >= 500 || status == 429 ? Errc::io
                        : status == 404                ? Errc::not_found
                                                       : Errc::corrupt;
      return make_error(code,
                        "chunk " + digest_hex(d) + ": server answered " + std::to_string(status));
    }
    if (length >= 0 && static_cast<std::uint64_t>(length) != out.size()) {
      return make_error(Errc::corrupt,
                        "chunk " + digest_hex(d) + ": body shorter than its Content-Length");
    }
    fetched_ += out.size();
    return {};
  }

  std::uint64_t bytes_fetched() const override { return fetched_.load(); }

 private:
  CURL* handle() {
    std::lock_guard lock(mu_);
    auto& h = handles_[std::this_thread::get_id()];
    if (!h) h = curl_easy_init();
    return h;
  }

  std::string server_;
  std::uint64_t max_rate_;
  std::atomic<std::uint64_t>* arrived_;
  std::mutex mu_;
  std::map<std::thread::id, CURL*> handles_;  // keep-alive connection per worker
  std::atomic<std::uint64_t> fetched_{0};
};

}  // namespace

std::unique_ptr<ChunkSource> make_http_chunk_source(const std::string& server,
                                                    std::uint64_t max_rate,
                                                    std::atomic<std::uint64_t>* arrived) {
  return std::make_unique<HttpChunkSource>(server, max_rate, arrived);
}

}  // namespace revive::agent
