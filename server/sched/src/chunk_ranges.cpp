#include "revive/sched/chunk_ranges.hpp"

#include <algorithm>

namespace revive::sched {

ChunkRanges ChunkRanges::first(std::uint64_t n) {
  ChunkRanges r;
  if (n > 0) r.ranges_.emplace_back(0, n - 1);
  return r;
}

Result<ChunkRanges> ChunkRanges::from_inclusive(const std::vector<Range>& ranges) {
  ChunkRanges r;
  for (const auto& [first, last] : ranges) {
    if (first > last) {
      return make_error(Errc::invalid_input, "chunk range " + std::to_string(first) + "-" +
                                                 std::to_string(last) + " ends before it starts");
    }
    r.add(first, last);
  }
  return r;
}

void ChunkRanges::add(std::uint64_t first, std::uint64_t last) {
  REVIVE_CHECK(first <= last);
  // Insert, then merge everything that overlaps or touches [first, last].
  auto it = std::lower_bound(ranges_.begin(), ranges_.end(), Range{first, last});
  it = ranges_.insert(it, Range{first, last});
  if (it != ranges_.begin() && std::prev(it)->second + 1 >= it->first) --it;
  auto next = std::next(it);
  while (next != ranges_.end() && it->second + 1 >= next->first) {
    it->second = std::max(it->second, next->second);
    next = ranges_.erase(next);
  }
}

std::uint64_t ChunkRanges::count() const {
  std::uint64_t n = 0;
  for (const auto& [first, last] : ranges_) n += last - first + 1;
  return n;
}

std::uint64_t ChunkRanges::prefix() const {
  if (ranges_.empty() || ranges_.front().first != 0) return 0;
  return ranges_.front().second + 1;
}

bool ChunkRanges::contains(std::uint64_t chunk) const {
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), Range{chunk, UINT64_MAX});
  return it != ranges_.begin() && std::prev(it)->second >= chunk;
}

}  // namespace revive::sched
