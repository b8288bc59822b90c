#pragma once
// Test inputs: deterministic pseudo-random and compressible data, sparse files, comparisons.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace revive::test {

/// Deterministic bytes from a seed (xorshift): incompressible.
std::vector<std::byte> random_bytes(std::size_t n, std::uint64_t seed);

/// Deterministic text-like bytes that compress about 3x.
std::vector<std::byte> compressible_bytes(std::size_t n, std::uint64_t seed);

/// Writes `data` at `offset` into `path` (created if needed, never truncated).
void write_at(const std::filesystem::path& path, std::span<const std::byte> data,
              std::uint64_t offset);

/// Creates a sparse file of `size` bytes (a hole throughout).
void make_sparse(const std::filesystem::path& path, std::uint64_t size);

/// Whole file contents.
std::vector<std::byte> read_all(const std::filesystem::path& path);

/// true when every byte of the file is zero (an erased disk image).
bool all_zero(const std::filesystem::path& path);

/// true when both files hold the same bytes.
bool same_contents(const std::filesystem::path& a, const std::filesystem::path& b);

}  // namespace revive::test
