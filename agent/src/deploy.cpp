#include "revive/agent/deploy.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "revive/aligned_buffer.hpp"
#include "revive/file_util.hpp"
#include "revive/parallel.hpp"
#include "revive/zstd_codec.hpp"

namespace revive::agent {

namespace {

extern "C" size_t append_bytes(char* p, size_t size, size_t n, void* ud) {
  auto* out = static_cast<std::vector<std::byte>*>(ud);
  const auto* b = reinterpret_cast<const std::byte*>(p);
  if (out->size() + size * n > (kMaxChunkSize * 2)) return 0;  // bigger than any chunk: abort
  out->insert(out->end(), b, b + size * n);
  return size * n;
}

class HttpChunkSource : public ChunkSource {
 public:
  HttpChunkSource(std::string server, std::uint64_t max_rate)
      : server_(std::move(server)), max_rate_(max_rate) {
    while (!server_.empty() && server_.back() == '/') server_.pop_back();
  }
  ~HttpChunkSource() override {
    for (auto& [id, c] : handles_) curl_easy_cleanup(c);
  }

  Result<void> fetch(const Digest& d, std::vector<std::byte>& out) override {
    CURL* c = handle();
    const std::string url = server_ + "/chunks/" + digest_hex(d);
    out.clear();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, append_bytes);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);  // a stalled transfer is cut after 30 s
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 30L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (max_rate_ > 0)
      curl_easy_setopt(c, CURLOPT_MAX_RECV_SPEED_LARGE, static_cast<curl_off_t>(max_rate_));
    const CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_WRITE_ERROR)
      return make_error(Errc::corrupt, "chunk " + digest_hex(d) + ": answer larger than any chunk");
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
  std::mutex mu_;
  std::map<std::thread::id, CURL*> handles_;  // keep-alive connection per worker
  std::atomic<std::uint64_t> fetched_{0};
};

class FdDevice : public BlockDevice {
 public:
  FdDevice(UniqueFd fd, UniqueFd direct, std::uint64_t size, std::string name)
      : fd_(std::move(fd)), direct_(std::move(direct)), size_(size), name_(std::move(name)) {}
  std::uint64_t size() const override { return size_; }
  Result<void> write_at(std::uint64_t off, std::span<const std::byte> data) override {
    return pwrite_all(pick(off, data.data(), data.size()), data, off, name_);
  }
  Result<void> flush() override {
    if (::fdatasync(fd_.get()) != 0) return errno_error(errno, "flush " + name_);
    return {};
  }
  Result<void> read_at(std::uint64_t off, std::span<std::byte> out) override {
    return pread_exact(pick(off, out.data(), out.size()), out, off, name_);
  }
  Result<void> zero_range(std::uint64_t off, std::uint64_t len) override {
    if (len == 0) return {};
    const auto o = static_cast<off_t>(off);
    const auto n = static_cast<off_t>(len);
    // Files and block devices alike: the kernel punches a hole only where zeros are promised.
    if (::fallocate(fd_.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, o, n) == 0) return {};
    if (::fallocate(fd_.get(), FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, o, n) == 0) return {};
    const int why = errno;
    if (why != EOPNOTSUPP && why != EINVAL && why != ENODEV)
      return errno_error(why, "zero " + name_ + " at offset " + std::to_string(off));
    static const std::vector<std::byte> zeros(std::size_t{4} << 20);
    for (std::uint64_t done = 0; done < len;) {
      const std::uint64_t step = std::min<std::uint64_t>(zeros.size(), len - done);
      REVIVE_TRY(
          pwrite_all(fd_.get(), {zeros.data(), static_cast<std::size_t>(step)}, off + done, name_));
      done += step;
    }
    return {};
  }

 private:
  // The direct descriptor takes I/O that is aligned in offset, length and memory.
  int pick(std::uint64_t off, const void* p, std::size_t n) const {
    constexpr std::uint64_t kAlign = 4096;
    const bool aligned =
        off % kAlign == 0 && n % kAlign == 0 && reinterpret_cast<std::uintptr_t>(p) % kAlign == 0;
    return direct_.get() >= 0 && aligned ? direct_.get() : fd_.get();
  }
  UniqueFd fd_;
  UniqueFd direct_;
  std::uint64_t size_;
  std::string name_;
};

// Shared by the workers: when the source stops answering, every worker waits (with backoff,
// watching the stop flag) until it answers again or the outage outlasts its budget.
class OutageTracker {
 public:
  explicit OutageTracker(const DeployOptions& opts) : opts_(opts) {}

  /// One worker saw the source unreachable: waits a little; error once the outage is too long.
  Result<void> wait(const Error& why) {
    std::chrono::milliseconds pause;
    {
      std::lock_guard lock(mu_);
      const auto now = std::chrono::steady_clock::now();
      if (!since_) {
        since_ = now;
        ++count_;
        if (opts_.on_outage) opts_.on_outage(false, why.message);
      }
      if (now - *since_ >= opts_.outage_timeout) {
        return Error(
            Errc::io,
            "the image source stayed unreachable for " +
                std::to_string(
                    std::chrono::duration_cast<std::chrono::seconds>(now - *since_).count()) +
                " s: " + why.message);
      }
      // Back off with the outage's age (0.25 s up to 5 s), never past the budget's end.
      const auto age = std::chrono::duration_cast<std::chrono::milliseconds>(now - *since_);
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(opts_.outage_timeout) - age;
      pause = std::min(
          {std::max(age, std::chrono::milliseconds(250)), std::chrono::milliseconds(5000), left});
    }
    for (auto slept = std::chrono::milliseconds(0); slept < pause;
         slept += std::chrono::milliseconds(50)) {
      if (opts_.stop && opts_.stop->load()) return Error(Errc::cancelled, "deploy stopped");
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return {};
  }

  /// A worker got an answer: the outage, if any, is over.
  void reachable() {
    std::lock_guard lock(mu_);
    if (!since_) return;
    since_.reset();
    if (opts_.on_outage) opts_.on_outage(true, "");
  }

  std::uint64_t count() const {
    std::lock_guard lock(mu_);
    return count_;
  }

 private:
  const DeployOptions& opts_;
  mutable std::mutex mu_;
  std::optional<std::chrono::steady_clock::time_point> since_;
  std::uint64_t count_ = 0;
};

}  // namespace

std::unique_ptr<ChunkSource> make_http_chunk_source(const std::string& server,
                                                    std::uint64_t max_rate) {
  return std::make_unique<HttpChunkSource>(server, max_rate);
}

Result<std::unique_ptr<BlockDevice>> open_block_device(const std::filesystem::path& path,
                                                       DeviceOpenOptions o) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return errno_error(errno, "stat " + path.string());
  if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
    return make_error(Errc::invalid_input,
                      path.string() + " is neither a regular file nor a block device");
  }
  // O_EXCL on a block device: the kernel refuses it while mounted or claimed (RAID, dm).
  const int excl = o.exclusive && S_ISBLK(st.st_mode) ? O_EXCL : 0;
  const int raw = ::open(path.c_str(), O_RDWR | O_CLOEXEC | excl);
  if (raw < 0) {
    const int e = errno;
    if (excl && e == EBUSY)
      return make_error(
          Errc::busy,
          path.string() + " is in use (mounted, or part of a RAID or device-mapper set)");
    return errno_error(e, "open " + path.string());
  }
  std::optional<UniqueFd> fd(UniqueFd{raw});
  if (o.exclusive && S_ISREG(st.st_mode) && ::flock(fd->get(), LOCK_EX | LOCK_NB) != 0) {
    return make_error(Errc::busy, path.string() + " is locked by another process");
  }
  UniqueFd direct;
  if (o.direct) {
    auto d = open_file(path, O_RDWR | O_DIRECT);
    if (d) direct = std::move(*d);  // EINVAL (tmpfs): buffered only
  }
  const off_t end = ::lseek(fd->get(), 0, SEEK_END);  // works for both
  if (end < 0) return errno_error(errno, "size of " + path.string());
  return std::unique_ptr<BlockDevice>(new FdDevice(std::move(*fd), std::move(direct),
                                                   static_cast<std::uint64_t>(end), path.string()));
}

Result<DeployReport> deploy_image(const Manifest& m, ChunkSource& source, BlockDevice& dev,
                                  const DeployOptions& opts) {
  if (dev.size() < m.min_disk_size) {
    return make_error(Errc::invalid_input, "the disk holds " + std::to_string(dev.size()) +
                                               " bytes, the image needs at least " +
                                               std::to_string(m.min_disk_size) +
                                               ": nothing was written");
  }
  const std::vector<std::size_t> data = m.data_extents();
  // Which data extents are on disk: from the checkpoint, then as workers finish them.
  std::unique_ptr<std::atomic<bool>[]> on_disk(new std::atomic<bool>[data.size()]);
  for (std::size_t k = 0; k < data.size(); ++k) on_disk[k] = false;
  std::uint64_t skipped = 0;
  std::uint64_t skipped_bytes = 0;
  for (const auto& [first, last] : opts.already_done) {
    for (std::size_t k = first; k <= last && k < data.size(); ++k) {
      if (!on_disk[k].exchange(true)) {
        ++skipped;
        skipped_bytes += m.extents[data[k]].length;
      }
    }
  }
  std::atomic<std::size_t> next{0};
  std::atomic<std::uint64_t> done{skipped_bytes}, retries{0};
  detail::FirstError first_error;
  auto failed = [&] { return first_error.failed(); };
  auto fail = [&](Error e) { first_error.set(std::move(e)); };
  // Holes first (cheap, and redone on every attempt so a resume needs no record of them).
  std::uint64_t holes_zeroed = 0;
  if (opts.zero_holes) {
    for (std::size_t i = 0; i < m.extents.size();) {
      if (!m.extents[i].is_hole()) {
        ++i;
        continue;
      }
      const std::uint64_t start = m.extents[i].offset;
      std::uint64_t end = start;
      for (; i < m.extents.size() && m.extents[i].is_hole(); ++i)
        end = m.extents[i].offset + m.extents[i].length;
      REVIVE_TRY(dev.zero_range(start, end - start));
      holes_zeroed += end - start;
    }
  }
  OutageTracker outage(opts);
  auto worker = [&](unsigned) {
    ZstdDecompressor zd;
    std::vector<std::byte> frame;
    AlignedBuffer buf(m.chunk_size);  // direct I/O where the device allows it
    for (std::size_t k; (k = next.fetch_add(1)) < data.size();) {
      if (failed()) return;
      if (on_disk[k]) continue;
      if (opts.stop && opts.stop->load())
        return fail(make_error(Errc::cancelled, "deploy stopped"));
      const Extent& e = m.extents[data[k]];
      const std::span<std::byte> out(buf.data(), e.length);
      // Any source, same checks: a chunk is written only after its SHA-256 matches.
      std::optional<Error> last;
      int wrong = 0;  // wrong answers for this chunk (bounded); an unreachable source is waited for
      for (;;) {
        auto r = source.fetch(*e.sha256, frame);
        if (!r && r.error().code == Errc::io) {
          if (auto w = outage.wait(r.error()); !w) {
            last = w.error();
            break;
          }
          continue;
        }
        outage.reachable();
        if (r) r = zd.decompress_exact(frame, out);
        if (r && sha256(out) != *e.sha256)
          r = make_error(Errc::corrupt,
                         "chunk " + digest_hex(*e.sha256) + " failed its hash check");
        if (r) {
          last.reset();
          break;
        }
        last = r.error();
        if (++wrong > opts.chunk_retries) break;
        ++retries;
      }
      if (last) return fail(last->with_context("deploy at offset " + std::to_string(e.offset)));
      if (auto w = dev.write_at(e.offset, out); !w) return fail(w.error());
      on_disk[k] = true;
      done += e.length;
    }
  };
  // What is durably on disk, as ranges: snapshot first, then flush, so every range reported
  // was written before the flush.
  auto durable_ranges = [&]() -> Result<DoneRanges> {
    DoneRanges ranges;
    for (std::size_t k = 0; k < data.size(); ++k) {
      if (!on_disk[k]) continue;
      if (!ranges.empty() && ranges.back().second + 1 == k) {
        ranges.back().second = k;
      } else {
        ranges.emplace_back(k, k);
      }
    }
    REVIVE_TRY(dev.flush());
    return ranges;
  };
  // The calling thread reports progress (and checkpoints) while the workers run.
  auto last_cp = std::chrono::steady_clock::now();
  detail::run_threads(std::max(1u, opts.workers), worker, [&] {
    if (failed()) return;
    if (opts.progress) opts.progress(done.load(), m.data_bytes);
    if (opts.checkpoint && std::chrono::steady_clock::now() - last_cp >= opts.checkpoint_every) {
      last_cp = std::chrono::steady_clock::now();
      if (auto r = durable_ranges()) opts.checkpoint(*r);
    }
  });
  if (auto e = first_error.take()) return *e;
  REVIVE_TRY(dev.flush());
  if (opts.progress) opts.progress(done.load(), m.data_bytes);
  DeployReport r;
  r.chunks_written = data.size() - skipped;
  r.bytes_written = done.load() - skipped_bytes;
  r.bytes_fetched = source.bytes_fetched();
  r.chunk_retries = retries.load();
  r.chunks_skipped = skipped;
  r.outages = outage.count();
  r.holes_zeroed_bytes = holes_zeroed;
  return r;
}

Result<std::vector<std::string>> verify_sample(const Manifest& m, BlockDevice& dev,
                                               unsigned samples, std::uint64_t seed) {
  const std::vector<std::size_t> data = m.data_extents();
  std::vector<std::string> bad;
  if (data.empty()) return bad;
  std::mt19937_64 rng(seed);
  std::vector<std::byte> buf(m.chunk_size);
  for (unsigned s = 0; s < samples; ++s) {
    const Extent& e = m.extents[data[rng() % data.size()]];
    REVIVE_TRY(dev.read_at(e.offset, {buf.data(), e.length}));
    if (sha256({buf.data(), e.length}) != *e.sha256) {
      bad.push_back("offset " + std::to_string(e.offset) + ": read back differs from chunk " +
                    digest_hex(*e.sha256));
    }
  }
  return bad;
}

}  // namespace revive::agent
