#pragma once
// Images as operators and agents see them: the list, the signed manifest, removal, and imports
// of uploaded disk images, which run on the blocking pool and report back as jobs.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "domain/context.hpp"
#include "revive/image_store.hpp"

namespace revive::server {

struct ImportSummary {
  std::string name;
  std::string image_id;
  std::uint64_t logical_size = 0;
  std::uint64_t stored_bytes = 0;
  std::uint64_t new_chunks = 0;
};

class Images {
 public:
  Images(DomainContext& ctx, ImageStore& store, RunBlocking run_blocking)
      : ctx_(ctx),
        store_(store),
        jobs_(std::make_shared<Jobs>()),
        run_blocking_(std::move(run_blocking)) {}

  /// Every image with its manifest's figures (or the reason it cannot be read) and the names
  /// of the batches whose image it is; io when the store cannot be listed.
  Result<Json> list();
  /// The signed manifest file's text; not_found for an unknown image.
  Result<std::string> manifest(const std::string& name);
  /// What a chunk stream of the image from data extent `position` on carries (chunk_stream.hpp):
  /// each chunk once, in the manifest's order, with its stored size. Empty past the last
  /// extent; not_found for an unknown image.
  struct StreamedChunk {
    Digest digest;
    std::uint64_t stored_size = 0;
  };
  Result<std::vector<StreamedChunk>> stream_order(const std::string& name, std::size_t position);
  /// Removes an image's manifest (chunks stay until gc) and logs who did; not_found for an
  /// unknown image, conflict (naming them) while a batch has it as its image.
  Result<void> remove(const std::string& name, const std::string& who);
  /// What an operator asked of an import.
  struct ImportRequest {
    std::string name;
    bool replace = false;         ///< an image of that name is replaced, not refused
    bool content_chunks = false;  ///< ImportOptions::content_defined: a recipe build's disk
    std::string who;              ///< the operator, for the log
  };
  /// Imports the raw disk image at `spool` (which the import then owns and deletes) on the
  /// blocking pool; the job's id. `done(job)` runs on the io thread when it finishes.
  std::uint64_t start_import(const std::string& spool, ImportRequest request,
                             std::function<void(std::uint64_t)> done);
  /// A finished job's outcome (handed out once), nullopt while it runs; not_found for an
  /// unknown job.
  Result<std::optional<Result<ImportSummary>>> take_job(std::uint64_t job);

 private:
  Result<std::vector<std::string>> batches_using(const std::string& name);

  struct Jobs {
    std::uint64_t next = 0;
    std::map<std::uint64_t, std::optional<Result<ImportSummary>>> finished;
  };
  DomainContext& ctx_;
  ImageStore& store_;
  std::shared_ptr<Jobs> jobs_;
  RunBlocking run_blocking_;
};

}  // namespace revive::server
