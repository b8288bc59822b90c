#include "revive/agent/block_device.hpp"

#include <fcntl.h>  // with _GNU_SOURCE (g++'s default) also FALLOC_FL_*
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <string>
#include <vector>

#include "revive/file_util.hpp"

namespace revive::agent {

namespace {

// A regular file or a block device: one descriptor for any I/O, and an O_DIRECT one (when
// asked and allowed) that takes the aligned I/O.
class FdDevice : public BlockDevice {
 public:
  FdDevice(UniqueFd fd, UniqueFd direct, std::uint64_t size, std::string name)
      : fd_(std::move(fd)), direct_(std::move(direct)), size_(size), name_(std::move(name)) {}
  std::uint64_t size() const override { return size_; }
  Result<void> write_at(std::uint64_t off, std::span<const std::byte> data) override {
    return pwrite_all(pick(off, data.data(), data.size()), data, off, name_);
  }
  Result<void> flush() override {
    if (::fdatasync(fd_.get()) != 0) return errno_error(errno, "flush " + name_);
    return {};
  }
  Result<void> read_at(std::uint64_t off, std::span<std::byte> out) override {
    return pread_exact(pick(off, out.data(), out.size()), out, off, name_);
  }
  Result<void> zero_range(std::uint64_t off, std::uint64_t len) override {
    if (len == 0) return {};
    const auto o = static_cast<off_t>(off);
    const auto n = static_cast<off_t>(len);
    // Files and block devices alike: the kernel punches a hole only where zeros are promised.
    if (::fallocate(fd_.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, o, n) == 0) return {};
    if (::fallocate(fd_.get(), FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, o, n) == 0) return {};
    const int why = errno;
    if (why != EOPNOTSUPP && why != EINVAL && why != ENODEV)
      return errno_error(why, "zero " + name_ + " at offset " + std::to_string(off));
    static const std::vector<std::byte> zeros(std::size_t{4} << 20);
    for (std::uint64_t done = 0; done < len;) {
      const std::uint64_t step = std::min<std::uint64_t>(zeros.size(), len - done);
      REVIVE_TRY(
          pwrite_all(fd_.get(), {zeros.data(), static_cast<std::size_t>(step)}, off + done, name_));
      done += step;
    }
    return {};
  }

 private:
  // The direct descriptor takes I/O that is aligned in offset, length and memory.
  int pick(std::uint64_t off, const void* p, std::size_t n) const {
    constexpr std::uint64_t kAlign = 4096;
    const bool aligned =
        off % kAlign == 0 && n % kAlign == 0 && reinterpret_cast<std::uintptr_t>(p) % kAlign == 0;
    return direct_.get() >= 0 && aligned ? direct_.get() : fd_.get();
  }
  UniqueFd fd_;
  UniqueFd direct_;
  std::uint64_t size_;
  std::string name_;
};

}  // namespace

Result<std::unique_ptr<BlockDevice>> open_block_device(const std::filesystem::path& path,
                                                       DeviceOpenOptions o) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return errno_error(errno, "stat " + path.string());
  if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
    return make_error(Errc::invalid_input,
                      path.string() + " is neither a regular file nor a block device");
  }
  // O_EXCL on a block device: the kernel refuses it while mounted or claimed (RAID, dm).
  const int excl = o.exclusive && S_ISBLK(st.st_mode) ? O_EXCL : 0;
  const int raw = ::open(path.c_str(), O_RDWR | O_CLOEXEC | excl);
  if (raw < 0) {
    const int e = errno;
    if (excl && e == EBUSY)
      return make_error(
          Errc::busy,
          path.string() + " is in use (mounted, or part of a RAID or device-mapper set)");
    return errno_error(e, "open " + path.string());
  }
  std::optional<UniqueFd> fd(UniqueFd{raw});
  if (o.exclusive && S_ISREG(st.st_mode) && ::flock(fd->get(), LOCK_EX | LOCK_NB) != 0) {
    return make_error(Errc::busy, path.string() + " is locked by another process");
  }
  UniqueFd direct;
  if (o.direct) {
    auto d = open_file(path, O_RDWR | O_DIRECT);
    if (d) direct = std::move(*d);  // EINVAL (tmpfs): buffered only
  }
  const off_t end = ::lseek(fd->get(), 0, SEEK_END);  // works for both
  if (end < 0) return errno_error(errno, "size of " + path.string());
  return std::unique_ptr<BlockDevice>(new FdDevice(std::move(*fd), std::move(direct),
                                                   static_cast<std::uint64_t>(end), path.string()));
}

}  // namespace revive::agent
