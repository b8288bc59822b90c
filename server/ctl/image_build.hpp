#pragma once
// `revivectl image build RECIPE`: a recipe (recipe.hpp) into a chunked, signed image.

#include <atomic>
#include <string>

namespace revive::ctl {

struct BuildArgs {
  std::string recipe;  ///< recipe.toml or its directory
  std::string store;   ///< build into this store...
  std::string server;  ///< ...or push to this server (then token)
  std::string token;
  std::string name;       ///< image name (default: the recipe's)
  std::string deb_cache;  ///< default: $REVIVE_RECIPE_CACHE, /var/cache/revive-recipes as root,
                          ///< else $XDG_CACHE_HOME/revive-recipes
  std::string disk_out;   ///< keep the assembled raw disk here (default: removed)
  std::string work;       ///< work directory to use and keep (default: a temp dir, removed)
  std::string report;     ///< default: next to the manifest (store) or ./NAME.build.json
  bool replace = false;
  unsigned threads = 0;
  bool progress = true;
};

/// Builds, imports (or pushes) and writes the report. Prints each step; returns the exit code.
int image_build(const BuildArgs& a, const std::atomic<bool>& cancel);

}  // namespace revive::ctl
