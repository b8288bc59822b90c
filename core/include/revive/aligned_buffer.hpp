#pragma once
// A zeroed buffer aligned to 4096 bytes, as direct I/O (O_DIRECT) needs for its memory.

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <span>

namespace revive {

class AlignedBuffer {
 public:
  explicit AlignedBuffer(std::size_t n)
      : size_(n), p_(static_cast<std::byte*>(std::aligned_alloc(4096, (n + 4095) / 4096 * 4096))) {
    if (p_ == nullptr) throw std::bad_alloc();
    std::memset(p_, 0, n);
  }
  ~AlignedBuffer() { std::free(p_); }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;

  std::span<std::byte> first(std::size_t n) { return {p_, n}; }
  std::byte* data() { return p_; }
  std::size_t size() const { return size_; }

 private:
  std::size_t size_;
  std::byte* p_;
};

}  // namespace revive
