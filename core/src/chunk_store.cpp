#include "revive/chunk_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <optional>
#include <thread>
#include <vector>

#include "revive/file_util.hpp"

namespace revive {

namespace fs = std::filesystem;

namespace {
constexpr std::string_view kSuffix = ".zst";
constexpr std::size_t kFlushThreads = 8;

std::string prefix_name(unsigned i) {
  char b[8];  // room for any unsigned value: keeps -Wformat-truncation quiet
  std::snprintf(b, sizeof b, "%02x", i & 0xffu);
  return b;
}
}  // namespace

Result<ChunkStore> ChunkStore::open(fs::path dir, fs::path tmp_dir) {
  std::error_code ec;
  for (unsigned i = 0; i < 256; ++i) {
    fs::create_directories(dir / prefix_name(i), ec);
    if (ec)
      return make_error(Errc::io,
                        "create " + (dir / prefix_name(i)).string() + ": " + ec.message());
  }
  fs::create_directories(tmp_dir, ec);
  if (ec) return make_error(Errc::io, "create " + tmp_dir.string() + ": " + ec.message());
  return ChunkStore(std::move(dir), std::move(tmp_dir));
}

fs::path ChunkStore::path_for(const Digest& d) const {
  const std::string hex = digest_hex(d);
  return dir_ / hex.substr(0, 2) / (hex + std::string(kSuffix));
}

Result<std::uint64_t> ChunkStore::stored_size(const Digest& d) const {
  struct stat st {};
  const auto p = path_for(d);
  if (::stat(p.c_str(), &st) != 0) return errno_error(errno, "chunk " + digest_hex(d));
  return static_cast<std::uint64_t>(st.st_size);
}

Result<bool> ChunkStore::put(const Digest& d, std::span<const std::byte> frame) {
  if (::access(path_for(d).c_str(), F_OK) == 0) return false;
  auto staged = stage(d, frame);
  if (!staged) return staged.error();
  return commit(*staged);
}

Result<StagedChunk> ChunkStore::stage(const Digest& d, std::span<const std::byte> frame) {
  StagedChunk c;
  c.digest = d;
  c.tmp = tmp_dir_ / unique_tmp_name(digest_hex(d));
  c.size = frame.size();
  auto fd = open_file(c.tmp, O_WRONLY | O_CREAT | O_EXCL, 0644);
  if (!fd) return fd.error().with_context("storing chunk " + digest_hex(d));
  c.fd = std::move(*fd);
  if (auto r = write_all(c.fd.get(), frame, c.tmp.string()); !r) {
    discard(c);
    return r.error().with_context("storing chunk " + digest_hex(d));
  }
  // Starts the write-back now, so the fdatasync in commit() finds little left to wait for.
  // Only a hint: commit()'s fdatasync is what makes the chunk durable, whatever this returns.
  (void)::sync_file_range(c.fd.get(), 0, 0, SYNC_FILE_RANGE_WRITE);
  return c;
}

Result<bool> ChunkStore::commit(StagedChunk& c) {
  const auto final_path = path_for(c.digest);
  auto fail = [&](const Error& e) -> Result<bool> {
    discard(c);
    return e.with_context("storing chunk " + digest_hex(c.digest));
  };
  if (::access(final_path.c_str(), F_OK) == 0) {  // stored meanwhile (the same bytes)
    discard(c);
    return false;
  }
  if (::fdatasync(c.fd.get()) != 0) return fail(errno_error(errno, "fsync " + c.tmp.string()));
  c.fd.reset();
  // rename(2) replaces atomically; a concurrent writer of the same digest wrote the same bytes.
  if (::rename(c.tmp.c_str(), final_path.c_str()) != 0) {
    return fail(errno_error(errno, "rename to " + final_path.string()));
  }
  c.tmp.clear();
  std::lock_guard lock(dirty_mu_);
  dirty_.set(c.digest[0]);
  return true;
}

void ChunkStore::discard(StagedChunk& c) {
  c.fd.reset();
  if (!c.tmp.empty()) ::unlink(c.tmp.c_str());
  c.tmp.clear();
}

Result<void> ChunkStore::flush() {
  std::bitset<256> dirty;
  {
    std::lock_guard lock(dirty_mu_);
    dirty = dirty_;
    dirty_.reset();
  }
  std::vector<unsigned> todo;
  for (unsigned i = 0; i < 256; ++i) {
    if (dirty.test(i)) todo.push_back(i);
  }
  // An import touches most of the 256 folders, and each fsync waits for a journal commit: one
  // after the other they took 0.8 s at the end of a 2 GiB import (issue 19's trace). From
  // several threads at once the filesystem folds the waits into a few commits.
  std::atomic<std::size_t> next{0};
  std::mutex mu;
  std::optional<Error> failed;
  auto work = [&] {
    for (std::size_t k; (k = next.fetch_add(1)) < todo.size();) {
      if (auto r = fsync_dir(dir_ / prefix_name(todo[k])); !r) {
        std::lock_guard lock(mu);
        if (!failed) failed = r.error();
      }
    }
  };
  {
    std::vector<std::jthread> threads;
    const std::size_t n = std::min<std::size_t>(kFlushThreads, todo.size());
    for (std::size_t t = 1; t < n; ++t) threads.emplace_back(work);
    work();
  }
  if (failed) {
    std::lock_guard lock(dirty_mu_);
    dirty_ |= dirty;  // not known durable: a later flush tries again
    return *failed;
  }
  return {};
}

Result<void> ChunkStore::read(const Digest& d, std::vector<std::byte>& out,
                              std::uint64_t max_size) const {
  const auto p = path_for(d);
  auto fd = open_file(p, O_RDONLY);
  if (!fd) {
    if (fd.error().code == Errc::not_found) {
      return make_error(Errc::not_found, "chunk " + digest_hex(d) + " is missing from the store");
    }
    return fd.error();
  }
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0) return errno_error(errno, "stat " + p.string());
  if (static_cast<std::uint64_t>(st.st_size) > max_size) {
    return make_error(Errc::corrupt, "chunk " + digest_hex(d) + " file is " +
                                         std::to_string(st.st_size) +
                                         " bytes, more than a chunk can be");
  }
  out.resize(static_cast<std::size_t>(st.st_size));
  return pread_exact(fd->get(), out, 0, p.string());
}

Result<OpenChunk> ChunkStore::open_chunk(const Digest& d) const {
  const auto p = path_for(d);
  auto fd = open_file(p, O_RDONLY);
  if (!fd) {
    if (fd.error().code == Errc::not_found)
      return make_error(Errc::not_found, "no chunk " + digest_hex(d));
    return fd.error();
  }
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0) return errno_error(errno, "stat " + p.string());
  return OpenChunk{std::move(*fd), static_cast<std::uint64_t>(st.st_size)};
}

Result<void> ChunkStore::remove(const Digest& d) {
  const auto p = path_for(d);
  if (::unlink(p.c_str()) != 0 && errno != ENOENT)
    return errno_error(errno, "remove " + p.string());
  return {};
}

Result<void> ChunkStore::for_each(const std::function<void(const Digest&, std::uint64_t)>& fn,
                                  const std::function<void(const fs::path&)>& stray) const {
  for (unsigned i = 0; i < 256; ++i) {
    const auto sub = dir_ / prefix_name(i);
    std::error_code ec;
    for (fs::directory_iterator it(sub, ec), end; !ec && it != end; it.increment(ec)) {
      const auto name = it->path().filename().string();
      std::optional<Digest> d;
      if (name.size() == 64 + kSuffix.size() && name.ends_with(kSuffix) &&
          name.compare(0, 2, prefix_name(i)) == 0) {
        d = parse_digest(std::string_view(name).substr(0, 64));
      }
      std::error_code sec;
      const auto size = it->file_size(sec);
      if (d && !sec && it->is_regular_file(sec)) {
        fn(*d, size);
      } else if (stray) {
        stray(it->path());
      }
    }
    if (ec) return make_error(Errc::io, "list " + sub.string() + ": " + ec.message());
  }
  return {};
}

}  // namespace revive
