#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "chunk_committer.hpp"
#include "import_checks.hpp"
#include "revive/content_cuts.hpp"
#include "revive/encoding.hpp"
#include "revive/file_util.hpp"
#include "revive/image_ops.hpp"
#include "revive/image_probe.hpp"
#include "revive/parallel.hpp"
#include "revive/zstd_codec.hpp"

namespace revive {

namespace fs = std::filesystem;

unsigned worker_count(unsigned requested) {
  if (requested > 0) return std::min(requested, 64u);
  const unsigned hw = std::thread::hardware_concurrency();
  return std::clamp(hw, 1u, 16u);
}

namespace {

using detail::check_content;
using detail::check_free_space;
using detail::check_partition_starts;
using detail::check_request;
using detail::ChunkCommitter;
using detail::ImportPlan;

// The first bytes every check looks at: partition tables, signatures up to btrfs's 64 KiB.
constexpr std::uint64_t kHeadBytes = 1u << 20;

enum class Slot : std::uint8_t { pending, hole, data };

struct ChunkResult {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  Digest sha{};
  std::uint64_t stored = 0;
  Slot kind = Slot::pending;
};

/// The next piece a worker got: where it is, how long, whether it is known to be zeros, and
/// whether its bytes were read (a hole SEEK_DATA reported was not; it may exceed the buffer).
struct ChunkRead {
  std::uint64_t offset = 0;
  std::uint64_t len = 0;
  bool hole = false;
  bool read = true;
};

/// Fills the buffer with the next unclaimed chunk; nullopt when none is left.
using ChunkReader = std::function<Result<std::optional<ChunkRead>>(std::span<std::byte>)>;

/// Hashes, compresses and stores chunks on N workers; the slots say what each chunk became.
class ChunkImporter {
 public:
  ChunkImporter(ImageStore& store, const ImportOptions& opts, const ImportPlan& plan)
      : store_(store), opts_(opts), plan_(plan) {}

  Result<void> run(const ChunkReader& reader) {
    detail::ProgressThrottle progress(opts_.progress);
    {
      // Two: fdatasyncs of small files from one thread queue behind each other's journal
      // commits; from two, the filesystem can fold them into one.
      ChunkCommitter committer(store_.chunks(), first_error_, 2);
      committer_ = &committer;
      detail::run_threads(
          worker_count(opts_.threads), [&](unsigned) { work(reader); },
          [&] { progress.maybe(done_.load(), plan_.size); });
      committer.finish();
      committer_ = nullptr;
    }
    if (auto e = first_error_.take()) return *e;
    progress.final(plan_.size, plan_.size);
    return {};
  }

  Manifest manifest() const;
  void fill(ImportReport& r) const {
    r.chunks_new = chunks_new_;
    r.chunks_reused = chunks_reused_;
    r.bytes_written = bytes_written_;
    r.bytes_read = bytes_read_;
  }

 private:
  ChunkResult& claim(const ChunkRead& c) {
    const std::lock_guard hold(slots_mu_);
    return slots_.emplace_back(ChunkResult{.offset = c.offset, .length = c.len});
  }
  void work(const ChunkReader& reader);
  Result<void> store_chunk(std::span<const std::byte> data, ChunkResult& slot, ZstdCompressor& zc,
                           std::vector<std::byte>& frame);

  ImageStore& store_;
  const ImportOptions& opts_;
  const ImportPlan& plan_;
  std::mutex slots_mu_;
  std::deque<ChunkResult> slots_;  // in the order claimed (a deque: claims keep earlier slots)
  detail::FirstError first_error_;
  ChunkCommitter* committer_ = nullptr;  // during run()
  std::atomic<std::uint64_t> done_{0};
  std::atomic<std::uint64_t> bytes_read_{0};
  std::atomic<std::uint64_t> chunks_new_{0};
  std::atomic<std::uint64_t> chunks_reused_{0};
  std::atomic<std::uint64_t> bytes_written_{0};
};

void ChunkImporter::work(const ChunkReader& reader) {
  ZstdCompressor zc(opts_.zstd_level);
  std::vector<std::byte> frame;
  std::unique_ptr<std::byte[]> buf(new std::byte[opts_.chunk_size]);
  while (!first_error_.failed()) {
    if (opts_.cancel && opts_.cancel->load(std::memory_order_relaxed)) {
      return first_error_.set(make_error(Errc::cancelled, "import cancelled"));
    }
    auto got = reader(std::span<std::byte>(buf.get(), opts_.chunk_size));
    if (!got) return first_error_.set(got.error());
    if (!*got) return;
    const ChunkRead c = **got;
    ChunkResult& slot = claim(c);
    done_ += c.len;
    if (c.read) bytes_read_ += c.len;
    if (c.hole) {
      slot.kind = Slot::hole;
      continue;
    }
    const std::span<const std::byte> data(buf.get(), c.len);
    if (detail::all_zero(data)) {
      slot.kind = Slot::hole;
      continue;
    }
    if (!opts_.raw) {
      if (auto r = check_partition_starts(plan_, c.offset, data); !r) {
        return first_error_.set(r.error());
      }
    }
    if (auto r = store_chunk(data, slot, zc, frame); !r) return first_error_.set(r.error());
  }
}

Result<void> ChunkImporter::store_chunk(std::span<const std::byte> data, ChunkResult& slot,
                                        ZstdCompressor& zc, std::vector<std::byte>& frame) {
  slot.sha = sha256(data);
  slot.kind = Slot::data;
  if (auto existing = store_.chunks().stored_size(slot.sha)) {
    slot.stored = *existing;
    ++chunks_reused_;
    return {};
  }
  REVIVE_TRY(zc.compress(data, frame));
  auto staged = store_.chunks().stage(slot.sha, frame);
  if (!staged) return staged.error();
  // The slot is the committer's from here; the manifest is built after it has finished.
  committer_->push(std::move(*staged), [this, &slot](bool is_new, std::uint64_t stored) {
    slot.stored = stored;
    if (is_new) {
      ++chunks_new_;
      bytes_written_ += stored;
    } else {
      ++chunks_reused_;
    }
  });
  return {};
}

Manifest ChunkImporter::manifest() const {
  Manifest m;
  m.format_version =
      opts_.content_defined ? kContentDefinedFormatVersion : kFixedChunksFormatVersion;
  m.image_id = random_uuid();
  m.name = opts_.name;
  m.source = plan_.manifest_source;
  m.logical_size = plan_.size;
  m.min_disk_size = plan_.size;
  m.chunk_size = opts_.chunk_size;
  m.created_at = now_rfc3339();
  m.partitions = plan_.table;
  std::vector<const ChunkResult*> in_order;
  in_order.reserve(slots_.size());
  for (const ChunkResult& s : slots_) in_order.push_back(&s);
  std::sort(in_order.begin(), in_order.end(),
            [](const ChunkResult* a, const ChunkResult* b) { return a->offset < b->offset; });
  for (const ChunkResult* slot : in_order) {
    const ChunkResult& s = *slot;
    REVIVE_CHECK(s.kind != Slot::pending);
    const std::uint64_t off = s.offset;
    const std::uint64_t len = s.length;
    if (s.kind == Slot::hole) {
      if (!m.extents.empty() && m.extents.back().is_hole()) {
        m.extents.back().length += len;
      } else {
        m.extents.push_back(Extent{off, len, std::nullopt, 0});
      }
    } else {
      m.extents.push_back(Extent{off, len, s.sha, s.stored});
      m.data_bytes += len;
      m.stored_bytes += s.stored;
    }
  }
  return m;
}

/// Checks, stores every chunk the reader yields, and publishes the manifest last.
Result<ImportReport> run_import(ImageStore& store, const ImportOptions& opts, ImportPlan& plan,
                                const ChunkReader& reader,
                                const std::function<Result<void>()>& after_last_chunk) {
  REVIVE_TRY(check_content(plan, opts));
  plan.table = parse_partition_table(plan.head, plan.size);
  REVIVE_TRY(check_free_space(store, plan, opts));
  auto lock = store.lock_shared();
  if (!lock) return lock.error();
  ChunkImporter importer(store, opts, plan);
  auto ran = importer.run(reader);
  if (ran && after_last_chunk) ran = after_last_chunk();
  if (!ran) {
    return ran.error().with_context("import of " + plan.file + " stopped; no image was published");
  }
  REVIVE_TRY(store.chunks().flush());
  ImportReport report;
  report.manifest = importer.manifest();
  REVIVE_TRY(store.publish(report.manifest, opts.replace));
  importer.fill(report);
  return report;
}

struct FileSource {
  UniqueFd fd;
  std::uint64_t size = 0;
  std::uint64_t allocated = 0;  ///< bytes with storage behind them (all of a block device)
  bool sparse_aware = false;
};

Result<FileSource> open_source(const fs::path& path) {
  auto fd = open_file(path, O_RDONLY);
  if (!fd) return fd.error();
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0) return errno_error(errno, "stat " + path.string());
  FileSource s;
  if (S_ISREG(st.st_mode)) {
    s.size = static_cast<std::uint64_t>(st.st_size);
    s.allocated = std::min(s.size, static_cast<std::uint64_t>(st.st_blocks) * 512);
    s.sparse_aware = true;
  } else if (S_ISBLK(st.st_mode)) {
    const off_t end = ::lseek(fd->get(), 0, SEEK_END);
    if (end < 0) return errno_error(errno, "size of " + path.string());
    s.size = static_cast<std::uint64_t>(end);
    s.allocated = s.size;
  } else if (S_ISDIR(st.st_mode)) {
    return make_error(Errc::invalid_input, path.string() + " is a directory, not a disk image");
  } else {
    return make_error(Errc::invalid_input,
                      path.string() + " is not a regular file or a block device");
  }
  if (s.size == 0)
    return make_error(Errc::invalid_input, path.string() + " is empty: not a disk image");
  s.fd = std::move(*fd);
  ::posix_fadvise(s.fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  return s;
}

// Bytes from `off` on that SEEK_DATA says are a hole (0 if none, or if the filesystem cannot
// say: then `sparse` is cleared and nothing is asked again).
std::uint64_t known_zeros(const FileSource& src, std::uint64_t off, std::atomic<bool>& sparse) {
  if (!sparse.load(std::memory_order_relaxed)) return 0;
  const off_t next_data = ::lseek(src.fd.get(), static_cast<off_t>(off), SEEK_DATA);
  if (next_data < 0 && errno == ENXIO) return src.size - off;  // no data to the end
  if (next_data < 0) {
    sparse = false;  // filesystem without SEEK_DATA: read everything
    return 0;
  }
  return static_cast<std::uint64_t>(next_data) - off;
}

// Content-defined chunks: one worker at a time cuts the next piece (content_cuts.hpp).
ChunkReader content_chunk_reader(ContentChunker& chunker) {
  return [&chunker](std::span<std::byte> buf) -> Result<std::optional<ChunkRead>> {
    auto piece = chunker.next(buf);
    if (!piece) return piece.error();
    if (!*piece) return std::optional<ChunkRead>{};
    const ContentChunker::Piece& p = **piece;
    return ChunkRead{p.offset, p.length, p.hole, p.read};
  };
}

// Each worker claims the next chunk index and reads it itself (pread: no shared position), so
// reads spread over the workers; chunks SEEK_DATA places in a hole are not read at all.
ChunkReader file_chunk_reader(const FileSource& src, const std::string& file, std::uint64_t chunk,
                              std::atomic<std::uint64_t>& next, std::atomic<bool>& sparse) {
  return [&src, file, chunk, &next,
          &sparse](std::span<std::byte> buf) -> Result<std::optional<ChunkRead>> {
    const std::uint64_t n_chunks = (src.size + chunk - 1) / chunk;
    const std::uint64_t i = next.fetch_add(1);
    if (i >= n_chunks) return std::optional<ChunkRead>{};
    const std::uint64_t off = i * chunk;
    const auto len = static_cast<std::size_t>(std::min(chunk, src.size - off));
    if (sparse.load(std::memory_order_relaxed) && known_zeros(src, off, sparse) >= len) {
      return ChunkRead{off, len, true, false};
    }
    REVIVE_TRY(pread_exact(src.fd.get(), buf.first(len), off, file));
    return ChunkRead{off, len, false};
  };
}

}  // namespace

Result<ImportReport> import_raw_image(ImageStore& store, const fs::path& source,
                                      const ImportOptions& opts) {
  REVIVE_TRY(check_request(store, opts));
  auto src = open_source(source);
  if (!src) return src.error();
  ImportPlan plan;
  plan.file = opts.label.empty() ? source.string() : opts.label;
  plan.manifest_source =
      opts.manifest_source.empty() ? "raw:" + source.filename().string() : opts.manifest_source;
  plan.size = src->size;
  plan.data_estimate = src->allocated;
  plan.head.resize(static_cast<std::size_t>(std::min(src->size, kHeadBytes)));
  REVIVE_TRY(pread_exact(src->fd.get(), plan.head, 0, plan.file));
  if (src->size >= 1024) {
    plan.tail.resize(512);
    REVIVE_TRY(pread_exact(src->fd.get(), plan.tail, src->size - 512, plan.file));
  }
  std::atomic<bool> sparse{src->sparse_aware};
  if (opts.content_defined) {
    ContentChunker chunker(
        src->size, ContentCutSizes::for_chunk_size(opts.chunk_size),
        [&](std::span<std::byte> out, std::uint64_t at) {
          return pread_exact(src->fd.get(), out, at, plan.file);
        },
        [&](std::uint64_t at) { return known_zeros(*src, at, sparse); });
    return run_import(store, opts, plan, content_chunk_reader(chunker), {});
  }
  std::atomic<std::uint64_t> next{0};
  return run_import(store, opts, plan,
                    file_chunk_reader(*src, plan.file, opts.chunk_size, next, sparse), {});
}

namespace {

// Fills `out` from the stream; a stream that ends early is an error naming both counts.
Result<void> read_stream_exact(DiskStream& stream, std::span<std::byte> out, std::uint64_t at,
                               const StreamSource& src) {
  std::size_t got = 0;
  while (got < out.size()) {
    auto n = stream.read(out.subspan(got));
    if (!n) return n.error();
    if (*n == 0) {
      return make_error(Errc::corrupt, src.file + ": the disk ended after " +
                                           std::to_string(at + got) + " of " +
                                           std::to_string(src.size) + " bytes");
    }
    got += *n;
  }
  return {};
}

ImportPlan stream_plan(const StreamSource& src) {
  ImportPlan plan;
  plan.file = src.file;
  plan.manifest_source = src.source;
  plan.size = src.size;
  plan.data_estimate = src.data_estimate;
  return plan;
}

}  // namespace

Result<void> check_stream_import(const ImageStore& store, const StreamSource& src,
                                 const ImportOptions& opts) {
  REVIVE_TRY(check_request(store, opts));
  if (src.size == 0) return make_error(Errc::invalid_input, src.file + " is an empty disk");
  return check_free_space(store, stream_plan(src), opts);
}

Result<ImportReport> import_image_stream(ImageStore& store, DiskStream& stream,
                                         const StreamSource& src, const ImportOptions& opts) {
  REVIVE_TRY(check_stream_import(store, src, opts));
  ImportPlan plan = stream_plan(src);
  plan.head.resize(static_cast<std::size_t>(std::min(src.size, kHeadBytes)));
  REVIVE_TRY(read_stream_exact(stream, plan.head, 0, src));

  // The stream's bytes in order, the head first (read once already).
  auto read_at = [&](std::span<std::byte> out, std::uint64_t at) -> Result<void> {
    std::size_t from_head = 0;
    if (at < plan.head.size()) {
      from_head = std::min<std::size_t>(out.size(), plan.head.size() - at);
      std::copy_n(plan.head.data() + at, from_head, out.data());
    }
    return read_stream_exact(stream, out.subspan(from_head), at + from_head, src);
  };
  // One worker at a time claims the next chunk and reads it from the stream; hashing,
  // compressing and storing still run on all of them.
  std::mutex mu;
  std::uint64_t next = 0;
  std::optional<Error> failed;  // a stream that failed once is not read again
  const std::uint64_t chunk = opts.chunk_size;
  auto fixed_reader = [&](std::span<std::byte> buf) -> Result<std::optional<ChunkRead>> {
    const std::lock_guard hold(mu);
    if (failed) return *failed;
    const std::uint64_t off = next * chunk;
    if (off >= src.size) return std::optional<ChunkRead>{};
    const auto len = static_cast<std::size_t>(std::min(chunk, src.size - off));
    if (auto r = read_at(buf.first(len), off); !r) {
      failed = r.error();
      return r.error();
    }
    ++next;
    return ChunkRead{off, len, false};
  };
  ContentChunker chunker(src.size, ContentCutSizes::for_chunk_size(chunk), read_at);
  auto at_end = [&]() -> Result<void> {
    std::byte extra{};
    auto n = stream.read(std::span<std::byte>(&extra, 1));
    if (!n) return n.error();
    if (*n != 0) {
      return make_error(Errc::corrupt, src.file + ": the disk is longer than the " +
                                           std::to_string(src.size) + " bytes expected");
    }
    return stream.finish();
  };
  if (opts.content_defined)
    return run_import(store, opts, plan, content_chunk_reader(chunker), at_end);
  return run_import(store, opts, plan, fixed_reader, at_end);
}

}  // namespace revive
