#pragma once
// An image recipe (image-recipes/<name>/recipe.toml): what `revivectl image build` turns into a
// bootable GPT disk. Parsing only; image_build.cpp does the building.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "revive/error.hpp"

namespace revive::ctl {

struct RecipeBase {
  // Either a Debian suite fetched by mmdebstrap...
  std::string suite;            ///< e.g. "bookworm"
  std::string mirror;           ///< e.g. "http://deb.debian.org/debian"
  std::string security_mirror;  ///< empty: no security updates source
  std::vector<std::string> components{"main"};
  std::string variant = "apt";  ///< mmdebstrap --variant
  // ...or a root filesystem archive (any format libarchive reads), relative to the recipe.
  std::filesystem::path archive;
  bool from_archive() const { return !archive.empty(); }
};

struct RecipeDisk {
  std::uint64_t min_size = 0;  ///< the whole disk; the agent grows the root to the laptop's
  std::uint64_t esp_size = 128ull << 20;
  static constexpr std::uint64_t kBiosBootSize = 1ull << 20;
};

struct RecipeLocale {
  std::string lang = "C.UTF-8";        ///< LANG
  std::vector<std::string> extra;      ///< more locales to generate
  std::string keyboard_layout = "us";  ///< XKBLAYOUT
  std::string keyboard_variant;        ///< XKBVARIANT
  std::string timezone = "Etc/UTC";
};

struct RecipeFirstBoot {
  std::string name;              ///< unit-safe name, e.g. "10-welcome"
  std::filesystem::path script;  ///< absolute (resolved against the recipe's directory)
};

struct RecipeBoot {
  bool bios = true;            ///< GRUB i386-pc in the BIOS boot partition
  bool uefi = true;            ///< Debian's signed shim + GRUB on the ESP (Secure Boot stays on)
  std::string kernel_cmdline;  ///< appended to root=UUID=... ro
};

struct Recipe {
  std::filesystem::path file;  ///< the recipe.toml read
  std::filesystem::path dir;   ///< its directory: overlay and scripts are relative to it
  std::string name;
  std::string description;
  std::string hostname = "revive";
  RecipeBase base;
  RecipeDisk disk;
  std::vector<std::string> packages;
  RecipeLocale locale;
  std::filesystem::path overlay;  ///< directory copied over the root (empty: none)
  std::vector<RecipeFirstBoot> first_boot;
  RecipeBoot boot;
};

/// Reads RECIPE (a recipe.toml, or a directory holding one). Every refusal names the file and
/// the field ("recipe.toml: disk.min_size: ..."); unknown fields are refused too, so a typo
/// never builds a different image than the one reviewed.
Result<Recipe> load_recipe(const std::filesystem::path& path);

/// Parses recipe text as if read from `file` (its directory resolves overlay and scripts).
Result<Recipe> parse_recipe(std::string_view text, const std::filesystem::path& file);

}  // namespace revive::ctl
