#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>

#include "revive/encoding.hpp"
#include "revive/file_util.hpp"
#include "revive/image_ops.hpp"
#include "revive/parallel.hpp"
#include "revive/zstd_codec.hpp"

namespace revive {

namespace fs = std::filesystem;

unsigned worker_count(unsigned requested) {
  if (requested > 0) return std::min(requested, 64u);
  const unsigned hw = std::thread::hardware_concurrency();
  return std::clamp(hw, 1u, 16u);
}

std::optional<std::string> detect_non_raw_format(std::span<const std::byte> head) {
  auto starts = [&](std::size_t off, std::string_view magic) {
    return head.size() >= off + magic.size() &&
           std::memcmp(head.data() + off, magic.data(), magic.size()) == 0;
  };
  if (starts(0, "QFI\xfb"))
    return "a qcow2 image: convert it first with `qemu-img convert -O raw IN OUT`";
  if (starts(0, "KDMV") || starts(0, "# Disk DescriptorFile")) {
    return "a VMware VMDK image: convert it first with `qemu-img convert -O raw IN OUT`";
  }
  if (starts(0, "vhdxfile"))
    return "a Hyper-V VHDX image: convert it first with `qemu-img convert -O raw IN OUT`";
  if (starts(0, "conectix"))
    return "a dynamic VHD image: convert it first with `qemu-img convert -O raw IN OUT`";
  if (starts(0x40, "\x7f\x10\xda\xbe"))
    return "a VirtualBox VDI image: convert it first with `qemu-img convert -O raw IN OUT`";
  if (starts(0, "\x1f\x8b")) return "a gzip-compressed file: decompress it first";
  if (starts(0,
             "\xfd"
             "7zXZ"))
    return "an xz-compressed file: decompress it first";
  if (starts(0, "\x28\xb5\x2f\xfd")) return "a zstd-compressed file: decompress it first";
  if (starts(0, "BZh")) return "a bzip2-compressed file: decompress it first";
  if (starts(0, "PK\x03\x04")) return "a zip archive, not a disk image";
  if (starts(0, "7z\xbc\xaf\x27\x1c")) return "a 7-zip archive, not a disk image";
  if (starts(257, "ustar"))
    return "a tar archive, not a disk image (rootfs archives are built into images by a recipe)";
  if (starts(0, "partclone-image"))
    return "a partclone image (import of partclone images is not supported yet)";
  return std::nullopt;
}

namespace {

enum class Slot : std::uint8_t { pending, hole, data };

struct ChunkResult {
  Digest sha{};
  std::uint64_t stored = 0;
  Slot kind = Slot::pending;
};

struct Source {
  UniqueFd fd;
  std::uint64_t size = 0;
  bool sparse_aware = false;
};

Result<Source> open_source(const fs::path& path) {
  auto fd = open_file(path, O_RDONLY);
  if (!fd) return fd.error();
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0) return errno_error(errno, "stat " + path.string());
  Source s;
  if (S_ISREG(st.st_mode)) {
    s.size = static_cast<std::uint64_t>(st.st_size);
    s.sparse_aware = true;
  } else if (S_ISBLK(st.st_mode)) {
    const off_t end = ::lseek(fd->get(), 0, SEEK_END);
    if (end < 0) return errno_error(errno, "size of " + path.string());
    s.size = static_cast<std::uint64_t>(end);
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

}  // namespace

Result<ImportReport> import_raw_image(ImageStore& store, const fs::path& source,
                                      const ImportOptions& opts) {
  REVIVE_TRY(validate_image_name(opts.name));
  const std::uint64_t chunk = opts.chunk_size;
  if (chunk < kMinChunkSize || chunk > kMaxChunkSize || (chunk & (chunk - 1)) != 0) {
    return make_error(Errc::invalid_input, "chunk size " + std::to_string(chunk) +
                                               " must be a power of two from 64 KiB to 64 MiB");
  }
  if (!opts.replace && fs::exists(store.manifest_path(opts.name))) {
    return make_error(Errc::already_exists, "an image named \"" + opts.name +
                                                "\" already exists (use --replace to replace it)");
  }
  auto src = open_source(source);
  if (!src) return src.error();
  const std::uint64_t size = src->size;

  // Look at the start: refuse recognisable non-raw formats, read the partition table.
  std::vector<std::byte> head(static_cast<std::size_t>(std::min<std::uint64_t>(size, 1u << 20)));
  REVIVE_TRY(pread_exact(src->fd.get(), head, 0, source.string()));
  if (auto what = detect_non_raw_format(head)) {
    return make_error(Errc::invalid_input,
                      source.string() + " is not a raw disk image: it is " + *what);
  }

  auto lock = store.lock_shared();
  if (!lock) return lock.error();

  // Each worker claims the next chunk index, reads it itself (pread: no shared position),
  // and hashes, compresses and stores it. Memory: one chunk buffer and one frame per worker,
  // whatever the image size; reads spread over the workers instead of funnelling through one.
  const unsigned workers = worker_count(opts.threads);
  const std::uint64_t n_chunks = (size + chunk - 1) / chunk;
  std::vector<ChunkResult> slots(static_cast<std::size_t>(n_chunks));
  std::atomic<std::uint64_t> next{0};
  detail::FirstError first_error;
  std::atomic<std::uint64_t> done{0};
  std::atomic<std::uint64_t> bytes_read{0};
  std::atomic<std::uint64_t> chunks_new{0};
  std::atomic<std::uint64_t> chunks_reused{0};
  std::atomic<std::uint64_t> bytes_written{0};
  std::atomic<bool> sparse{src->sparse_aware};
  const int fd = src->fd.get();

  // true when [off, off+len) has no data according to SEEK_DATA (a hole in a sparse file).
  auto known_hole = [&](std::uint64_t off, std::uint64_t len) {
    if (!sparse.load(std::memory_order_relaxed)) return false;
    const off_t next_data = ::lseek(fd, static_cast<off_t>(off), SEEK_DATA);
    if (next_data < 0) {
      if (errno == ENXIO) return true;  // no data from here to the end
      sparse = false;                   // filesystem without SEEK_DATA: read everything
      return false;
    }
    return static_cast<std::uint64_t>(next_data) >= off + len;
  };

  auto worker = [&](unsigned) {
    ZstdCompressor zc(opts.zstd_level);
    std::vector<std::byte> frame;
    std::unique_ptr<std::byte[]> buf(new std::byte[chunk]);
    for (std::uint64_t i; (i = next.fetch_add(1)) < n_chunks;) {
      if (first_error.failed()) return;
      if (opts.cancel && opts.cancel->load(std::memory_order_relaxed)) {
        return first_error.set(make_error(Errc::cancelled, "import cancelled"));
      }
      const std::uint64_t off = i * chunk;
      const std::size_t len = static_cast<std::size_t>(std::min(chunk, size - off));
      ChunkResult& slot = slots[i];
      if (known_hole(off, len)) {
        slot.kind = Slot::hole;
        done += len;
        continue;
      }
      const std::span<std::byte> data(buf.get(), len);
      if (auto r = pread_exact(fd, data, off, source.string()); !r)
        return first_error.set(r.error());
      bytes_read += len;
      if (detail::all_zero(data)) {
        slot.kind = Slot::hole;
      } else {
        slot.sha = sha256(data);
        slot.kind = Slot::data;
        if (auto existing = store.chunks().stored_size(slot.sha)) {
          slot.stored = *existing;
          ++chunks_reused;
        } else {
          if (auto r = zc.compress(data, frame); !r) return first_error.set(r.error());
          auto put = store.chunks().put(slot.sha, frame);
          if (!put) return first_error.set(put.error());
          slot.stored = frame.size();
          if (*put) {
            ++chunks_new;
            bytes_written += frame.size();
          } else {
            ++chunks_reused;
          }
        }
      }
      done += len;
    }
  };

  detail::ProgressThrottle progress(opts.progress);
  detail::run_threads(workers, worker, [&] { progress.maybe(done.load(), size); });

  if (auto e = first_error.take()) {
    return e->with_context("import of " + source.string() + " stopped; no image was published");
  }
  progress.final(size, size);
  REVIVE_TRY(store.chunks().flush());

  Manifest m;
  m.image_id = random_uuid();
  m.name = opts.name;
  m.source = "raw:" + source.filename().string();
  m.logical_size = size;
  m.min_disk_size = size;
  m.chunk_size = chunk;
  m.created_at = now_rfc3339();
  m.partitions = parse_partition_table(head, size);
  for (std::uint64_t i = 0; i < n_chunks; ++i) {
    const ChunkResult& s = slots[i];
    REVIVE_CHECK(s.kind != Slot::pending);
    const std::uint64_t off = i * chunk;
    const std::uint64_t len = std::min(chunk, size - off);
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
  REVIVE_TRY(store.publish(m, opts.replace));

  ImportReport report;
  report.manifest = std::move(m);
  report.chunks_new = chunks_new;
  report.chunks_reused = chunks_reused;
  report.bytes_written = bytes_written;
  report.bytes_read = bytes_read;
  return report;
}

}  // namespace revive
