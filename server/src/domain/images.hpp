#pragma once
// Images as operators and agents see them: the list, the signed manifest, removal, and imports
// of uploaded disk images (a finished file, or a push's body while it arrives), which run off
// the domain's thread and report back as jobs.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "domain/context.hpp"
#include "revive/file_util.hpp"
#include "revive/image_ops.hpp"
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
  /// How many pushes may import at once; `run_push` must have a thread for each. One more is
  /// refused (busy) rather than left waiting with its upload stalled and nothing said.
  static constexpr unsigned kMaxPushes = 2;

  /// `run_blocking` runs the imports of finished files (shared with other blocking work);
  /// `run_push` the pushes' imports, which last as long as their uploads (minutes from a laptop
  /// on Wi-Fi), so that they never hold up the blocking work behind them.
  Images(DomainContext& ctx, ImageStore& store, RunBlocking run_blocking, RunBlocking run_push)
      : ctx_(ctx),
        store_(store),
        jobs_(std::make_shared<Jobs>()),
        run_blocking_(std::move(run_blocking)),
        run_push_(std::move(run_push)) {}

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
    bool raw = false;             ///< ImportOptions::raw: the bytes, even if not a disk
    /// A push: the bytes that are not holes, as the client says (a sparse file's allocated
    /// size); the free-space check's estimate instead of the whole length. Zero chunks are not
    /// stored, so a 64 GiB disk holding 8 GiB needs no 64 GiB free.
    std::optional<std::uint64_t> data_bytes = std::nullopt;
    bool check_space = true;  ///< ImportOptions::check_free_space (off: try anyway)
    std::string who;          ///< the operator, for the log
  };
  /// Imports the raw disk image at `spool` with `run_blocking`, leaving the file to its owner
  /// (a refused upload stays, to be imported again); the job's id. `done(job)` runs on the io
  /// thread when it finishes.
  std::uint64_t start_import(const std::string& spool, ImportRequest request,
                             std::function<void(std::uint64_t)> done);
  /// Imports the raw disk image of exactly `length` bytes read from `body` (the read end of the
  /// pipe an upload's body is written into as it arrives) with `run_push`, so the import runs
  /// while the upload does; the job's id, `done` as start_import's. What the import would
  /// refuse before reading a byte (a name taken, too little free space, kMaxPushes already
  /// importing) is refused here, with `body` left untouched, so the upload need not be sent. A
  /// body that ends short fails the import and publishes nothing; a failed import closes
  /// `body`, which tells the writer to stop.
  Result<std::uint64_t> start_stream_import(UniqueFd& body, std::uint64_t length,
                                            ImportRequest request,
                                            std::function<void(std::uint64_t)> done);
  /// Ends the imports still reading an upload's body: the server is stopping, and the
  /// connections that would write the rest will not be served again.
  void stop_stream_imports() { stopping_ = true; }
  /// A finished job's outcome (handed out once), nullopt while it runs; not_found for an
  /// unknown job.
  Result<std::optional<Result<ImportSummary>>> take_job(std::uint64_t job);
  /// Whether `job` ended with its image published (false while it runs, after it failed or
  /// once its outcome was taken); for `done`, which runs before anyone takes it.
  bool published(std::uint64_t job) const;

 private:
  Result<std::vector<std::string>> batches_using(const std::string& name);
  /// Runs `import` with `run` as a job whose outcome take_job hands out.
  std::uint64_t run_import_job(const RunBlocking& run, std::function<Result<ImportReport>()> import,
                               ImportRequest request, std::function<void(std::uint64_t)> done);

  struct Jobs {
    std::uint64_t next = 0;
    std::map<std::uint64_t, std::optional<Result<ImportSummary>>> finished;
  };
  DomainContext& ctx_;
  ImageStore& store_;
  std::shared_ptr<Jobs> jobs_;
  RunBlocking run_blocking_;
  RunBlocking run_push_;
  unsigned pushes_ = 0;  ///< pushes importing now (the domain's thread counts them)
  std::atomic<bool> stopping_{false};
};

}  // namespace revive::server
