#pragma once
// Streaming operations on a store: import a raw disk image, export it back bit-identical,
// verify it. All run on every core with bounded buffers: memory does not grow with image size
// beyond the extent list (about 100 bytes per chunk).

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "revive/error.hpp"
#include "revive/image_store.hpp"
#include "revive/manifest.hpp"

namespace revive {

/// Called from the calling thread, at most ~10 times a second: bytes done of total.
using ProgressFn = std::function<void(std::uint64_t done, std::uint64_t total)>;

/// Worker threads for `requested` (0 = one per core).
unsigned worker_count(unsigned requested);

struct ImportOptions {
  std::string name;
  std::uint64_t chunk_size = kDefaultChunkSize;  ///< the largest chunk
  /// Cut chunks where the content says (content_cuts.hpp; manifest format version 2), so a
  /// disk whose data moved by whole blocks finds most of its chunks in the store again: what a
  /// filesystem made afresh from a tree does (a recipe build). false: every chunk chunk_size
  /// bytes at multiples of it (version 1): fewer, bigger chunks, and a disk changed in place (a
  /// re-imported laptop or VM disk) keeps its unchanged chunks either way.
  bool content_defined = false;
  unsigned threads = 0;
  int zstd_level = 3;
  bool replace = false;
  /// Import the bytes as they are: no refusal of encrypted, non-disk or unrecognised content.
  bool raw = false;
  /// import_raw_image: what messages and the manifest call the file, for a path that would mean
  /// nothing to the reader (a server's finished upload waits in its store's tmp/ under an id).
  /// Empty: the path, and "raw:" with the file's name.
  std::string label;
  std::string manifest_source;
  /// Refuse before writing when the data may not fit the store's free space.
  bool check_free_space = true;
  /// The store filesystem's free bytes; empty: statvfs(2) on the store (tests inject a value).
  std::function<Result<std::uint64_t>(const std::filesystem::path&)> free_space;
  ProgressFn progress;
  const std::atomic<bool>* cancel = nullptr;  ///< set to stop early (nothing is published)
};

struct ImportReport {
  Manifest manifest;
  std::uint64_t chunks_new = 0;
  std::uint64_t chunks_reused = 0;  ///< already in the store (dedup)
  std::uint64_t bytes_written = 0;  ///< compressed bytes newly stored
  std::uint64_t bytes_read = 0;     ///< bytes actually read (holes found by SEEK_DATA are not)
};

/// Imports a raw disk image (regular file, sparse or not, or a block device, opened
/// read-only). Refuses, unless `opts.raw`, what is not a disk (image_probe.hpp: encrypted
/// disks or partitions, VM disks, archives, unrecognised odd-sized files) and, unless
/// `!opts.check_free_space`, data bigger than the store's free space, before writing anything.
/// Publishes the manifest last; on any failure nothing is published.
Result<ImportReport> import_raw_image(ImageStore& store, const std::filesystem::path& source,
                                      const ImportOptions& opts);

/// A raw disk image read once, front to back: a converter's output (qemu-img through
/// nbdcopy, a Clonezilla restore) or an upload as it arrives (the server's image push).
/// Read from one thread at a time.
class DiskStream {
 public:
  virtual ~DiskStream() = default;
  /// Reads up to `out.size()` bytes; 0 only at the end. Errors name the producer.
  virtual Result<std::size_t> read(std::span<std::byte> out) = 0;
  /// After the last byte: the producer's own verdict (a converter's exit status).
  virtual Result<void> finish() = 0;
};

struct StreamSource {
  std::string file;                 ///< the input named in messages (a file or a directory)
  std::string source;               ///< the manifest's source, e.g. "qcow2:disk.qcow2"
  std::uint64_t size = 0;           ///< the exact number of bytes the stream yields
  std::uint64_t data_estimate = 0;  ///< bytes that may need storing (free-space check)
};

/// Imports a disk image from a stream of exactly `src.size` bytes (shorter or longer is an
/// error), with the same content checks, free-space check, chunking and dedup as a file.
Result<ImportReport> import_image_stream(ImageStore& store, DiskStream& stream,
                                         const StreamSource& src, const ImportOptions& opts);

/// What import_image_stream checks before it reads a byte (the name, free unless
/// `opts.replace`; the chunk size; `src.data_estimate` against the store's free space), for a
/// caller that can still refuse the stream before it is sent (an upload's handler).
Result<void> check_stream_import(const ImageStore& store, const StreamSource& src,
                                 const ImportOptions& opts);

struct ExportOptions {
  unsigned threads = 0;
  bool overwrite = false;
  std::optional<PublicKey> trusted;  ///< default: the store's own key
  ProgressFn progress;
  const std::atomic<bool>* cancel = nullptr;
};

struct ExportReport {
  std::uint64_t logical_size = 0;
  std::uint64_t bytes_written = 0;  ///< data bytes (holes are left sparse)
};

/// Writes the image to `out` as a (sparse) raw file, bit-identical to what was imported.
/// Every chunk is hash-checked before its bytes are written; the file appears under `out` only
/// when complete and flushed. On failure no file is left at `out`.
Result<ExportReport> export_raw_image(const ImageStore& store, const std::string& name,
                                      const std::filesystem::path& out, const ExportOptions& opts);

struct ChunkProblem {
  std::size_t extent = 0;
  std::uint64_t offset = 0;
  Digest sha256{};
  Errc code = Errc::corrupt;
  std::string problem;  ///< "missing from the store", "hash mismatch (content is ...)", ...
};

struct VerifyOptions {
  unsigned threads = 0;
  std::optional<PublicKey> trusted;
  ProgressFn progress;
};

struct VerifyReport {
  std::string name;
  std::string signature_problem;  ///< empty when the signature checks out
  std::uint64_t chunks_checked = 0;
  std::vector<ChunkProblem> bad_chunks;  ///< sorted by offset

  bool ok() const { return signature_problem.empty() && bad_chunks.empty(); }
};

/// Checks the manifest's signature and every chunk (present, a single complete zstd frame,
/// decodes to the right length, hash matches). An error result means it could not even start
/// (no such image, unreadable manifest); problems found are in the report.
Result<VerifyReport> verify_image(const ImageStore& store, const std::string& name,
                                  const VerifyOptions& opts);

struct StoreCheckReport {
  std::uint64_t chunk_files = 0;
  std::vector<std::string> bad;          ///< "<sha256>: <problem>"
  std::vector<std::string> stray_files;  ///< files under chunks/ that are not chunk names
};

/// Checks every chunk file in the store (referenced or not) decodes to content with the
/// hash it is named by. Progress counts files.
Result<StoreCheckReport> check_store_chunks(const ImageStore& store, unsigned threads,
                                            const ProgressFn& progress);

}  // namespace revive
