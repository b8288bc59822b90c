#include "rootfs_archive.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <memory>
#include <vector>

namespace revive::ctl {

namespace {

struct ReadCloser {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct WriteCloser {
  void operator()(archive* a) const { archive_write_free(a); }
};

Error archive_error(archive* a, const std::string& what) {
  const char* s = archive_error_string(a);
  return Error{Errc::invalid_input, what + ": " + (s ? s : "unknown libarchive error")};
}

}  // namespace

Result<void> archive_to_tar(const std::filesystem::path& archive_path,
                            const std::filesystem::path& tar) {
  const std::string src = archive_path.string();
  std::unique_ptr<archive, ReadCloser> in(archive_read_new());
  archive_read_support_filter_all(in.get());
  archive_read_support_format_all(in.get());
  if (archive_read_open_filename(in.get(), src.c_str(), 1 << 20) != ARCHIVE_OK)
    return archive_error(in.get(), "base.archive " + src);
  std::unique_ptr<archive, WriteCloser> out(archive_write_new());
  archive_write_set_format_pax_restricted(out.get());
  if (archive_write_open_filename(out.get(), tar.c_str()) != ARCHIVE_OK)
    return archive_error(out.get(), tar.string());
  std::vector<char> buf(1 << 20);
  std::size_t entries = 0;
  archive_entry* e = nullptr;
  for (;;) {
    const int r = archive_read_next_header(in.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) return archive_error(in.get(), "base.archive " + src);
    const std::string name = archive_entry_pathname(e) ? archive_entry_pathname(e) : "?";
    if (archive_write_header(out.get(), e) < ARCHIVE_WARN)
      return archive_error(out.get(), tar.string() + " (entry " + name + ")");
    for (;;) {
      const la_ssize_t n = archive_read_data(in.get(), buf.data(), buf.size());
      if (n == 0) break;
      if (n < 0) return archive_error(in.get(), "base.archive " + src + " (entry " + name + ")");
      if (archive_write_data(out.get(), buf.data(), static_cast<std::size_t>(n)) != n)
        return archive_error(out.get(), tar.string() + " (entry " + name + ")");
    }
    ++entries;
  }
  if (archive_write_close(out.get()) != ARCHIVE_OK) return archive_error(out.get(), tar.string());
  if (entries == 0)
    return make_error(Errc::invalid_input, "base.archive " + src + ": holds no files");
  return {};
}

}  // namespace revive::ctl
