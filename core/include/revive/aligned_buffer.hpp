#pragma once
// A zeroed buffer aligned to 4096 bytes, as direct I/O (O_DIRECT) needs for its memory.

#include <sys/mman.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <span>

namespace revive {

class AlignedBuffer {
 public:
  /// Where the kernel can, a buffer of 2 MiB or more may ask for transparent huge pages
  /// (`huge_pages`): each 2 MiB of it is then physically contiguous, so a direct write of it
  /// is a few scatter-gather segments instead of one per 4 KiB page, and the device's segment
  /// limit (virtio-blk, NVMe: a few hundred) no longer splits a large write into many requests.
  /// Without THP it is an ordinary 4096-aligned buffer.
  explicit AlignedBuffer(std::size_t n, bool huge_pages = false) : size_(n) {
    const std::size_t align = huge_pages && n >= kHugePage ? kHugePage : 4096;
    p_ = static_cast<std::byte*>(std::aligned_alloc(align, (n + align - 1) / align * align));
    if (p_ == nullptr) throw std::bad_alloc();
    if (align == kHugePage) ::madvise(p_, (n + align - 1) / align * align, MADV_HUGEPAGE);
    std::memset(p_, 0, n);
  }
  ~AlignedBuffer() { std::free(p_); }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;

  std::span<std::byte> first(std::size_t n) { return {p_, n}; }
  std::byte* data() { return p_; }
  std::size_t size() const { return size_; }

 private:
  static constexpr std::size_t kHugePage = std::size_t{2} << 20;
  std::size_t size_;
  std::byte* p_;
};

}  // namespace revive
