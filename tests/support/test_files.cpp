#include "test_files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace revive::test {

namespace {
std::uint64_t next(std::uint64_t& s) {
  s ^= s << 13;
  s ^= s >> 7;
  s ^= s << 17;
  return s;
}
}  // namespace

std::vector<std::byte> random_bytes(std::size_t n, std::uint64_t seed) {
  std::vector<std::byte> out(n);
  std::uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  for (std::size_t i = 0; i < n; i += 8) {
    const std::uint64_t v = next(s);
    std::memcpy(out.data() + i, &v, std::min<std::size_t>(8, n - i));
  }
  return out;
}

std::vector<std::byte> compressible_bytes(std::size_t n, std::uint64_t seed) {
  static const char* kWords[] = {"revive ", "laptop ", "workshop ", "image ", "chunk ", "disk ",
                                 "wipe ",   "deploy ", "battery ",  "grade ", "\n",     "0123 "};
  std::vector<std::byte> out;
  out.reserve(n);
  std::uint64_t s = seed * 0x9E3779B97F4A7C15ull + 7;
  while (out.size() < n) {
    const char* w = kWords[next(s) % 12];
    for (const char* p = w; *p && out.size() < n; ++p) out.push_back(static_cast<std::byte>(*p));
  }
  return out;
}

void write_at(const std::filesystem::path& path, std::span<const std::byte> data,
              std::uint64_t offset) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT, 0644);
  if (fd < 0) throw std::runtime_error("open " + path.string());
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n =
        ::pwrite(fd, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n <= 0) {
      ::close(fd);
      throw std::runtime_error("pwrite " + path.string());
    }
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
}

void make_sparse(const std::filesystem::path& path, std::uint64_t size) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0 || ::ftruncate(fd, static_cast<off_t>(size)) != 0)
    throw std::runtime_error("sparse " + path.string());
  ::close(fd);
}

std::vector<std::byte> read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw std::runtime_error("read " + path.string());
  std::vector<std::byte> out(static_cast<std::size_t>(in.tellg()));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(out.size()));
  if (!in) throw std::runtime_error("read " + path.string());
  return out;
}

bool all_zero(const std::filesystem::path& path) {
  const auto data = read_all(path);
  return std::all_of(data.begin(), data.end(), [](std::byte b) { return b == std::byte{0}; });
}

bool same_contents(const std::filesystem::path& a, const std::filesystem::path& b) {
  return read_all(a) == read_all(b);
}

}  // namespace revive::test
