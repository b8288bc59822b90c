#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <map>

#include "revive/file_util.hpp"
#include "revive/image_ops.hpp"
#include "revive/parallel.hpp"
#include "revive/zstd_codec.hpp"

namespace revive {

namespace fs = std::filesystem;

namespace {

/// Reads, decodes and hash-checks one chunk into `out` (sized to the extent's length).
Result<void> load_chunk(const ChunkStore& chunks, const Manifest& m, const Extent& e,
                        ZstdDecompressor& zd, std::vector<std::byte>& frame,
                        std::span<std::byte> out) {
  REVIVE_TRY(chunks.read(*e.sha256, frame, 2 * m.chunk_size + (1u << 16)));
  if (auto r = zd.decompress_exact(frame, out); !r) {
    return r.error().with_context("chunk " + digest_hex(*e.sha256));
  }
  const Digest got = sha256(out);
  if (got != *e.sha256) {
    return make_error(Errc::corrupt, "chunk " + digest_hex(*e.sha256) +
                                         " does not match its hash (content hashes to " +
                                         digest_hex(got) + ")");
  }
  return {};
}

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

}  // namespace

Result<ExportReport> export_raw_image(const ImageStore& store, const std::string& name,
                                      const fs::path& out, const ExportOptions& opts) {
  auto lock = store.lock_shared();
  if (!lock) return lock.error();
  auto m = store.load(name, opts.trusted);
  if (!m) return m.error();

  std::error_code ec;
  const auto st = fs::symlink_status(out, ec);
  if (fs::exists(st)) {
    if (!fs::is_regular_file(st)) {
      return make_error(
          Errc::invalid_input,
          out.string() + " exists and is not a regular file; refusing to export onto it");
    }
    if (!opts.overwrite) {
      return make_error(Errc::already_exists,
                        out.string() + " already exists (use --force to overwrite it)");
    }
  }
  const fs::path dir = out.has_parent_path() ? out.parent_path() : fs::path(".");
  // Built by appending: GCC 12 warns (-Wrestrict, a false positive) on "." + string.
  std::string prefix(1, '.');
  prefix += out.filename().string();
  prefix += ".revive-partial";
  const fs::path tmp = dir / unique_tmp_name(prefix);
  auto fd = open_file(tmp, O_WRONLY | O_CREAT | O_EXCL, 0644);
  if (!fd) return fd.error().with_context("export");
  struct TmpGuard {
    fs::path path;
    bool keep = false;
    ~TmpGuard() {
      if (!keep) ::unlink(path.c_str());
    }
  } guard{tmp};
  if (::ftruncate(fd->get(), static_cast<off_t>(m->logical_size)) != 0) {
    return errno_error(errno, "size " + tmp.string());
  }

  const std::vector<std::size_t> data = m->data_extents();
  std::atomic<std::size_t> next{0};
  std::atomic<std::uint64_t> done{0};
  detail::FirstError first_error;
  const std::uint64_t total = m->data_bytes;

  auto worker = [&](unsigned) {
    ZstdDecompressor zd;
    std::vector<std::byte> frame;
    std::vector<std::byte> buf(m->chunk_size);
    while (!first_error.failed()) {
      if (opts.cancel && opts.cancel->load(std::memory_order_relaxed)) {
        return first_error.set(make_error(Errc::cancelled, "export cancelled"));
      }
      const std::size_t k = next.fetch_add(1);
      if (k >= data.size()) return;
      const Extent& e = m->extents[data[k]];
      const std::span<std::byte> out_bytes(buf.data(), e.length);
      if (auto r = load_chunk(store.chunks(), *m, e, zd, frame, out_bytes); !r) {
        return first_error.set(r.error().with_context("at offset " + std::to_string(e.offset)));
      }
      if (auto r = write_skipping_zeros(fd->get(), out_bytes, e.offset, tmp.string()); !r) {
        return first_error.set(r.error());
      }
      done += e.length;
    }
  };
  detail::ProgressThrottle progress(opts.progress);
  detail::run_threads(worker_count(opts.threads), worker,
                      [&] { progress.maybe(done.load(), total); });
  if (auto e = first_error.take()) {
    return e->with_context("export of " + name + " failed; nothing was written to " + out.string());
  }
  if (::fsync(fd->get()) != 0) return errno_error(errno, "fsync " + tmp.string());
  fd->reset();
  if (::rename(tmp.c_str(), out.c_str()) != 0) {
    return errno_error(errno, "rename " + tmp.string() + " to " + out.string());
  }
  guard.keep = true;
  REVIVE_TRY(fsync_dir(dir));
  progress.final(total, total);
  return ExportReport{m->logical_size, total};
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

  std::atomic<std::size_t> next{0};
  std::atomic<std::uint64_t> done{0};
  std::mutex mu;
  auto worker = [&](unsigned) {
    ZstdDecompressor zd;
    std::vector<std::byte> frame;
    std::vector<std::byte> buf(m.chunk_size);
    for (std::size_t k; (k = next.fetch_add(1)) < todo.size();) {
      const Extent& e = m.extents[todo[k]];
      auto r = load_chunk(store.chunks(), m, e, zd, frame, {buf.data(), e.length});
      if (!r) {
        std::lock_guard l(mu);
        report.bad_chunks.push_back(
            ChunkProblem{todo[k], e.offset, *e.sha256, r.error().code, r.error().message});
      }
      done += e.length;
    }
  };
  std::uint64_t total = 0;
  for (std::size_t i : todo) total += m.extents[i].length;
  detail::ProgressThrottle progress(opts.progress);
  detail::run_threads(worker_count(opts.threads), worker,
                      [&] { progress.maybe(done.load(), total); });
  progress.final(total, total);
  std::sort(report.bad_chunks.begin(), report.bad_chunks.end(),
            [](const ChunkProblem& a, const ChunkProblem& b) { return a.offset < b.offset; });
  report.chunks_checked = todo.size();
  return report;
}

}  // namespace revive

namespace revive {

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
