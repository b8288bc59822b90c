#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <map>

#include "revive/chunk_pipeline.hpp"
#include "revive/file_util.hpp"
#include "revive/image_ops.hpp"
#include "revive/parallel.hpp"
#include "revive/store_chunk_source.hpp"
#include "revive/zstd_codec.hpp"

namespace revive {

namespace fs = std::filesystem;

namespace {

/// Writes `data` at `offset` but leaves all-zero 64 KiB runs unwritten: the output was
/// ftruncate()d, so they already read as zeros and stay holes (like `zstd --sparse`).
Result<void> write_skipping_zeros(int fd, std::span<const std::byte> data, std::uint64_t offset,
                                  const std::string& what) {
  constexpr std::size_t kBlock = 64 << 10;
  std::size_t run_start = 0;
  bool in_run = false;
  for (std::size_t pos = 0; pos < data.size(); pos += kBlock) {
    const auto block = data.subspan(pos, std::min(kBlock, data.size() - pos));
    const bool zero = detail::all_zero(block);
    if (!zero && !in_run) {
      run_start = pos;
      in_run = true;
    } else if (zero && in_run) {
      REVIVE_TRY(
          pwrite_all(fd, data.subspan(run_start, pos - run_start), offset + run_start, what));
      in_run = false;
    }
  }
  if (in_run) {
    REVIVE_TRY(pwrite_all(fd, data.subspan(run_start), offset + run_start, what));
  }
  return {};
}

/// Export's sink: each chunk at its offset in the output file, holes kept sparse.
class SparseFileSink : public ChunkSink {
 public:
  SparseFileSink(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
  /// Writes the non-zero runs of `data`; io/no_space naming the file otherwise.
  Result<void> put(std::uint64_t offset, std::span<const std::byte> data) override {
    REVIVE_TRY(write_skipping_zeros(fd_, data, offset, name_));
    // Starts this chunk's write-back now, while the workers decode the next ones: the fsync at
    // the end then finds little left, instead of the whole image, to write. Only a hint; that
    // fsync is what makes the file durable, whatever this returns.
    (void)::sync_file_range(fd_, static_cast<off_t>(offset), static_cast<off_t>(data.size()),
                            SYNC_FILE_RANGE_WRITE);
    return {};
  }

 private:
  int fd_;
  std::string name_;
};

/// Verify's sink: a chunk that passed its check needs to go nowhere.
class DiscardSink : public ChunkSink {
 public:
  /// Drops the bytes. Never fails.
  Result<void> put(std::uint64_t, std::span<const std::byte>) override { return {}; }
};

/// The largest chunk file worth reading for `m`: a frame of incompressible data is a little
/// bigger than the chunk; anything much bigger is damage.
std::uint64_t max_frame_size(const Manifest& m) { return 2 * m.chunk_size + (1u << 16); }

/// Refuses to export onto something that is not a regular file, or onto an existing file
/// without `overwrite`.
Result<void> check_export_target(const fs::path& out, bool overwrite) {
  std::error_code ec;
  const auto st = fs::symlink_status(out, ec);
  if (!fs::exists(st)) return {};
  if (!fs::is_regular_file(st)) {
    return make_error(
        Errc::invalid_input,
        out.string() + " exists and is not a regular file; refusing to export onto it");
  }
  if (!overwrite) {
    return make_error(Errc::already_exists,
                      out.string() + " already exists (use --force to overwrite it)");
  }
  return {};
}

/// A temp file next to the output, removed unless kept: a failed or cancelled export leaves
/// nothing behind.
struct TmpFile {
  fs::path path;
  UniqueFd fd;
  bool keep = false;
  TmpFile(fs::path p, UniqueFd f) : path(std::move(p)), fd(std::move(f)) {}
  TmpFile(const TmpFile&) = delete;
  TmpFile& operator=(const TmpFile&) = delete;
  ~TmpFile() {
    if (!keep) ::unlink(path.c_str());
  }
};

/// Creates the temp file for `out` in its directory, sized to `size` (all holes).
Result<std::unique_ptr<TmpFile>> create_tmp_for(const fs::path& out, std::uint64_t size) {
  const fs::path dir = out.has_parent_path() ? out.parent_path() : fs::path(".");
  // Built by appending: GCC 12 warns (-Wrestrict, a false positive) on "." + string.
  std::string prefix(1, '.');
  prefix += out.filename().string();
  prefix += ".revive-partial";
  const fs::path tmp = dir / unique_tmp_name(prefix);
  auto fd = open_file(tmp, O_WRONLY | O_CREAT | O_EXCL, 0644);
  if (!fd) return fd.error().with_context("export");
  auto file = std::make_unique<TmpFile>(tmp, std::move(*fd));
  if (::ftruncate(file->fd.get(), static_cast<off_t>(size)) != 0) {
    return errno_error(errno, "size " + tmp.string());
  }
  return file;
}

}  // namespace

Result<ExportReport> export_raw_image(const ImageStore& store, const std::string& name,
                                      const fs::path& out, const ExportOptions& opts) {
  auto lock = store.lock_shared();
  if (!lock) return lock.error();
  auto m = store.load(name, opts.trusted);
  if (!m) return m.error();
  REVIVE_TRY(check_export_target(out, opts.overwrite));
  auto tmp = create_tmp_for(out, m->logical_size);
  if (!tmp) return tmp.error();

  StoreChunkSource source(store.chunks(), max_frame_size(*m));
  SparseFileSink sink((*tmp)->fd.get(), (*tmp)->path.string());
  ChunkPipelineOptions po;
  po.workers = worker_count(opts.threads);
  po.stop = opts.cancel;
  ChunkPipeline pipeline(*m, m->data_extents(), std::move(po));
  detail::ProgressThrottle progress(opts.progress);
  auto r = pipeline.run(source, sink,
                        [&] { progress.maybe(pipeline.bytes_done(), pipeline.bytes_total()); });
  if (!r) {
    const Error e = r.error().code == Errc::cancelled
                        ? make_error(Errc::cancelled, "export cancelled")
                        : r.error();
    return e.with_context("export of " + name + " failed; nothing was written to " + out.string());
  }
  const fs::path& tmp_path = (*tmp)->path;
  if (::fsync((*tmp)->fd.get()) != 0) return errno_error(errno, "fsync " + tmp_path.string());
  (*tmp)->fd.reset();
  if (::rename(tmp_path.c_str(), out.c_str()) != 0) {
    return errno_error(errno, "rename " + tmp_path.string() + " to " + out.string());
  }
  (*tmp)->keep = true;
  REVIVE_TRY(fsync_dir(out.has_parent_path() ? out.parent_path() : fs::path(".")));
  progress.final(m->data_bytes, m->data_bytes);
  return ExportReport{m->logical_size, m->data_bytes};
}

Result<VerifyReport> verify_image(const ImageStore& store, const std::string& name,
                                  const VerifyOptions& opts) {
  auto lock = store.lock_shared();
  if (!lock) return lock.error();
  auto text = store.read_manifest_text(name);
  if (!text) return text.error();
  auto sm = parse_signed_manifest(*text);
  if (!sm) return sm.error().with_context("image " + name);
  VerifyReport report;
  report.name = name;
  if (auto r = check_signature(*sm, opts.trusted.value_or(store.key().public_key())); !r) {
    report.signature_problem = r.error().message;
  }
  const Manifest& m = sm->manifest;

  // Each distinct chunk is checked once, reported at its first offset.
  std::map<Digest, std::size_t> first_use;
  for (std::size_t i = 0; i < m.extents.size(); ++i) {
    if (!m.extents[i].is_hole()) first_use.emplace(*m.extents[i].sha256, i);
  }
  std::vector<std::size_t> todo;
  todo.reserve(first_use.size());
  for (const auto& [d, i] : first_use) todo.push_back(i);
  report.chunks_checked = todo.size();

  StoreChunkSource source(store.chunks(), max_frame_size(m));
  DiscardSink sink;
  ChunkPipelineOptions po;
  po.workers = worker_count(opts.threads);
  po.keep_going = true;  // every bad chunk is listed, not just the first
  ChunkPipeline pipeline(m, std::move(todo), std::move(po));
  detail::ProgressThrottle progress(opts.progress);
  auto r = pipeline.run(source, sink,
                        [&] { progress.maybe(pipeline.bytes_done(), pipeline.bytes_total()); });
  // Not expected: verify has no stop flag and its sink cannot fail; bad chunks are in the report.
  if (!r) return r.error().with_context("verify " + name);
  progress.final(pipeline.bytes_total(), pipeline.bytes_total());
  for (ChunkFailure& f : r->failures) {
    report.bad_chunks.push_back(
        ChunkProblem{f.extent, f.offset, f.sha256, f.error.code, std::move(f.error.message)});
  }
  std::sort(report.bad_chunks.begin(), report.bad_chunks.end(),
            [](const ChunkProblem& a, const ChunkProblem& b) { return a.offset < b.offset; });
  return report;
}

Result<StoreCheckReport> check_store_chunks(const ImageStore& store, unsigned threads,
                                            const ProgressFn& progress_fn) {
  auto lock = store.lock_shared();
  if (!lock) return lock.error();
  StoreCheckReport report;
  std::vector<Digest> all;
  REVIVE_TRY(store.chunks().for_each(
      [&](const Digest& d, std::uint64_t) { all.push_back(d); },
      [&](const fs::path& p) { report.stray_files.push_back(p.string()); }));
  std::atomic<std::size_t> next{0};
  std::mutex mu;
  auto worker = [&](unsigned) {
    ZstdDecompressor zd;
    std::vector<std::byte> frame;
    std::vector<std::byte> out;
    for (std::size_t k; (k = next.fetch_add(1)) < all.size();) {
      const Digest& d = all[k];
      auto r = store.chunks().read(d, frame, 2 * kMaxChunkSize);
      if (r) r = zd.decompress_frame(frame, out, kMaxChunkSize);
      if (r && sha256(out) != d) r = make_error(Errc::corrupt, "content does not match its name");
      if (!r) {
        std::lock_guard l(mu);
        report.bad.push_back(digest_hex(d) + ": " + r.error().message);
      }
    }
  };
  detail::ProgressThrottle progress(progress_fn);
  detail::run_threads(worker_count(threads), worker,
                      [&] { progress.maybe(next.load(), all.size()); });
  progress.final(all.size(), all.size());
  std::sort(report.bad.begin(), report.bad.end());
  report.chunk_files = all.size();
  return report;
}

}  // namespace revive
