#pragma once
// Resumable image uploads (issue 16, the images page): a browser sends a multi-GB disk image in
// pieces, each at the offset the server says it has; after a dropped connection, a reloaded
// page or a server restart it asks how far the server got and goes on from there. The finished
// file is imported by Images::start_import, the one import path `revivectl image push` uses.
// Each upload is two files in the store's tmp/: upload-ID.part (the bytes so far: its size is
// the offset) and upload-ID.json (name, size, replace, operator; written once, atomically).
// Both stay until the upload's import has published the image: an import refused (not a disk,
// too little space, the name taken) leaves the bytes, to be imported again with the option the
// refusal names or cancelled, so a multi-GB upload is not sent twice.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <span>
#include <string>

#include "domain/context.hpp"
#include "domain/images.hpp"

namespace revive::server {

/// How far an upload got.
struct UploadStatus {
  std::string id;
  std::string name;
  std::uint64_t size = 0;      ///< the whole image, as announced
  std::uint64_t received = 0;  ///< bytes stored, from the start: the next piece's offset
  bool importing = false;      ///< finished, and its import runs
};

/// What the operator asked of a finished upload's import: the images page's options, as
/// `revivectl image push --raw / --no-space-check`.
struct ImportChoices {
  bool raw = false;         ///< the bytes as they are, even if they do not look like a disk
  bool check_space = true;  ///< off: try even if the compressed estimate does not fit
};

struct UploadLimits {
  std::size_t max_open = 4;              ///< uploads in progress at once
  std::uint64_t max_piece = 8ULL << 20;  ///< one request's bytes
  Seconds idle_s = 24L * 3600;           ///< an upload untouched this long is dropped
  /// Free bytes where pieces are stored; empty: statvfs of the directory.
  std::function<Result<std::uint64_t>(const std::filesystem::path&)> free_bytes;
};

class ImageUploads {
 public:
  /// Pieces are stored in `dir` (the store's tmp/: gc clears what a crash left there).
  ImageUploads(DomainContext& ctx, Images& images, std::filesystem::path dir,
               UploadLimits limits = {})
      : ctx_(ctx), images_(images), dir_(std::move(dir)), limits_(std::move(limits)) {}
  ImageUploads(const ImageUploads&) = delete;
  ImageUploads& operator=(const ImageUploads&) = delete;

  /// Starts an upload of `size` bytes to become image `name`. invalid_input for a bad name or a
  /// size of 0, already_exists when an image has that name (unless `replace`), no_space when the
  /// directory has less free space than `size`, busy when max_open uploads are in progress (after
  /// dropping idle ones), io when the file cannot be made.
  Result<UploadStatus> begin(const std::string& name, std::uint64_t size, bool replace,
                             const std::string& who);
  /// How far the upload got; not_found for an unknown (or dropped) upload.
  Result<UploadStatus> status(const std::string& id);
  /// Stores `bytes` at `offset`. conflict (naming the offset expected) unless offset is what
  /// was received so far, invalid_input for an empty piece, one over max_piece or one past the
  /// announced size, not_found for an unknown upload, io/no_space when the write fails (the
  /// upload stays at its previous offset).
  Result<UploadStatus> append(const std::string& id, std::uint64_t offset,
                              std::span<const std::byte> bytes);
  /// Imports a complete upload (Images::start_import); the import job's id. The upload is
  /// forgotten, with its files, once the image is published; an import that fails leaves it,
  /// complete, to be finished again (with other `choices`) or cancelled. conflict while bytes
  /// are missing or its import runs, not_found for an unknown upload.
  Result<std::uint64_t> finish(const std::string& id, ImportChoices choices,
                               std::function<void(std::uint64_t)> done);
  /// Drops an upload and its file; not_found for an unknown upload, conflict while its import
  /// runs (it reads the file).
  Result<void> cancel(const std::string& id);
  /// Takes up again the uploads a previous server left in the directory (at the size of their
  /// .part file); a description that cannot be read is removed with its part (what was left is
  /// of no use without it). How many were taken up; io when the directory cannot be read.
  Result<std::size_t> recover();

 private:
  struct Upload {
    UploadStatus status;
    bool replace = false;
    std::string who;
    std::filesystem::path path;
    Seconds touched = 0;
  };
  void drop_idle();
  void forget(const std::string& id);
  /// `job`, upload `id`'s import, ended: published, the upload goes; failed, it stays.
  void import_ended(const std::string& id, std::uint64_t job);
  std::filesystem::path described(const std::string& id) const {
    return dir_ / ("upload-" + id + ".json");
  }
  Result<Upload*> find(const std::string& id);

  DomainContext& ctx_;
  Images& images_;
  std::filesystem::path dir_;
  UploadLimits limits_;
  std::map<std::string, Upload> uploads_;
};

}  // namespace revive::server
