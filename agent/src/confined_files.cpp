#include "confined_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

#include "revive/file_util.hpp"

namespace revive::agent {

namespace fs = std::filesystem;

// Relative path below the root, refusing "..", absolute escapes and symlinked directories.
Result<fs::path> path_inside(const fs::path& root, const std::string& abs_path) {
  if (abs_path.empty() || abs_path[0] != '/')
    return make_error(Errc::invalid_input, "path " + abs_path + " is not absolute");
  fs::path cur = root;
  const fs::path rel = fs::path(abs_path).relative_path();
  std::vector<std::string> parts;
  for (const auto& c : rel) {
    const std::string s = c.string();
    if (s.empty() || s == ".") continue;
    if (s == "..")
      return make_error(Errc::invalid_input, "path " + abs_path + " climbs out with \"..\"");
    parts.push_back(s);
  }
  if (parts.empty()) return make_error(Errc::invalid_input, "path " + abs_path + " names no file");
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    cur /= parts[i];
    struct stat st {};
    if (::lstat(cur.c_str(), &st) != 0) {
      if (errno != ENOENT) return errno_error(errno, "stat " + cur.string());
      if (::mkdir(cur.c_str(), 0755) != 0) return errno_error(errno, "mkdir " + cur.string());
      continue;
    }
    if (S_ISLNK(st.st_mode))
      return make_error(Errc::invalid_input,
                        "refusing to write through the symlink " + cur.string());
    if (!S_ISDIR(st.st_mode))
      return make_error(Errc::invalid_input, cur.string() + " is not a directory");
  }
  return cur / parts.back();
}

// Writes a file below the root; a symlink in its place is replaced, never followed.
Result<void> write_inside(const fs::path& root, const std::string& abs_path,
                          std::string_view content, unsigned mode) {
  auto target = path_inside(root, abs_path);
  if (!target) return target.error();
  // parse_profile refuses setuid/setgid; the mask keeps every other caller from setting them.
  mode &= 01777u;
  struct stat st {};
  if (::lstat(target->c_str(), &st) == 0 && (S_ISLNK(st.st_mode) || !S_ISREG(st.st_mode))) {
    if (S_ISDIR(st.st_mode))
      return make_error(Errc::invalid_input, abs_path + " is a directory in the image");
    if (::unlink(target->c_str()) != 0) return errno_error(errno, "unlink " + target->string());
  }
  auto fd = open_file(*target, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
  if (!fd) return fd.error();
  REVIVE_TRY(write_all(fd->get(), as_bytes(content), target->string()));
  if (::fchmod(fd->get(), mode) != 0) return errno_error(errno, "chmod " + target->string());
  return {};
}

Result<void> remove_inside(const fs::path& root, const std::string& abs_path) {
  auto target = path_inside(root, abs_path);
  if (!target) return target.error();
  if (::unlink(target->c_str()) != 0 && errno != ENOENT)
    return errno_error(errno, "unlink " + target->string());
  return {};
}

Result<void> symlink_inside(const fs::path& root, const std::string& abs_path,
                            const std::string& to) {
  REVIVE_TRY(remove_inside(root, abs_path));
  auto target = path_inside(root, abs_path);
  if (!target) return target.error();
  if (::symlink(to.c_str(), target->c_str()) != 0)
    return errno_error(errno, "symlink " + target->string());
  return {};
}

}  // namespace revive::agent
