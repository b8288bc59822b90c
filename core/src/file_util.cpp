#include "revive/file_util.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "revive/encoding.hpp"

namespace revive {

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

Result<UniqueFd> open_file(const std::filesystem::path& path, int flags, unsigned mode) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) return errno_error(errno, "open " + path.string());
  return UniqueFd(fd);
}

Result<void> pread_exact(int fd, std::span<std::byte> buf, std::uint64_t offset,
                         std::string_view what) {
  std::size_t done = 0;
  while (done < buf.size()) {
    ssize_t n =
        ::pread(fd, buf.data() + done, buf.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error(errno,
                         std::string(what) + ": read at offset " + std::to_string(offset + done));
    }
    if (n == 0) {
      return make_error(Errc::io, std::string(what) + ": unexpected end of file at offset " +
                                      std::to_string(offset + done));
    }
    done += static_cast<std::size_t>(n);
  }
  return {};
}

Result<void> pwrite_all(int fd, std::span<const std::byte> buf, std::uint64_t offset,
                        std::string_view what) {
  std::size_t done = 0;
  while (done < buf.size()) {
    ssize_t n =
        ::pwrite(fd, buf.data() + done, buf.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error(errno,
                         std::string(what) + ": write at offset " + std::to_string(offset + done));
    }
    done += static_cast<std::size_t>(n);
  }
  return {};
}

Result<void> write_all(int fd, std::span<const std::byte> buf, std::string_view what) {
  std::size_t done = 0;
  while (done < buf.size()) {
    ssize_t n = ::write(fd, buf.data() + done, buf.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error(errno, std::string(what) + ": write");
    }
    done += static_cast<std::size_t>(n);
  }
  return {};
}

Result<void> require_owner_only(const std::filesystem::path& path, std::string_view what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return errno_error(errno, "stat " + std::string(what) + " " + path.string());
  if ((st.st_mode & 077) == 0) return {};
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  return make_error(Errc::forbidden, std::string(what) + " " + path.string() +
                                         " can be read by other users (mode " + mode +
                                         "): chmod 600 it, and make a new key if anyone may have "
                                         "copied it");
}

Result<std::string> read_small_file(const std::filesystem::path& path, std::size_t max_size) {
  auto fd = open_file(path, O_RDONLY);
  if (!fd) return fd.error();
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0) return errno_error(errno, "stat " + path.string());
  if (!S_ISREG(st.st_mode))
    return make_error(Errc::invalid_input, path.string() + " is not a regular file");
  if (static_cast<std::uint64_t>(st.st_size) > max_size) {
    return make_error(Errc::invalid_input, path.string() + " is too large (" +
                                               std::to_string(st.st_size) + " bytes, limit " +
                                               std::to_string(max_size) + ")");
  }
  std::string data(static_cast<std::size_t>(st.st_size), '\0');
  auto r = pread_exact(fd->get(), {reinterpret_cast<std::byte*>(data.data()), data.size()}, 0,
                       path.string());
  if (!r) return r.error();
  return data;
}

Result<void> fsync_dir(const std::filesystem::path& dir) {
  auto fd = open_file(dir, O_RDONLY | O_DIRECTORY);
  if (!fd) return fd.error();
  if (::fsync(fd->get()) != 0) return errno_error(errno, "fsync " + dir.string());
  return {};
}

std::string unique_tmp_name(std::string_view prefix) {
  std::uint8_t rnd[8];
  randombytes_buf(rnd, sizeof rnd);
  return std::string(prefix) + "." + std::to_string(::getpid()) + "." + to_hex(rnd) + ".tmp";
}

Result<void> write_file_atomic(const std::filesystem::path& path, std::span<const std::byte> data,
                               const std::filesystem::path& tmp_dir, unsigned mode) {
  const auto tmp = tmp_dir / unique_tmp_name(path.filename().string());
  auto fd = open_file(tmp, O_WRONLY | O_CREAT | O_EXCL, mode);
  if (!fd) return fd.error();
  auto fail = [&](Error e) -> Result<void> {
    ::unlink(tmp.c_str());
    return e;
  };
  if (auto r = write_all(fd->get(), data, tmp.string()); !r) return fail(r.error());
  if (::fsync(fd->get()) != 0) return fail(errno_error(errno, "fsync " + tmp.string()));
  fd->reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return fail(errno_error(errno, "rename " + tmp.string() + " to " + path.string()));
  }
  return fsync_dir(path.parent_path());
}

}  // namespace revive
