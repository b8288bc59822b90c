#pragma once
// Which of an image's data chunks a laptop holds, as agents checkpoint them: inclusive
// [first, last] ranges over the data chunks in manifest order (holes are not chunks here).

#include <cstdint>
#include <utility>
#include <vector>

#include "revive/error.hpp"

namespace revive::sched {

class ChunkRanges {
 public:
  using Range = std::pair<std::uint64_t, std::uint64_t>;  ///< inclusive [first, last]

  ChunkRanges() = default;

  /// The first `n` chunks, [0, n): what an agent fetching in manifest order holds.
  static ChunkRanges first(std::uint64_t n);
  /// From checkpoint ranges (any order, may overlap); fails (invalid_input) for first > last.
  static Result<ChunkRanges> from_inclusive(const std::vector<Range>& ranges);

  /// Adds [first, last]; merges with neighbours. Requires first <= last.
  void add(std::uint64_t first, std::uint64_t last);
  /// Number of chunks held.
  std::uint64_t count() const;
  /// Chunks held from chunk 0 without a gap.
  std::uint64_t prefix() const;
  bool contains(std::uint64_t chunk) const;
  /// Sorted, disjoint, non-adjacent ranges.
  const std::vector<Range>& ranges() const { return ranges_; }

  bool operator==(const ChunkRanges&) const = default;

 private:
  std::vector<Range> ranges_;
};

}  // namespace revive::sched
