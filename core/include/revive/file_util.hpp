#pragma once
// Small POSIX file helpers returning Result; every error names the path.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "revive/error.hpp"

namespace revive {

/// Owns a file descriptor; closes it on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = o.release();
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

/// open(2) with O_CLOEXEC; the error names the path.
Result<UniqueFd> open_file(const std::filesystem::path& path, int flags, unsigned mode = 0644);

/// Reads exactly buf.size() bytes at offset (retrying short reads); corrupt-free io error on EOF.
Result<void> pread_exact(int fd, std::span<std::byte> buf, std::uint64_t offset,
                         std::string_view what);

/// Writes all bytes at offset, retrying short writes and EINTR.
Result<void> pwrite_all(int fd, std::span<const std::byte> buf, std::uint64_t offset,
                        std::string_view what);

/// Writes all bytes at the current position.
Result<void> write_all(int fd, std::span<const std::byte> buf, std::string_view what);

/// Whole file into memory (for small files: manifests, keys). Fails above max_size.
Result<std::string> read_small_file(const std::filesystem::path& path,
                                    std::size_t max_size = 256u << 20);

/// A secret (signing key, TLS key) that other users could read is refused rather than used:
/// whoever copied it can impersonate the server. forbidden (naming the mode and `chmod 600`)
/// when group or others have any access; io when it cannot be stat'ed. `what` names it.
Result<void> require_owner_only(const std::filesystem::path& path, std::string_view what);

/// fsync of a directory, so a rename inside it survives power loss.
Result<void> fsync_dir(const std::filesystem::path& dir);

/// Writes `data` to `path` so that readers see either the old file or the complete new one:
/// temp file in `tmp_dir` (same filesystem), fsync, rename, fsync of the target directory.
Result<void> write_file_atomic(const std::filesystem::path& path, std::span<const std::byte> data,
                               const std::filesystem::path& tmp_dir, unsigned mode = 0644);

/// A unique name for a temporary file: "<prefix>.<pid>.<random>.tmp".
std::string unique_tmp_name(std::string_view prefix);

inline std::span<const std::byte> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

}  // namespace revive
