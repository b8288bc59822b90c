#pragma once
// Writing inside a mounted filesystem that came from an image: every path is resolved below
// `root` component by component, ".." is refused and a symlinked directory in the way is
// refused, so a hostile image cannot redirect a write outside its own filesystem.

#include <filesystem>
#include <string>
#include <string_view>

#include "revive/error.hpp"

namespace revive::agent {

/// `abs_path` (absolute, inside the image) as a path below `root`, creating missing parent
/// directories (0755). invalid_input for a relative path, "..", a symlinked or non-directory
/// parent; the errno error when a parent cannot be made.
Result<std::filesystem::path> path_inside(const std::filesystem::path& root,
                                          const std::string& abs_path);

/// Writes `content` to `abs_path` below `root` with `mode` (setuid/setgid bits masked off);
/// a symlink or special file in its place is replaced, never followed; a directory there is
/// invalid_input.
Result<void> write_inside(const std::filesystem::path& root, const std::string& abs_path,
                          std::string_view content, unsigned mode = 0644);

/// Removes `abs_path` below `root`; absent is not an error.
Result<void> remove_inside(const std::filesystem::path& root, const std::string& abs_path);

/// Makes `abs_path` below `root` a symlink to `to` (replacing what was there).
Result<void> symlink_inside(const std::filesystem::path& root, const std::string& abs_path,
                            const std::string& to);

}  // namespace revive::agent
