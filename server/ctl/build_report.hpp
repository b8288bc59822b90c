#pragma once
// The build report written next to a recipe image: what went in (recipe hash, packages with
// versions), what came out (sizes), how long each step took, and how many chunks the build
// shares with the previous build of the same recipe.

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "recipe.hpp"
#include "revive/manifest.hpp"

namespace revive::ctl {

struct InstalledPackage {
  std::string name;
  std::string version;
  bool operator==(const InstalledPackage&) const = default;
};

/// The installed packages in dpkg's status file text, sorted by name.
std::vector<InstalledPackage> installed_packages(std::string_view dpkg_status);

struct ChunkReuse {
  std::string previous_image_id;  ///< empty: no previous build to compare with
  std::uint64_t data_chunks = 0;  ///< chunks with data in this build
  std::uint64_t same_chunks = 0;  ///< of those, also in the previous build
  std::uint64_t data_bytes = 0;   ///< logical bytes of the chunks with data
  std::uint64_t new_bytes = 0;    ///< of those, the bytes of the chunks that are not
  double fraction() const {
    return data_chunks ? static_cast<double>(same_chunks) / static_cast<double>(data_chunks) : 0;
  }
  /// The share of the data bytes in chunks found again: what a laptop that has the previous
  /// build need not fetch (content-defined chunks vary in size, so it differs from fraction()).
  double bytes_fraction() const {
    return data_bytes ? 1 - static_cast<double>(new_bytes) / static_cast<double>(data_bytes) : 0;
  }
};

/// Chunks of `now` whose content the previous build of the recipe also had (at any offset).
ChunkReuse chunk_reuse(const Manifest* previous, const Manifest& now);

/// SHA-256 over the recipe file and every file it brings (overlay, first-boot scripts), each
/// with its path relative to the recipe's directory, in sorted order.
Result<std::string> recipe_hash(const Recipe& r);

struct BuildStep {
  std::string name;
  double seconds = 0;
};

struct BuildFacts {
  std::string recipe_hash;
  std::string mmdebstrap_mode;
  std::vector<std::string> needs_root;  ///< steps that ran as root, and why
  std::vector<InstalledPackage> packages;
  std::vector<BuildStep> steps;
  std::uint64_t disk_size = 0;
  std::uint64_t root_used_bytes = 0;
  std::uint64_t deb_cache_files_before = 0, deb_cache_files_after = 0;
};

/// The report document (JSON): the facts, the manifest's sizes, the reuse.
nlohmann::json build_report(const Recipe& r, const BuildFacts& f, const Manifest& m,
                            const ChunkReuse& reuse);

}  // namespace revive::ctl
