#include "app/state_dir.hpp"

#include <sys/stat.h>

#include <cerrno>

#include "revive/error.hpp"

namespace revive::server {

namespace fs = std::filesystem;

Result<StateDirChange> prepare_state_dir(const fs::path& dir) {
  std::error_code ec;
  const bool existed = fs::exists(dir, ec);
  if (!existed) {
    fs::create_directories(dir, ec);
    if (ec) return make_error(Errc::io, "create " + dir.string() + ": " + ec.message());
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return errno_error(errno, "stat " + dir.string());
  if (!S_ISDIR(st.st_mode)) {
    return make_error(Errc::invalid_input, dir.string() + " is not a directory");
  }
  if ((st.st_mode & 077) == 0) return existed ? StateDirChange::none : StateDirChange::created;
  if (::chmod(dir.c_str(), 0700) != 0) return errno_error(errno, "chmod 0700 " + dir.string());
  return existed ? StateDirChange::tightened : StateDirChange::created;
}

}  // namespace revive::server
