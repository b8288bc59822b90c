#include "domain/image_uploads.hpp"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>
#include <vector>

#include "revive/bounded_json.hpp"
#include "revive/encoding.hpp"
#include "revive/file_util.hpp"
#include "revive/manifest.hpp"

namespace revive::server {

namespace {

Result<std::uint64_t> statvfs_free(const std::filesystem::path& dir) {
  struct statvfs v {};
  if (::statvfs(dir.c_str(), &v) != 0)
    return make_error(Errc::io, "statvfs " + dir.string() + ": " + std::strerror(errno));
  return static_cast<std::uint64_t>(v.f_bavail) * v.f_frsize;
}

std::string mib(std::uint64_t bytes) { return std::to_string(bytes / (1ULL << 20)) + " MiB"; }

// Whole or not at all (temp + rename), but not fsynced: this runs on the io thread, and a
// description a power cut loses only means that upload starts over (recover drops its part).
Result<void> write_description(const std::filesystem::path& path, const std::string& text) {
  const auto tmp = path.parent_path() / unique_tmp_name(path.filename().string());
  {
    REVIVE_ASSIGN(fd, open_file(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600));
    if (auto w = write_all(fd.get(), as_bytes(text), tmp.string()); !w) {
      ::unlink(tmp.c_str());
      return w.error();
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    return make_error(Errc::io, "rename " + tmp.string() + ": " + std::strerror(e));
  }
  return {};
}

}  // namespace

void ImageUploads::forget(const std::string& id) {
  auto it = uploads_.find(id);
  if (it == uploads_.end()) return;
  ::unlink(described(id).c_str());
  ::unlink(it->second.path.c_str());
  uploads_.erase(it);
}

void ImageUploads::drop_idle() {
  const Seconds now = ctx_.now();
  std::vector<std::string> idle;
  for (const auto& [id, u] : uploads_) {
    if (!u.status.importing && now - u.touched >= limits_.idle_s) idle.push_back(id);
  }
  for (const auto& id : idle) forget(id);
}

Result<std::size_t> ImageUploads::recover() {
  std::error_code ec;
  std::size_t found = 0;
  std::vector<std::filesystem::path> descriptions;
  for (std::filesystem::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string f = it->path().filename().string();
    if (f.starts_with("upload-") && f.ends_with(".json")) descriptions.push_back(it->path());
  }
  if (ec && ec != std::errc::no_such_file_or_directory)
    return make_error(Errc::io, "listing " + dir_.string() + ": " + ec.message());
  for (const auto& json_path : descriptions) {
    const std::string f = json_path.filename().string();
    const std::string id = f.substr(7, f.size() - 7 - 5);
    Upload u;
    u.path = dir_ / ("upload-" + id + ".part");
    u.touched = ctx_.now();
    auto text = read_small_file(json_path, std::size_t{64} * 1024);
    const Json j = text ? parse_json_bounded(*text) : Json();
    std::error_code size_ec;
    const auto received = std::filesystem::file_size(u.path, size_ec);
    if (!j.is_object() || !j.value("name", Json()).is_string() ||
        !j.value("size", Json()).is_number_unsigned() || size_ec ||
        received > j["size"].get<std::uint64_t>()) {
      ::unlink(json_path.c_str());
      ::unlink(u.path.c_str());
      continue;
    }
    u.status =
        UploadStatus{id, j["name"].get<std::string>(), j["size"].get<std::uint64_t>(), received};
    u.replace = j.value("replace", false);
    u.who = j.value("operator", std::string());
    uploads_[id] = std::move(u);
    ++found;
  }
  return found;
}

Result<ImageUploads::Upload*> ImageUploads::find(const std::string& id) {
  drop_idle();
  auto it = uploads_.find(id);
  if (it == uploads_.end())
    return make_error(Errc::not_found, "no upload " + id + " (finished, cancelled or dropped)");
  // `revivectl image gc` empties tmp/ (it waits for imports, not for uploads): an upload whose
  // bytes went with it is of no use, and a refused one must not be offered again.
  std::error_code ec;
  if (!it->second.status.importing && !std::filesystem::exists(it->second.path, ec)) {
    forget(id);
    return make_error(Errc::not_found, "upload " + id + "'s bytes are gone from " + dir_.string() +
                                           " (`revivectl image gc` empties it): upload again");
  }
  return &it->second;
}

Result<UploadStatus> ImageUploads::begin(const std::string& name, std::uint64_t size, bool replace,
                                         const std::string& who) {
  REVIVE_TRY(validate_image_name(name));
  if (size == 0) return make_error(Errc::invalid_input, "an image upload needs its size in bytes");
  // The import would refuse the name after the whole upload: say so before the first byte.
  if (!replace && images_.manifest(name)) {
    return make_error(Errc::already_exists, "an image named \"" + name +
                                                "\" already exists: delete it first, or choose "
                                                "another name");
  }
  drop_idle();
  if (uploads_.size() >= limits_.max_open) {
    return make_error(Errc::busy, std::to_string(uploads_.size()) +
                                      " uploads are in progress; finish or cancel one first");
  }
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  auto free = limits_.free_bytes ? limits_.free_bytes(dir_) : statvfs_free(dir_);
  if (!free) return free.error();
  if (size > *free) {
    return make_error(Errc::no_space,
                      "the image is " + mib(size) + " but the store has " + mib(*free) + " free");
  }
  Upload u;
  u.status = UploadStatus{random_hex(16), name, size, 0};
  u.replace = replace;
  u.who = who;
  u.path = dir_ / ("upload-" + u.status.id + ".part");
  u.touched = ctx_.now();
  REVIVE_TRY(open_file(u.path, O_WRONLY | O_CREAT | O_EXCL, 0600));
  // What a restarted server needs to take the upload up again.
  const Json description = {
      {"name", name}, {"size", size}, {"replace", replace}, {"operator", who}};
  if (auto w = write_description(described(u.status.id), description.dump()); !w) {
    ::unlink(u.path.c_str());
    return w.error();
  }
  auto& stored = uploads_[u.status.id] = std::move(u);
  return stored.status;
}

Result<UploadStatus> ImageUploads::status(const std::string& id) {
  REVIVE_ASSIGN(u, find(id));
  return u->status;
}

Result<UploadStatus> ImageUploads::append(const std::string& id, std::uint64_t offset,
                                          std::span<const std::byte> bytes) {
  REVIVE_ASSIGN(u, find(id));
  UploadStatus& s = u->status;
  if (offset != s.received) {
    return make_error(Errc::conflict, "upload " + id + " continues at byte " +
                                          std::to_string(s.received) + ", not " +
                                          std::to_string(offset));
  }
  if (bytes.empty()) return make_error(Errc::invalid_input, "an empty piece");
  if (bytes.size() > limits_.max_piece) {
    return make_error(Errc::invalid_input,
                      "a piece is at most " + std::to_string(limits_.max_piece) + " bytes");
  }
  if (bytes.size() > s.size - s.received) {
    return make_error(Errc::invalid_input, "the piece goes past the image's announced size (" +
                                               std::to_string(s.size) + " bytes)");
  }
  REVIVE_ASSIGN(fd, open_file(u->path, O_WRONLY));
  if (auto w = pwrite_all(fd.get(), bytes, offset, u->path.string()); !w) {
    // What the failed write left beyond the offset is not counted: the next try rewrites it.
    (void)::ftruncate(fd.get(), static_cast<off_t>(s.received));
    return w.error();
  }
  s.received += bytes.size();
  u->touched = ctx_.now();
  return s;
}

Result<std::uint64_t> ImageUploads::finish(const std::string& id, ImportChoices choices,
                                           std::function<void(std::uint64_t)> done) {
  REVIVE_ASSIGN(u, find(id));
  if (u->status.importing) return make_error(Errc::conflict, "upload " + id + " is importing");
  if (u->status.received != u->status.size) {
    return make_error(Errc::conflict, "upload " + id + " has " +
                                          std::to_string(u->status.received) + " of " +
                                          std::to_string(u->status.size) + " bytes");
  }
  u->status.importing = true;
  // The import may end before start_import returns (a runner that runs it in place): nothing
  // of `u` is used after it.
  return images_.start_import(u->path.string(),
                              {.name = u->status.name,
                               .replace = u->replace,
                               .raw = choices.raw,
                               .check_space = choices.check_space,
                               .who = u->who},
                              [this, id, done = std::move(done)](std::uint64_t job) {
                                import_ended(id, job);
                                done(job);
                              });
}

void ImageUploads::import_ended(const std::string& id, std::uint64_t job) {
  auto it = uploads_.find(id);
  if (it == uploads_.end()) return;  // not while importing: cancel and drop_idle leave it
  if (images_.published(job)) {
    forget(id);
    return;
  }
  it->second.status.importing = false;
  it->second.touched = ctx_.now();  // a day from the refusal to choose again
}

Result<void> ImageUploads::cancel(const std::string& id) {
  REVIVE_ASSIGN(u, find(id));
  if (u->status.importing) {
    return make_error(Errc::conflict,
                      "upload " + id + " is importing; it goes when its image is published");
  }
  forget(id);
  return {};
}

}  // namespace revive::server
