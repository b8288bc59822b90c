#include "revive/http_client.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <memory>
#include <mutex>
#include <utility>

#include "revive/file_util.hpp"

namespace revive::http {

namespace detail {

// What the callbacks of one exchange share. Callbacks are noexcept: they store the first error
// here and return libcurl's abort code; perform() hands the error back as a Result.
struct Transfer {
  const Request* request = nullptr;
  std::size_t max_body = 0;
  const BodySink* sink = nullptr;  // download(): where a 2xx body goes
  long status = 0;                 // of the latest status line (a "100 Continue" comes first)
  std::string body;
  std::map<std::string, std::string> headers;
  std::uint64_t body_bytes = 0;
  // upload()
  int file_fd = -1;
  std::string file_name;
  std::uint64_t file_size = 0;
  std::uint64_t sent = 0;
  const UploadProgress* progress = nullptr;
  // first_byte_timeout / stall_timeout (on_xfer)
  std::chrono::milliseconds first_byte_timeout{0};
  std::chrono::milliseconds stall_timeout{0};
  const std::atomic<bool>* abort = nullptr;
  std::chrono::steady_clock::time_point started{};
  std::chrono::steady_clock::time_point last_move{};  // the answer began or a byte moved
  std::int64_t moved = 0;
  std::optional<Error> error;

  void fail(Error e) noexcept {
    if (!error) error = std::move(e);
  }
  std::string what() const { return request->method + " " + request->url; }
};

}  // namespace detail

namespace {

using detail::Transfer;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// "HTTP/1.1 200 OK" -> 200; 0 when the line is not a status line.
long status_of(std::string_view line) {
  if (!line.starts_with("HTTP/")) return 0;
  const auto space = line.find(' ');
  if (space == std::string_view::npos || line.size() < space + 4) return 0;
  long code = 0;
  for (char c : line.substr(space + 1, 3)) {
    if (c < '0' || c > '9') return 0;
    code = code * 10 + (c - '0');
  }
  return code;
}

void keep_header(Transfer& t, std::string_view line) {
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return;
  const std::string name = lower(trim(line.substr(0, colon)));
  for (const auto& wanted : t.request->keep_headers) {
    if (lower(wanted) == name) {
      t.headers[name] = std::string(trim(line.substr(colon + 1)));
      return;
    }
  }
}

extern "C" size_t on_header(char* data, size_t size, size_t n, void* user) noexcept {
  auto& t = *static_cast<Transfer*>(user);
  const size_t len = size * n;
  try {
    const std::string_view line(data, len);
    if (const long code = status_of(line); code != 0) {
      if (t.status == 0) t.last_move = std::chrono::steady_clock::now();
      t.status = code;
      t.headers.clear();  // the headers of an interim answer (100 Continue) are not the answer's
    } else {
      keep_header(t, line);
    }
    return len;
  } catch (...) {
    t.fail(make_error(Errc::internal, "out of memory reading the headers"));
    return 0;
  }
}

extern "C" size_t on_body(char* data, size_t size, size_t n, void* user) noexcept {
  auto& t = *static_cast<Transfer*>(user);
  const size_t len = size * n;
  try {
    t.body_bytes += len;
    if (t.sink != nullptr && t.status >= 200 && t.status < 300) {
      auto r = (*t.sink)(std::as_bytes(std::span(data, len)));
      if (!r) {
        t.fail(r.error());
        return 0;
      }
      return len;
    }
    if (t.body.size() + len > t.max_body) {
      t.fail(make_error(Errc::invalid_input, t.what() + ": answer larger than " +
                                                 std::to_string(t.max_body) + " bytes"));
      return 0;
    }
    t.body.append(data, len);
    return len;
  } catch (const std::exception& e) {
    t.fail(make_error(Errc::internal, e.what()));
    return 0;
  } catch (...) {
    t.fail(make_error(Errc::internal, "the body sink threw"));
    return 0;
  }
}

extern "C" size_t on_read(char* buf, size_t size, size_t n, void* user) noexcept {
  auto& t = *static_cast<Transfer*>(user);
  const auto want = static_cast<size_t>(std::min<std::uint64_t>(size * n, t.file_size - t.sent));
  if (want == 0) return 0;
  try {
    ssize_t got = 0;
    do {
      got = ::pread(t.file_fd, buf, want, static_cast<off_t>(t.sent));
    } while (got < 0 && errno == EINTR);
    if (got < 0) {
      t.fail(errno_error(errno, "reading " + t.file_name));
      return CURL_READFUNC_ABORT;
    }
    if (got == 0) {
      t.fail(make_error(Errc::io, t.file_name + " became shorter during the upload"));
      return CURL_READFUNC_ABORT;
    }
    t.sent += static_cast<std::uint64_t>(got);
    if (t.progress != nullptr && *t.progress) (*t.progress)(t.sent, t.file_size);
    return static_cast<size_t>(got);
  } catch (...) {
    t.fail(make_error(Errc::internal, "the upload progress callback threw"));
    return CURL_READFUNC_ABORT;
  }
}

// libcurl rewinds the body when it resends a request on a fresh connection (the keep-alive one
// was closed meanwhile); reads are positioned, so a rewind only moves the offset.
extern "C" int on_seek(void* user, curl_off_t offset, int origin) noexcept {
  auto& t = *static_cast<Transfer*>(user);
  if (origin != SEEK_SET || offset < 0 || static_cast<std::uint64_t>(offset) > t.file_size)
    return CURL_SEEKFUNC_CANTSEEK;
  t.sent = static_cast<std::uint64_t>(offset);
  return CURL_SEEKFUNC_OK;
}

long long ms_since(std::chrono::steady_clock::time_point since,
                   std::chrono::steady_clock::time_point now) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(now - since).count();
}

// libcurl's progress callback, called as bytes move and about once a second while idle: cuts an
// answer that does not begin, or stops moving, within its time.
extern "C" int on_xfer(void* user, curl_off_t /*dltotal*/, curl_off_t dlnow, curl_off_t /*ultotal*/,
                       curl_off_t ulnow) noexcept {
  auto& t = *static_cast<Transfer*>(user);
  const auto now = std::chrono::steady_clock::now();
  try {
    if (t.abort != nullptr && t.abort->load()) {
      t.fail(make_error(Errc::cancelled, t.what() + ": cancelled"));
      return 1;
    }
    if (t.status == 0) {
      if (t.first_byte_timeout.count() > 0 && now - t.started > t.first_byte_timeout) {
        t.fail(make_error(Errc::io, t.what() + ": no answer within " +
                                        std::to_string(ms_since(t.started, now)) + " ms"));
        return 1;
      }
      return 0;
    }
    if (dlnow + ulnow != t.moved) {
      t.moved = dlnow + ulnow;
      t.last_move = now;
      return 0;
    }
    if (t.stall_timeout.count() > 0 && now - t.last_move > t.stall_timeout) {
      t.fail(make_error(Errc::io, t.what() + ": stalled, nothing received for " +
                                      std::to_string(ms_since(t.last_move, now)) + " ms"));
      return 1;
    }
    return 0;
  } catch (...) {
    return 1;  // building the message ran out of memory: abort all the same
  }
}

void set_deadlines(CURL* c, const ConnectionOptions& o, Transfer& t) {
  if (o.first_byte_timeout.count() <= 0 && o.stall_timeout.count() <= 0 && o.abort == nullptr)
    return;
  t.abort = o.abort;
  t.first_byte_timeout = o.first_byte_timeout;
  t.stall_timeout = o.stall_timeout;
  t.started = t.last_move = std::chrono::steady_clock::now();
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_xfer);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
}

void set_method(CURL* c, const Request& r, Transfer& t) {
  if (t.file_fd >= 0) {
    curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(c, CURLOPT_READDATA, &t);
    curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek);
    curl_easy_setopt(c, CURLOPT_SEEKDATA, &t);
    const auto size = static_cast<curl_off_t>(t.file_size);
    if (r.method == "PUT") {
      curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, size);
    } else {
      curl_easy_setopt(c, CURLOPT_POST, 1L);
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, size);
    }
    return;
  }
  if (r.method == "GET" && r.body.empty()) {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    return;
  }
  if (r.method != "POST") curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, r.method.c_str());
  if (r.method == "POST" || !r.body.empty()) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, r.body.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
  }
}

void set_limits(CURL* c, const ConnectionOptions& o, const Request& r) {
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::chrono::milliseconds(o.connect_timeout).count()));
  if (r.timeout.count() > 0) {
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
                     static_cast<long>(std::chrono::milliseconds(r.timeout).count()));
  }
  if (o.low_speed_limit > 0 && o.low_speed_time.count() > 0) {
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, static_cast<long>(o.low_speed_limit));
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, static_cast<long>(o.low_speed_time.count()));
  }
  if (o.max_recv_rate > 0) {
    curl_easy_setopt(c, CURLOPT_MAX_RECV_SPEED_LARGE, static_cast<curl_off_t>(o.max_recv_rate));
  }
}

CURL* new_easy_handle() {
  // curl_global_init is not thread-safe in every libcurl; curl_easy_init would call it
  // implicitly, from whichever thread comes first.
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  return curl_easy_init();
}

// A pinned key replaces the certificate authority check rather than adding to it: the pin is
// what the operator compared, and the handshake proves the server holds that key.
void set_tls(CURL* c, const ConnectionOptions& o) {
  if (o.pinned_public_key.empty()) return;
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  curl_easy_setopt(c, CURLOPT_PINNEDPUBLICKEY, o.pinned_public_key.c_str());
}

using HeaderList = std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)>;

Result<HeaderList> header_list(const Request& r) {
  curl_slist* list = nullptr;
  for (const auto& h : r.headers) {
    curl_slist* grown = curl_slist_append(list, h.c_str());
    if (grown == nullptr) {
      curl_slist_free_all(list);
      return make_error(Errc::internal, r.method + " " + r.url + ": out of memory for headers");
    }
    list = grown;
  }
  return HeaderList(list, &curl_slist_free_all);
}

}  // namespace

std::string Response::header(std::string_view name) const {
  auto it = headers.find(lower(name));
  return it == headers.end() ? std::string() : it->second;
}

Connection::Connection(ConnectionOptions o) : opts_(std::move(o)) { curl_ = new_easy_handle(); }

Connection::~Connection() {
  if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

Connection::Connection(Connection&& o) noexcept
    : opts_(std::move(o.opts_)), curl_(std::exchange(o.curl_, nullptr)) {}

Connection& Connection::operator=(Connection&& o) noexcept {
  if (this != &o) {
    if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
    opts_ = std::move(o.opts_);
    curl_ = std::exchange(o.curl_, nullptr);
  }
  return *this;
}

Result<Response> Connection::request(const Request& r) {
  Transfer t;
  return perform(r, t);
}

Result<Response> Connection::download(const Request& r, const BodySink& sink) {
  Transfer t;
  t.sink = &sink;
  return perform(r, t);
}

Result<Response> Connection::upload(const Request& r, const std::filesystem::path& file,
                                    const UploadProgress& progress) {
  if (r.method != "POST" && r.method != "PUT")
    return make_error(Errc::invalid_input, r.method + " " + r.url + ": uploads are POST or PUT");
  auto fd = open_file(file, O_RDONLY);
  if (!fd) return fd.error();
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0) return errno_error(errno, "stat " + file.string());
  if (!S_ISREG(st.st_mode))
    return make_error(Errc::invalid_input, file.string() + " is not a regular file");
  Transfer t;
  t.file_fd = fd->get();
  t.file_name = file.string();
  t.file_size = static_cast<std::uint64_t>(st.st_size);
  t.progress = &progress;
  return perform(r, t);
}

Result<Response> Connection::perform(const Request& r, Transfer& t) {
  if (curl_ == nullptr) return make_error(Errc::internal, "libcurl failed to initialise");
  auto* c = static_cast<CURL*>(curl_);
  t.request = &r;
  t.max_body = opts_.max_body;
  auto headers = header_list(r);
  if (!headers) return headers.error();
  curl_easy_reset(c);  // options only: the keep-alive connection stays in the handle's cache
  curl_easy_setopt(c, CURLOPT_URL, r.url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers->get());
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  set_limits(c, opts_, r);
  set_tls(c, opts_);
  set_deadlines(c, opts_, t);
  set_method(c, r, t);
  const CURLcode rc = curl_easy_perform(c);
  if (t.error) return *t.error;
  if (rc == CURLE_SSL_PINNEDPUBKEYNOTMATCH) {
    return make_error(Errc::bad_signature, t.what() + ": the server's TLS key is not the pinned " +
                                               opts_.pinned_public_key);
  }
  if (rc != CURLE_OK) return make_error(Errc::io, t.what() + ": " + curl_easy_strerror(rc));
  Response out;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out.status);
  curl_off_t length = -1;
  curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
  if (length >= 0) out.content_length = static_cast<std::uint64_t>(length);
  out.body = std::move(t.body);
  out.headers = std::move(t.headers);
  out.body_bytes = t.body_bytes;
  return out;
}

Result<std::string> peer_certificate(const std::string& url, std::chrono::seconds timeout) {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> h(new_easy_handle(), &curl_easy_cleanup);
  if (!h) return make_error(Errc::internal, "libcurl failed to initialise");
  CURL* c = h.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);  // the handshake is all that is needed
  curl_easy_setopt(c, CURLOPT_CERTINFO, 1L);
  // Not trusted here: the caller shows the key's pin to a person, or compares it with a pin.
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(std::chrono::milliseconds(timeout).count()));
  if (const CURLcode rc = curl_easy_perform(c); rc != CURLE_OK)
    return make_error(Errc::io, "TLS connection to " + url + ": " + curl_easy_strerror(rc));
  curl_certinfo* info = nullptr;
  if (curl_easy_getinfo(c, CURLINFO_CERTINFO, &info) == CURLE_OK && info != nullptr &&
      info->num_of_certs > 0) {
    constexpr std::string_view kCert = "Cert:";
    for (curl_slist* e = info->certinfo[0]; e != nullptr; e = e->next) {
      const std::string_view line(e->data);
      if (line.starts_with(kCert)) return std::string(line.substr(kCert.size()));
    }
  }
  return make_error(Errc::unsupported, url + ": libcurl gave no server certificate to check");
}

std::string bearer(std::string_view token) { return "Authorization: Bearer " + std::string(token); }

std::string escape(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

std::string trim_base_url(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

}  // namespace revive::http
