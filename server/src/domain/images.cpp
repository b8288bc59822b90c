#include "domain/images.hpp"

#include <unistd.h>

#include <set>

#include "revive/image_ops.hpp"

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

std::uint64_t Images::start_import(const std::string& spool, ImportRequest request,
                                   std::function<void(std::uint64_t)> done) {
  const std::uint64_t job = jobs_->next++;
  jobs_->finished[job] = std::nullopt;
  auto result = std::make_shared<Result<ImportReport>>(make_error(Errc::internal, "not run"));
  ImageStore& store = store_;
  ImportOptions o;
  o.name = request.name;
  o.replace = request.replace;
  o.content_defined = request.content_chunks;
  run_blocking_(
      [&store, spool, o, result] {
        *result = import_raw_image(store, spool, o);
        ::unlink(spool.c_str());
      },
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
