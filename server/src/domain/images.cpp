#include "domain/images.hpp"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <set>

namespace revive::server {

Result<std::vector<std::string>> Images::batches_using(const std::string& name) {
  REVIVE_ASSIGN(all, ctx_.storage().batches().list());
  std::vector<std::string> out;
  for (const auto& b : all) {
    if (b.image == name) out.push_back(b.name);
  }
  return out;
}

Result<Json> Images::list() {
  REVIVE_ASSIGN(names, store_.list());
  Json out = Json::array();
  for (const auto& n : names) {
    REVIVE_ASSIGN(used_by, batches_using(n));
    auto m = store_.load(n);
    if (!m) {
      out.push_back({{"name", n}, {"error", m.error().message}, {"batches", used_by}});
      continue;
    }
    out.push_back({{"name", n},
                   {"batches", used_by},
                   {"id", m->image_id},
                   {"logical_size", m->logical_size},
                   {"stored_bytes", m->stored_bytes},
                   {"chunk_size", m->chunk_size},
                   {"data_chunks", m->data_chunk_count()},
                   {"created_at", m->created_at}});
  }
  return out;
}

Result<std::string> Images::manifest(const std::string& name) {
  return store_.read_manifest_text(name);
}

Result<std::vector<Images::StreamedChunk>> Images::stream_order(const std::string& name,
                                                                std::size_t position) {
  REVIVE_ASSIGN(m, store_.load(name));
  const std::vector<std::size_t> data = m.data_extents();
  std::vector<StreamedChunk> out;
  std::set<Digest> seen;
  for (std::size_t p = position; p < data.size(); ++p) {
    const Extent& e = m.extents[data[p]];
    if (seen.insert(*e.sha256).second) out.push_back({*e.sha256, e.stored_size});
  }
  return out;
}

Result<void> Images::remove(const std::string& name, const std::string& who) {
  // A batch whose image is gone would fail every laptop's deploy step: refused while in use.
  REVIVE_ASSIGN(used_by, batches_using(name));
  if (!used_by.empty()) {
    std::string names;
    for (const auto& b : used_by) names += (names.empty() ? "" : ", ") + b;
    return make_error(Errc::conflict, "image \"" + name + "\" is the image of batch" +
                                          (used_by.size() > 1 ? "es " : " ") + names +
                                          ": give the batch another image first");
  }
  REVIVE_TRY(store_.remove(name));
  // The image is gone either way; the log entry is best effort.
  (void)ctx_.log(std::nullopt, "image-removed", {{"name", name}, {"operator", who}});
  return {};
}

namespace {

// A push's body, read from the pipe the HTTP layer writes it into as it arrives. Each wait for
// more bytes is bounded, so a stopping server (`stopping`) ends an import whose upload's
// connection will not be served again rather than leaving it blocked in read(2).
class UploadStream final : public DiskStream {
 public:
  UploadStream(UniqueFd body, const std::atomic<bool>& stopping)
      : body_(std::move(body)), stopping_(stopping) {}

  Result<std::size_t> read(std::span<std::byte> out) override {
    constexpr int kWaitMs = 200;
    while (!stopping_.load()) {
      pollfd p{body_.get(), POLLIN, 0};
      const int ready = ::poll(&p, 1, kWaitMs);
      if (ready < 0 && errno != EINTR) return errno_error(errno, "poll the upload");
      if (ready <= 0) continue;
      const ssize_t n = ::read(body_.get(), out.data(), out.size());
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno != EINTR && errno != EAGAIN) return errno_error(errno, "read the upload");
    }
    return make_error(Errc::cancelled, "the server is stopping");
  }
  Result<void> finish() override { return {}; }

 private:
  UniqueFd body_;
  const std::atomic<bool>& stopping_;
};

ImportOptions import_options(const Images::ImportRequest& request) {
  ImportOptions o;
  o.name = request.name;
  o.replace = request.replace;
  o.content_defined = request.content_chunks;
  o.raw = request.raw;
  o.check_free_space = request.check_space;
  return o;
}

}  // namespace

std::uint64_t Images::start_import(const std::string& spool, ImportRequest request,
                                   std::function<void(std::uint64_t)> done) {
  ImageStore& store = store_;
  ImportOptions o = import_options(request);
  // Not tmp/upload-ID.part: what the operator uploaded.
  o.label = "the upload of " + request.name;
  o.manifest_source = "upload:" + request.name;
  auto import = [&store, spool, o = std::move(o)] { return import_raw_image(store, spool, o); };
  return run_import_job(run_blocking_, std::move(import), std::move(request), std::move(done));
}

Result<std::uint64_t> Images::start_stream_import(UniqueFd& body, std::uint64_t length,
                                                  ImportRequest request,
                                                  std::function<void(std::uint64_t)> done) {
  ImageStore& store = store_;
  const StreamSource src{.file = "the upload of " + request.name,
                         .source = "push:" + request.name,
                         .size = length,
                         .data_estimate = std::min(length, request.data_bytes.value_or(length))};
  if (pushes_ >= kMaxPushes) {
    return make_error(Errc::busy, std::to_string(pushes_) +
                                      " image pushes are importing; push again when one has ended");
  }
  ImportOptions o = import_options(request);
  REVIVE_TRY(check_stream_import(store, src, o));
  // Shared: a std::function is copyable, the pipe's end is not.
  auto stream = std::make_shared<UploadStream>(std::move(body), stopping_);
  auto import = [&store, stream, src, o = std::move(o)]() mutable {
    auto r = import_image_stream(store, *stream, src, o);
    stream.reset();  // closes the pipe now, so a writer still writing learns the import is over
    return r;
  };
  ++pushes_;
  return run_import_job(run_push_, std::move(import), std::move(request),
                        [this, done = std::move(done)](std::uint64_t job) {
                          --pushes_;
                          done(job);
                        });
}

std::uint64_t Images::run_import_job(const RunBlocking& run,
                                     std::function<Result<ImportReport>()> import,
                                     ImportRequest request,
                                     std::function<void(std::uint64_t)> done) {
  const std::uint64_t job = jobs_->next++;
  jobs_->finished[job] = std::nullopt;
  auto result = std::make_shared<Result<ImportReport>>(make_error(Errc::internal, "not run"));
  run([import = std::move(import), result] { *result = import(); },
      [this, jobs = jobs_, job, result, name = std::move(request.name),
       who = std::move(request.who), done = std::move(done)] {
        if (*result) {
          const auto& m = (*result)->manifest;
          (void)ctx_.log(std::nullopt, "image-imported",
                         {{"name", name}, {"operator", who}, {"id", m.image_id}});
          jobs->finished[job] = Result<ImportSummary>(ImportSummary{
              name, m.image_id, m.logical_size, m.stored_bytes, (*result)->chunks_new});
        } else {
          jobs->finished[job] = Result<ImportSummary>(result->error());
        }
        done(job);
      });
  return job;
}

bool Images::published(std::uint64_t job) const {
  auto it = jobs_->finished.find(job);
  return it != jobs_->finished.end() && it->second && it->second->has_value();
}

Result<std::optional<Result<ImportSummary>>> Images::take_job(std::uint64_t job) {
  auto it = jobs_->finished.find(job);
  if (it == jobs_->finished.end())
    return {boost::system::in_place_error, make_error(Errc::not_found, "import job lost")};
  if (!it->second) return std::optional<Result<ImportSummary>>();
  auto out = std::move(it->second);
  jobs_->finished.erase(it);
  return out;
}

}  // namespace revive::server
